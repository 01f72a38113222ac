"""SQL of the relief cases, their corrections and their payment lines (add and flush only, never commit)."""

import hashlib
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.models import CaseCorrection, PaymentLine, ReliefCase
from shared.auth import Principal


def lock_key(person_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(person_id.encode(), digest_size=8).digest(), "big", signed=True)


async def lock_persons(session: AsyncSession, person_ids: list[str]) -> None:
    """Serialise the work on these persons' cases until the transaction ends (an event, a reconciliation and civil
    affairs opening a case by hand, at once), in one statement; the locks are taken in the order of their keys, the
    same for every caller, so two transactions locking some of the same persons never wait on each other in a
    circle. SQLite's writes are serial already."""
    if not person_ids or session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted({lock_key(person_id) for person_id in person_ids})
    ordered = sa.select(sa.func.unnest(sa.cast(sa.bindparam("keys", keys), ARRAY(sa.BigInteger))).label("key"))
    ordered = ordered.order_by(sa.literal_column("key")).subquery()
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(ordered.c.key)))


def case_scope(principal: Principal) -> sa.ColumnElement[bool]:
    return principal.region_clause(ReliefCase.county_code, ReliefCase.township_code, ReliefCase.village_code)


async def get(
    session: AsyncSession, case_id: str, scope: sa.ColumnElement[bool], *, for_update: bool = False
) -> ReliefCase | None:
    query = sa.select(ReliefCase).where(ReliefCase.id == case_id, scope)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def case_of(session: AsyncSession, person_id: str, diagnosed_on: date) -> ReliefCase | None:
    return await session.scalar(
        sa.select(ReliefCase).where(ReliefCase.person_id == person_id, ReliefCase.diagnosed_on == diagnosed_on)
    )


async def open_cases_of(session: AsyncSession, person_id: str, *, for_update: bool = False) -> list[ReliefCase]:
    query = sa.select(ReliefCase).where(ReliefCase.person_id == person_id, ReliefCase.status == "open")
    if for_update:
        query = query.with_for_update()
    return list((await session.scalars(query.order_by(ReliefCase.diagnosed_on))).all())


async def confirmations_of(session: AsyncSession, person_ids: list[str]) -> set[str]:
    """The registry's confirmation events the persons' cases were opened for."""
    query = sa.select(ReliefCase.confirmation_id).where(
        ReliefCase.person_id.in_(person_ids), ReliefCase.confirmation_id.is_not(None)
    )
    return set((await session.scalars(query)).all())


async def hand_corrected(session: AsyncSession, case_ids: list[str], system: str) -> set[tuple[str, str]]:
    """(case id, field) of the dates corrected by someone other than `system`."""
    if not case_ids:
        return set()
    rows = await session.execute(
        sa.select(CaseCorrection.case_id, CaseCorrection.field)
        .where(CaseCorrection.case_id.in_(case_ids), CaseCorrection.corrected_by != system)
        .distinct()
    )
    return {(row.case_id, row.field) for row in rows}


async def list_cases(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    status: str | None,
    unit_code: str | None,
    person_id: str | None,
    household_id: str | None,
    updated_since: datetime | None,
    before_id: str | None,
    limit: int,
) -> list[ReliefCase]:
    query = sa.select(ReliefCase).where(scope).order_by(ReliefCase.id.desc()).limit(limit)
    for column, value in (
        (ReliefCase.status, status),
        (ReliefCase.unit_code, unit_code),
        (ReliefCase.person_id, person_id),
        (ReliefCase.household_id, household_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if updated_since is not None:
        query = query.where(ReliefCase.updated_at > updated_since)
    if before_id is not None:
        query = query.where(ReliefCase.id < before_id)
    return list((await session.scalars(query)).all())


async def corrections_of(session: AsyncSession, case_id: str) -> list[CaseCorrection]:
    rows = await session.scalars(
        sa.select(CaseCorrection).where(CaseCorrection.case_id == case_id).order_by(CaseCorrection.id)
    )
    return list(rows.all())


async def lines_of(session: AsyncSession, case_id: str) -> list[PaymentLine]:
    rows = await session.scalars(
        sa.select(PaymentLine).where(PaymentLine.case_id == case_id).order_by(PaymentLine.period_no, PaymentLine.id)
    )
    return list(rows.all())


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()
