"""Import jobs whose process died are ended as failed by the sweep; live ones are kept alive by their heartbeat."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from services.registry.imports import runner, sweep
from services.registry.imports.run import run_import
from services.registry.imports.schemas import ImportMode, ImportStatus
from services.registry.imports.service import cli_principal, imports_dir, new_job
from services.registry.models import ImportJob
from shared.db import utcnow
from tests.support.callers import CITY_ADMIN
from tests.support.registry import audit_entries

IMPORTS = "/api/v1/registry/imports"


async def a_job(registry, status: str, *, idle: timedelta) -> str:
    """A job of CITY_ADMIN's in `status`, last touched `idle` ago."""
    async with registry.app.state.session_factory() as session:
        job = await new_job(
            session, cli_principal(CITY_ADMIN.subject), file_name="x.csv", file_format="csv", file_size=1,
            mode=ImportMode.all,
        )  # fmt: skip
        job_id = job.id
        await session.execute(
            sa.update(ImportJob).where(ImportJob.id == job_id).values(status=status, updated_at=utcnow() - idle)
        )
        await session.commit()
    return job_id


async def stored(registry, job_id: str) -> dict:
    response = await registry.get(f"{IMPORTS}/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_job_left_untouched_past_the_limit_ends_failed_and_is_audited(registry):
    jobs = {s: await a_job(registry, s, idle=timedelta(minutes=6)) for s in ("queued", "validating", "importing")}
    ended = await sweep.sweep(registry.app.state.session_factory)
    assert sorted(ended) == sorted(jobs.values())
    for status, job_id in jobs.items():
        job = await stored(registry, job_id)
        assert (job["status"], job["message"]) == ("failed", sweep.INTERRUPTED)
        assert job["finished_at"]
        [entry] = await audit_entries(registry, entity_id=job_id, action="imports.interrupted")
        assert entry["actor"] == sweep.SWEEPER.subject
        assert entry["changes"] == {"status": [status, "failed"]}


async def test_a_job_touched_within_the_limit_is_kept(registry):
    job_id = await a_job(registry, "validating", idle=timedelta(minutes=4, seconds=59))
    assert await sweep.sweep(registry.app.state.session_factory) == []
    assert (await stored(registry, job_id))["status"] == "validating"


async def test_an_ended_job_is_never_swept(registry):
    done = await a_job(registry, "done", idle=timedelta(days=3))
    failed = await a_job(registry, "failed", idle=timedelta(days=3))
    assert await sweep.sweep(registry.app.state.session_factory) == []
    assert (await stored(registry, done))["status"] == "done"
    assert (await audit_entries(registry, entity_id=failed, action="imports.interrupted")) == []


async def test_a_heartbeat_keeps_a_job_from_the_sweep(registry):
    job_id = await a_job(registry, "importing", idle=timedelta(minutes=10))
    await sweep.touch(registry.app.state.session_factory, job_id)
    assert await sweep.sweep(registry.app.state.session_factory) == []
    assert (await stored(registry, job_id))["status"] == "importing"


async def test_a_touch_does_not_bring_an_ended_job_back(registry):
    job_id = await a_job(registry, "failed", idle=timedelta(minutes=10))
    await sweep.touch(registry.app.state.session_factory, job_id)
    async with registry.app.state.session_factory() as session:
        job = await session.get(ImportJob, job_id)
        assert job.updated_at < utcnow() - timedelta(minutes=9)


async def test_a_queued_import_beats_while_it_waits_its_turn(registry, monkeypatch):
    job_id = await a_job(registry, "queued", idle=timedelta(minutes=10))
    sessions = registry.app.state.session_factory
    beaten = asyncio.Event()
    real_touch = sweep.touch

    async def first_touch(sessions_, beaten_id):
        # the test's sessions share one connection: one beat, then none while the import itself runs
        monkeypatch.setattr(sweep, "HEARTBEAT_S", 3600)
        await real_touch(sessions_, beaten_id)
        beaten.set()

    monkeypatch.setattr(sweep, "HEARTBEAT_S", 0.01)
    monkeypatch.setattr(sweep, "touch", first_touch)
    source = imports_dir() / job_id
    source.write_bytes(b"")
    turn = asyncio.Lock()
    await turn.acquire()  # another import runs: this one stays queued
    task = asyncio.create_task(
        run_import(job_id, sessions=sessions, cipher=registry.app.state.cipher, source=source, turn=turn)
    )
    try:
        await asyncio.wait_for(beaten.wait(), 5)
        async with sessions() as session:
            job = await session.get(ImportJob, job_id)
            assert job.status == ImportStatus.queued
            assert job.updated_at > utcnow() - timedelta(minutes=1)
        assert await sweep.sweep(sessions) == []
    finally:
        turn.release()
        await task
        source.unlink(missing_ok=True)
    assert (await stored(registry, job_id))["status"] == "failed"  # the empty file: ended by its own process


async def test_the_sweeper_deletes_the_upload_of_an_ended_job_on_this_replica(registry, monkeypatch):
    job_id = await a_job(registry, "validating", idle=timedelta(minutes=6))
    upload = imports_dir() / job_id
    upload.write_bytes(b"household_no\n")

    app = SimpleNamespace(state=SimpleNamespace(db=SimpleNamespace(sessions=registry.app.state.session_factory)))
    start, stop = runner.sweeper_hooks(every_s=3600)
    await start(app)
    try:
        for _ in range(200):
            if not upload.exists():
                break
            await asyncio.sleep(0.01)
    finally:
        await stop(app)
    assert not upload.exists()
    assert (await stored(registry, job_id))["status"] == "failed"


async def test_no_sweeper_runs_when_its_interval_is_zero():
    app = SimpleNamespace(state=SimpleNamespace())
    start, stop = runner.sweeper_hooks(every_s=0)
    await start(app)
    assert app.state.import_sweeper is None
    await stop(app)
