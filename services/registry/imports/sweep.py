"""Jobs whose process died: a running job's row is touched every HEARTBEAT_S; one left untouched for STALE_AFTER
is ended as failed by a sweep that every registry replica runs (runner.sweeper_hooks).

Its data needs no clean-up: a job writes its households in one transaction, which a dead process never committed.
"""

import asyncio
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.imports import repository
from services.registry.imports.schemas import FINISHED, ImportStatus
from services.registry.models import plumbing
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import utcnow

log = logging.getLogger("fupin.registry.imports")

HEARTBEAT_S = 30.0
STALE_AFTER = timedelta(minutes=5)
INTERRUPTED = "导入中断（处理该任务的服务已停止），未导入任何数据，请重新导入"
RUNNING = tuple(s.value for s in ImportStatus if s not in FINISHED)
SWEEPER = Principal(subject="system:imports-sweep", kind="client", roles=(), regions=())

Sessions = async_sessionmaker[AsyncSession]


async def touch(sessions: Sessions, job_id: str) -> None:
    """Mark the job alive (its updated_at), unless it has ended."""
    async with sessions() as session:
        await repository.touch_job(session, job_id, RUNNING)
        await session.commit()


async def heartbeat(sessions: Sessions, job_id: str) -> None:
    """`touch` the job every HEARTBEAT_S until cancelled; a failed touch (a database busy with the import's own
    writes, on SQLite) is tried again at the next beat."""
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        try:
            await touch(sessions, job_id)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("import %s: heartbeat not stored: %s", job_id, exc)


async def sweep(sessions: Sessions, *, now: datetime | None = None, stale_after: timedelta = STALE_AFTER) -> list[str]:
    """End every running job not touched for `stale_after` as failed, with an audit row each; their ids."""
    now = now or utcnow()
    async with sessions() as session:
        stale = await repository.stale_jobs(session, RUNNING, now - stale_after)
        ended = []
        trail = AuditTrail.outside_request(session, plumbing.audit_log)
        for job_id, county_code, status in stale:
            ended_now = await repository.fail_stale_job(
                session, job_id, status, now - stale_after, failed=ImportStatus.failed, message=INTERRUPTED, now=now
            )
            if ended_now:  # not ended or touched meanwhile by its own process or another replica
                ended.append(job_id)
                await trail.record(
                    SWEEPER, action="imports.interrupted", entity="import_job", entity_id=job_id,
                    county_code=county_code, changes={"status": [status, ImportStatus.failed]},
                )  # fmt: skip
        await session.commit()
    for job_id in ended:
        log.warning("import %s ended as failed: its process stopped while it ran", job_id)
    return ended
