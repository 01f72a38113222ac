"""What every request pays for: no thread hop, a read that never queues for SQLite's write lock and may not write,
the audit of unmasked reads written in groups once the read's transaction has ended, and no ping of a PostgreSQL
connection in steady use (one that sat idle is pinged and, when dead, replaced)."""

import asyncio
import inspect
import subprocess
import sys
from types import SimpleNamespace

import asyncpg
import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

import shared.db
from services.catalog import ALL, load
from shared.audit import AuditWriter
from shared.db import Database, ReadOnlyViolation, is_sqlite
from shared.ids import uuid7
from tests.support.callers import CITY_ADMIN, Api
from tests.support.database import BACKEND
from tests.support.registry import audit_entries, make_household


def _is_async(call) -> bool:
    function = call if inspect.isfunction(call) or inspect.ismethod(call) else getattr(call, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function)


def _sync_dependencies(dependant, path: str) -> list[str]:
    found = []
    for dependency in dependant.dependencies:
        if dependency.call is not None and not _is_async(dependency.call):
            found.append(f"{path}: {getattr(dependency.call, '__qualname__', dependency.call)}")
        found += _sync_dependencies(dependency, path)
    return found


@pytest.mark.parametrize("entry", ALL, ids=[entry.name for entry in ALL])
def test_no_route_runs_in_a_thread(entry):
    """FastAPI runs a plain function or a class, as an endpoint or a dependency, in a worker thread: a thread hop
    on every request. Every one of ours is async."""
    app = load(entry.app)()
    sync = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            if not _is_async(route.endpoint):
                sync.append(f"{route.path}: the endpoint {route.endpoint.__qualname__}")
            sync += _sync_dependencies(route.dependant, route.path)
    assert not sync, "\n".join(sorted(set(sync)))


async def test_a_read_does_not_wait_for_a_writer(registry_app, token_for):
    """A transaction holding SQLite's write lock (an import, a long write) does not hold up reads."""
    api = Api(registry_app, token_for)
    async with registry_app.state.db.engine.connect() as writer:
        await writer.begin()  # on SQLite BEGIN IMMEDIATE: the write lock is held from here
        audit = registry_app.state.db.tables.audit_log
        await writer.execute(audit.delete().where(audit.c.id == "none"))
        try:
            answer = await asyncio.wait_for(api.get("/api/v1/registry/regions/500230"), 5)
        finally:
            await writer.rollback()
    await api.http.aclose()
    assert answer.status_code == 200, answer.text


async def test_a_readers_session_may_not_write(registry_app):
    from services.registry.models import Region

    db: Database = registry_app.state.db
    audit = db.tables.audit_log
    async with db.readers() as session:
        assert (await session.execute(sa.select(sa.func.count()).select_from(audit))).scalar() >= 0
        with pytest.raises(ReadOnlyViolation):
            await session.execute(audit.delete().where(audit.c.id == "none"))
        session.add(Region(code="500230999998", name="x", level="village", parent_code="500230999"))
        with pytest.raises(ReadOnlyViolation):
            await session.flush()


def _row(actor: str) -> dict:
    return {
        "id": uuid7(), "at": shared.db.utcnow(), "actor": actor, "actor_roles": [], "request_id": None,
        "action": "pii.read", "entity": "household", "entity_id": None, "county_code": None, "changes": {},
    }  # fmt: skip


class CountedSessions:
    """The app's sessions, counting the transactions begun."""

    def __init__(self, sessions):
        self.sessions, self.begun = sessions, 0

    def begin(self):
        self.begun += 1
        return self.sessions.begin()


async def test_audit_rows_of_reads_are_written_in_groups(registry_app):
    db: Database = registry_app.state.db
    audit = db.tables.audit_log
    counted = CountedSessions(db.sessions)
    app = SimpleNamespace(state=SimpleNamespace(db=db, session_factory=counted))
    writer = AuditWriter.of(app)
    actor = f"grouped-{uuid7()}"
    try:
        await asyncio.gather(*(writer.write([_row(actor), _row(actor)]) for _ in range(20)))
        async with db.sessions() as session:
            written = await session.scalar(sa.select(sa.func.count()).where(audit.c.actor == actor))
        assert written == 40  # every read's rows, each before its write() returned
        assert counted.begun < 20  # in groups: the reads that came while one group was written went together
    finally:
        async with db.sessions.begin() as session:
            await session.execute(audit.delete().where(audit.c.actor == actor))


async def test_a_failed_group_fails_every_read_in_it(registry_app):
    db: Database = registry_app.state.db
    app = SimpleNamespace(state=SimpleNamespace(db=db, session_factory=db.sessions))
    writer = AuditWriter.of(app)
    broken = _row("broken")
    results = await asyncio.gather(
        writer.write([_row("broken")]),
        writer.write([broken, dict(broken)]),  # the same id twice: the group's insert fails
        writer.write([_row("broken")]),
        return_exceptions=True,
    )
    assert all(isinstance(result, Exception) for result in results[1:])  # the first may have gone alone
    async with db.sessions() as session:
        audit = db.tables.audit_log
        kept = await session.scalar(sa.select(sa.func.count()).where(audit.c.actor == "broken"))
    async with db.sessions.begin() as session:
        await session.execute(audit.delete().where(audit.c.actor == "broken"))
    assert kept == (0 if isinstance(results[0], Exception) else 1)


async def test_an_audited_read_leaves_its_row(registry):
    """Through the app: the household a pii:read caller reads is audited, with the read's request id."""
    created = await make_household(registry, "500230101201")
    answer = await registry.get(f"/api/v1/registry/households/{created['id']}", CITY_ADMIN)
    assert answer.status_code == 200
    rows = await audit_entries(registry, entity_id=created["id"], action="pii.read")
    assert answer.headers["x-request-id"] in [row["request_id"] for row in rows]


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL connections only")
async def test_a_postgres_connection_is_pinged_only_after_sitting_idle(databases, monkeypatch):
    url = await databases.create("pings")
    assert not is_sqlite(url)
    db = Database(url, SimpleNamespace())
    pings = []
    ping = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda connection: pings.append(1) or ping(connection))
    try:
        for _ in range(5):
            async with db.sessions() as session:
                await session.execute(sa.text("SELECT 1"))
        assert pings == []  # in steady use: no round trip before the request's own
        async with db.engine.connect() as conn:
            backend = await conn.scalar(sa.text("SELECT pg_backend_pid()"))
        other = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:  # the server drops the pooled connection, as a restart or a failover would
            await other.execute("SELECT pg_terminate_backend($1)", backend)
        finally:
            await other.close()
        monkeypatch.setattr(shared.db, "PING_AFTER_IDLE_S", 0.0)  # every connection counts as idle from now
        async with db.sessions() as session:  # the dead one is pinged, found dead and replaced: no error
            assert await session.scalar(sa.text("SELECT pg_backend_pid()")) != backend
        assert pings
    finally:
        await db.dispose()


async def test_a_memo_reads_once_a_session_and_forgets_what_the_session_writes():
    from shared.db import forget, memo

    session = SimpleNamespace(info={})
    loads: list[str] = []

    async def load(what: str) -> str:
        loads.append(what)
        return f"{what} #{len(loads)}"

    assert await memo(session, ("standards", "500230"), lambda: load("standards")) == "standards #1"
    assert await memo(session, ("standards", "500230"), lambda: load("standards")) == "standards #1"
    assert await memo(session, ("parameters", "k"), lambda: load("parameters")) == "parameters #2"
    forget(session, "standards")
    assert await memo(session, ("standards", "500230"), lambda: load("standards")) == "standards #3"
    assert await memo(session, ("parameters", "k"), lambda: load("parameters")) == "parameters #2"
    assert await memo(SimpleNamespace(info={}), ("parameters", "k"), lambda: load("parameters")) == "parameters #4"


# Loaded only by what uses them (an export, a command line), never by a service at start: megabytes each.
NOT_AT_START = ("rich", "pygments", "typer", "openpyxl")


@pytest.mark.parametrize("entry", ALL, ids=[entry.name for entry in ALL])
def test_a_service_starts_without_what_it_does_not_use(entry):
    module = entry.app.split(":")[0]
    probe = f"import sys, {module}; print(' '.join(m for m in {NOT_AT_START!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], f"{module} loads {loaded} at import"
