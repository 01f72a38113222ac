"""SQL for the imports: the job rows (their state, the heartbeat, the sweep, the listing) and the look-ups of the
rows' villages, ID numbers and household numbers. The households and persons themselves are written by load.py
(COPY on PostgreSQL, batched inserts on SQLite)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import ImportJob, Region
from shared.db import utcnow

# --- the job rows ----------------------------------------------------------------------------------------------


async def get_job(session: AsyncSession, job_id: str) -> ImportJob | None:
    return await session.get(ImportJob, job_id)


async def add_job(session: AsyncSession, job: ImportJob) -> None:
    session.add(job)
    await session.flush()


async def update_job(session: AsyncSession, job_id: str, values: dict[str, Any]) -> None:
    """Set the job's columns to `values`, and its updated_at to now."""
    await session.execute(sa.update(ImportJob).where(ImportJob.id == job_id).values(**values, updated_at=utcnow()))


async def touch_job(session: AsyncSession, job_id: str, statuses: Sequence[str]) -> None:
    """Set the job's updated_at to now, if its status is one of `statuses`."""
    await session.execute(
        sa.update(ImportJob).where(ImportJob.id == job_id, ImportJob.status.in_(statuses)).values(updated_at=utcnow())
    )


async def stale_jobs(session: AsyncSession, statuses: Sequence[str], untouched_since: datetime) -> Sequence[sa.Row]:
    """(id, county_code, status) of the jobs in one of `statuses` last touched before `untouched_since`."""
    return (
        await session.execute(
            sa.select(ImportJob.id, ImportJob.county_code, ImportJob.status).where(
                ImportJob.status.in_(statuses), ImportJob.updated_at < untouched_since
            )
        )
    ).all()


async def fail_stale_job(
    session: AsyncSession,
    job_id: str,
    status: str,
    untouched_since: datetime,
    *,
    failed: str,
    message: str,
    now: datetime,
) -> int:
    """End the job as `failed` with `message` if it is still in `status` and untouched since `untouched_since`;
    the number of rows ended (0: ended or touched meanwhile)."""
    result = await session.execute(
        sa.update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status == status, ImportJob.updated_at < untouched_since)
        .values(status=failed, message=message, finished_at=now, updated_at=now)
    )
    return result.rowcount


async def jobs_created_by(
    session: AsyncSession, subject: str, *, limit: int, before_id: str | None, updated_since: datetime | None
) -> list[ImportJob]:
    """The subject's jobs, newest first, at most `limit`; those before `before_id`, or updated after
    `updated_since`, when given."""
    query = sa.select(ImportJob).where(ImportJob.created_by == subject).order_by(ImportJob.id.desc()).limit(limit)
    if before_id:
        query = query.where(ImportJob.id < before_id)
    if updated_since:
        query = query.where(ImportJob.updated_at > updated_since)
    return list((await session.scalars(query)).all())


# --- the look-ups of an import's rows --------------------------------------------------------------------------


async def villages(session: AsyncSession, codes: list[str]) -> Sequence[Region]:
    """The villages among `codes`."""
    return (await session.scalars(sa.select(Region).where(Region.code.in_(codes), Region.level == "village"))).all()


async def existing_joined(session: AsyncSession, column: sa.ColumnElement[str], values: list[str]) -> list[str]:
    """The values already in `column`, on PostgreSQL: the values as ONE text parameter, split by the database and
    joined to the column's index.

    An array parameter costs asyncpg two abstract-class checks a value on the event loop (measured: a quarter of a
    second an import of 100,000 rows); a plain `column = ANY($1)` turns into a sequential scan once its plan is
    cached from a time the table was empty, and the table grows while an import writes (10 s a look-up instead of
    10 ms).
    """
    given = (
        sa.func.unnest(sa.func.string_to_array(sa.bindparam("values", ",".join(values), type_=sa.Text), ","))
        .table_valued("value")
        .render_derived()
    )
    query = sa.select(column).select_from(given).join(column.table, column == given.c.value)
    return list((await session.scalars(query)).all())


async def existing_in(session: AsyncSession, column: sa.ColumnElement[str], values: list[str]) -> Sequence[str]:
    """The values already in `column`, as an IN list."""
    return (await session.scalars(sa.select(column).where(column.in_(values)))).all()
