"""SQL for health events, isolation check-ins, the care-overdue watch, status changes and dibao referrals."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from services.registry.models import (
    Contact,
    DibaoReferral,
    HealthEvent,
    Household,
    IsolationCheckin,
    Person,
    Region,
    StatusChange,
)
from services.registry.scope import paired_household_ids
from shared.auth import Principal

# Contact kinds that count as caring for a patient's household (measure 1: 慰问、心理疏导).
CARE_KINDS = ("care", "counselling")


class shanghai_date(FunctionElement):
    """The calendar date in Asia/Shanghai of a stored (UTC) timestamp."""

    type = sa.Date()
    name = "shanghai_date"
    inherit_cache = True


@compiles(shanghai_date, "postgresql")
def _shanghai_date_postgresql(element: shanghai_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('Asia/Shanghai', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(shanghai_date, "sqlite")
def _shanghai_date_sqlite(element: shanghai_date, compiler: Any, **kw: Any) -> str:
    # China has kept UTC+8 all year since 1991, so a fixed offset is exact for every date the registry holds.
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


def event_scope(principal: Principal) -> sa.ColumnElement[bool]:
    """Health events in the caller's regions, read through their own county/township/village columns."""
    if principal.is_cadre_only:
        return HealthEvent.household_id.in_(paired_household_ids(principal))
    return principal.region_clause(HealthEvent.county_code, HealthEvent.township_code, HealthEvent.village_code)


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()


# --- health events --------------------------------------------------------------------------------------------------


async def person_for_update(
    session: AsyncSession, person_id: str, scope: sa.ColumnElement[bool]
) -> tuple[Person, Household] | None:
    """The person with their household, the person's row locked so two events for one person queue up."""
    query = (
        sa.select(Person, Household)
        .join(Household, Household.id == Person.household_id)
        .where(Person.id == person_id, scope)
        .with_for_update(of=Person)
    )
    row = (await session.execute(query)).first()
    return (row[0], row[1]) if row else None


async def last_event(session: AsyncSession, person_id: str) -> HealthEvent | None:
    query = (
        sa.select(HealthEvent)
        .where(HealthEvent.person_id == person_id)
        .order_by(HealthEvent.occurred_on.desc(), HealthEvent.id.desc())
        .limit(1)
    )
    return await session.scalar(query)


async def events_of(session: AsyncSession, person_id: str) -> Sequence[HealthEvent]:
    query = (
        sa.select(HealthEvent)
        .where(HealthEvent.person_id == person_id)
        .order_by(HealthEvent.occurred_on, HealthEvent.id)
    )
    return (await session.scalars(query)).all()


async def events_of_persons(session: AsyncSession, person_ids: list[str]) -> Sequence[HealthEvent]:
    query = (
        sa.select(HealthEvent)
        .where(HealthEvent.person_id.in_(person_ids))
        .order_by(HealthEvent.person_id, HealthEvent.occurred_on, HealthEvent.id)
    )
    return (await session.scalars(query)).all()


async def list_events(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    region: sa.ColumnElement[bool] | None,
    kind: str | None,
    occurred_from: date | None,
    occurred_to: date | None,
    created_since: datetime | None,
    before_id: str | None,
    limit: int,
) -> Sequence[tuple[HealthEvent, str]]:
    query = (
        sa.select(HealthEvent, Person.name)
        .join(Person, Person.id == HealthEvent.person_id)
        .where(scope)
        .order_by(HealthEvent.id.desc())
        .limit(limit)
    )
    if region is not None:
        query = query.where(region)
    if kind:
        query = query.where(HealthEvent.kind == kind)
    if occurred_from:
        query = query.where(HealthEvent.occurred_on >= occurred_from)
    if occurred_to:
        query = query.where(HealthEvent.occurred_on <= occurred_to)
    if created_since:
        query = query.where(HealthEvent.created_at > created_since)
    if before_id:
        query = query.where(HealthEvent.id < before_id)
    return [(event, name) for event, name in (await session.execute(query)).all()]


# --- care overdue ---------------------------------------------------------------------------------------------------


_CARE_ROW = (
    HealthEvent.id.label("health_event_id"), HealthEvent.occurred_on.label("diagnosed_on"),
    Household.id.label("household_id"), Household.household_no, Household.head_name, Household.county_code,
    Household.township_code, Household.village_code, Region.name.label("village_name"),
    Person.id.label("person_id"), Person.name.label("person_name"),
)  # fmt: skip


async def confirmation_dates(session: AsyncSession, *, scope: sa.ColumnElement[bool], as_of: date) -> list[date]:
    """The distinct diagnosis dates up to `as_of` of the confirmations in scope."""
    query = (
        sa.select(HealthEvent.occurred_on)
        .distinct()
        .join(Household, Household.id == HealthEvent.household_id)
        .where(HealthEvent.kind == "confirmed", HealthEvent.occurred_on <= as_of, scope)
    )
    return list((await session.scalars(query)).all())


async def uncared_confirmations(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    diagnosed_on: list[date],
    as_of: date,
    after: tuple[date, str] | None,
    limit: int,
) -> Sequence[sa.Row]:
    """Confirmations on the given dates whose household had no care or counselling contact dated (in Asia/Shanghai)
    from the diagnosis date to `as_of`, oldest diagnosis first."""
    cared = sa.exists().where(
        Contact.household_id == HealthEvent.household_id,
        Contact.kind.in_(CARE_KINDS),
        shanghai_date(Contact.contacted_at).between(HealthEvent.occurred_on, as_of),
    )
    query = (
        sa.select(*_CARE_ROW)
        .join(Person, Person.id == HealthEvent.person_id)
        .join(Household, Household.id == HealthEvent.household_id)
        .outerjoin(Region, Region.code == Household.village_code)
        .where(HealthEvent.kind == "confirmed", HealthEvent.occurred_on.in_(diagnosed_on), ~cared, scope)
        .order_by(HealthEvent.occurred_on, HealthEvent.id)
        .limit(limit)
    )
    if after is not None:
        on, last_id = after
        query = query.where(
            sa.or_(HealthEvent.occurred_on > on, sa.and_(HealthEvent.occurred_on == on, HealthEvent.id > last_id))
        )
    return (await session.execute(query)).all()


# --- 返贫 and dibao referrals ---------------------------------------------------------------------------------------


async def household_for_update(
    session: AsyncSession, household_id: str, scope: sa.ColumnElement[bool]
) -> Household | None:
    query = sa.select(Household).where(Household.id == household_id, scope).with_for_update()
    return await session.scalar(query)


async def status_changes_of(session: AsyncSession, household_id: str) -> Sequence[StatusChange]:
    query = (
        sa.select(StatusChange)
        .where(StatusChange.household_id == household_id)
        .order_by(StatusChange.changed_on, StatusChange.id)
    )
    return (await session.scalars(query)).all()


ReferralRow = tuple[DibaoReferral, Household]


def _referrals() -> sa.Select:
    return sa.select(DibaoReferral, Household).join(Household, Household.id == DibaoReferral.household_id)


async def referral_for_update(
    session: AsyncSession, referral_id: str, scope: sa.ColumnElement[bool]
) -> ReferralRow | None:
    """The referral with its household, both locked: a decision is taken once, and may set the dibao flag."""
    row = (await session.execute(_referrals().where(DibaoReferral.id == referral_id, scope).with_for_update())).first()
    return (row[0], row[1]) if row else None


async def pending_referral_exists(session: AsyncSession, household_id: str) -> bool:
    query = sa.select(sa.exists().where(DibaoReferral.household_id == household_id, DibaoReferral.decision.is_(None)))
    return await session.scalar(query) or False


async def list_referrals(
    session: AsyncSession,
    *,
    scope: sa.ColumnElement[bool],
    household_id: str | None = None,
    decision: str | None = None,
    updated_since: datetime | None = None,
    before_id: str | None = None,
    limit: int | None = None,
) -> list[ReferralRow]:
    query = _referrals().where(scope).order_by(DibaoReferral.id.desc())
    if household_id is not None:
        query = query.where(DibaoReferral.household_id == household_id)
    if decision == "pending":
        query = query.where(DibaoReferral.decision.is_(None))
    elif decision is not None:
        query = query.where(DibaoReferral.decision == decision)
    if updated_since is not None:
        query = query.where(DibaoReferral.updated_at > updated_since)
    if before_id is not None:
        query = query.where(DibaoReferral.id < before_id)
    if limit is not None:
        query = query.limit(limit)
    return [(referral, household) for referral, household in (await session.execute(query)).all()]


async def checkin_exists(session: AsyncSession, person_id: str, on: date) -> bool:
    query = sa.select(sa.exists().where(IsolationCheckin.person_id == person_id, IsolationCheckin.checked_on == on))
    return await session.scalar(query) or False
