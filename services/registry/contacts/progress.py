"""The five ones' own table, kept current and read: per pairing and campaign window start, the first time each item was done on or after
that start (table `five_ones_progress`), so that a roll-up counts pairing rows instead of reading the contact log.

What counts is the RULE of fiveones.py, written here once: `CONTACT_ITEMS` says which contacts by the pairing's own
cadre count for which item, `RECORD_ITEMS` which records count for the household whoever made them. An item is
done as of a day when its first time on or after the window start is on or before that day (and within the
window's end): fiveones.py asks exactly that.

A window start's rows are built the first time a report asks for it (`ensure`), from the records, in one statement;
from then on every new pairing, ended pairing, contact, needs survey and income plan updates them in its own
transaction. On PostgreSQL a build holds an exclusive advisory lock and every update a shared one, so no record can
slip between a build's reading and its rows being seen by updates; SQLite has one writer at a time.
"""

import logging
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.contacts.repository import Period, day_end, day_start
from services.registry.contacts.schemas import FiveOnesItem
from services.registry.models import (
    Cadre,
    Contact,
    FiveOnesProgress,
    FiveOnesWindow,
    Household,
    IncomePlan,
    NeedsSurvey,
    Pairing,
)
from services.registry.parameters.service import five_ones_window
from shared.app import task_hooks
from shared.dates import today
from shared.db import utcnow

log = logging.getLogger("fupin.registry.five_ones")

# (progress column, Contact attribute, value): a contact by the pairing's cadre whose attribute has the value
CONTACT_ITEMS = (
    ("phone_call", "channel", "phone"),
    ("prevention_education", "kind", "prevention_education"),
    ("supplies_help", "kind", "supplies_help"),
    ("needs_contact", "kind", "needs_survey"),
    ("plan_contact", "kind", "income_plan"),
)
# a record of the household, by anyone: (progress column, its date attribute)
RECORD_ITEMS: dict[type, tuple[str, str]] = {
    NeedsSurvey: ("needs_record", "surveyed_on"),
    IncomePlan: ("plan_record", "planned_on"),
}
_LOCK = 0x5F1_0E5  # the advisory lock of five_ones_progress (any constant of this database's own)

P = FiveOnesProgress
COLUMNS = [
    "window_start", "pairing_id", "cadre_id", "household_id", "county_code", "township_code", "village_code",
    "start_date", "active", *(column for column, _, _ in CONTACT_ITEMS), *(c for c, _ in RECORD_ITEMS.values()),
]  # fmt: skip


def done_as_of(last: date) -> dict[FiveOnesItem, sa.ColumnElement[bool]]:
    """Whether each item is done on or before `last` (the window's days, cut at the as-of date, Asia/Shanghai)."""
    end = day_end(last)

    def contact(column: str) -> sa.ColumnElement[bool]:
        first = getattr(P, column)
        return first.is_not(None) if end is None else first < end

    def record(column: str) -> sa.ColumnElement[bool]:
        return getattr(P, column) <= last

    return {
        FiveOnesItem.phone_call: contact("phone_call"),
        FiveOnesItem.prevention_education: contact("prevention_education"),
        FiveOnesItem.supplies_help: contact("supplies_help"),
        FiveOnesItem.needs_survey: sa.or_(record("needs_record"), contact("needs_contact")),
        FiveOnesItem.income_plan: sa.or_(record("plan_record"), contact("plan_contact")),
    }


async def _lock(session: AsyncSession, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        take = sa.func.pg_advisory_xact_lock if exclusive else sa.func.pg_advisory_xact_lock_shared
        await session.execute(sa.select(take(_LOCK)))


async def _built(session: AsyncSession) -> list[date]:
    return list((await session.scalars(sa.select(FiveOnesWindow.window_start))).all())


def _rows(start: date, *pairings: sa.ColumnElement[bool]) -> sa.Select:
    """The progress rows of the pairings matching `pairings` (all when none) for the window from `start`."""

    def narrow(model: Any) -> list[sa.ColumnElement[bool]]:  # the records of those pairings' households only
        return [model.household_id.in_(sa.select(Pairing.household_id).where(*pairings))] if pairings else []

    contacts = (
        sa.select(
            Contact.household_id,
            Contact.cadre_id,
            *(
                sa.func.min(sa.case((getattr(Contact, attribute) == value, Contact.contacted_at))).label(column)
                for column, attribute, value in CONTACT_ITEMS
            ),
        )
        .where(Contact.contacted_at >= day_start(start), Contact.cadre_id.is_not(None), *narrow(Contact))
        .group_by(Contact.household_id, Contact.cadre_id)
        .subquery("c")
    )
    firsts = {
        column: sa.select(model.household_id, sa.func.min(getattr(model, on)).label("first"))
        .where(getattr(model, on) >= start, *narrow(model))
        .group_by(model.household_id)
        .subquery(column)
        for model, (column, on) in RECORD_ITEMS.items()
    }
    joined = sa.join(Pairing, Household, Household.id == Pairing.household_id).outerjoin(
        contacts, sa.and_(contacts.c.household_id == Pairing.household_id, contacts.c.cadre_id == Pairing.cadre_id)
    )
    for first in firsts.values():
        joined = joined.outerjoin(first, first.c.household_id == Pairing.household_id)
    return (
        sa.select(
            sa.literal(start, sa.Date),
            Pairing.id,
            Pairing.cadre_id,
            Pairing.household_id,
            Pairing.county_code,
            Pairing.township_code,
            Household.village_code,
            Pairing.start_date,
            Pairing.active,
            *(contacts.c[column] for column, _, _ in CONTACT_ITEMS),
            *(first.c.first for first in firsts.values()),
        )
        .select_from(joined)
        .where(*pairings)
    )


async def ensure(session: AsyncSession, start: date) -> None:
    """Build the rows of the window from `start` unless they are built (then updates keep them current)."""
    if await session.get(FiveOnesWindow, start) is not None:
        return
    await _lock(session, exclusive=True)
    if await session.scalar(sa.select(FiveOnesWindow.window_start).where(FiveOnesWindow.window_start == start)):
        return  # built by another request while this one waited for the lock
    try:
        async with session.begin_nested():
            await session.execute(sa.insert(P).from_select(COLUMNS, _rows(start)))
            await session.execute(sa.insert(FiveOnesWindow).values(window_start=start, built_at=utcnow()))
    except IntegrityError:
        pass  # SQLite: a request that started at the same time built it first


async def _build_current(sessions: async_sessionmaker[AsyncSession]) -> None:
    try:
        async with sessions.begin() as session:
            await ensure(session, (await five_ones_window(session, today())).start)
    except Exception:
        log.exception("building the five ones of the current window failed; the first report builds them")


def build_hooks(enabled: bool) -> tuple[Any, Any]:
    """Lifespan hooks: build the rows of the window in force today in the background, so that the first report
    after a deploy does not wait for them (a report asked meanwhile waits for the build's lock, then reads)."""

    async def build(app: Any) -> None:
        await _build_current(app.state.db.sessions)

    return task_hooks("five_ones_build", build if enabled else None)


async def forget(session: AsyncSession) -> None:
    """Drop every built window (after rows were written around the service code, as the demo data is)."""
    await session.execute(sa.delete(P))
    await session.execute(sa.delete(FiveOnesWindow))


async def on_pairing_created(session: AsyncSession, pairing: Pairing) -> None:
    await _lock(session, exclusive=False)
    for start in await _built(session):
        await session.execute(sa.insert(P).from_select(COLUMNS, _rows(start, Pairing.id == pairing.id)))


async def on_pairing_ended(session: AsyncSession, pairing: Pairing) -> None:
    await _lock(session, exclusive=False)
    await session.execute(
        sa.update(P).where(P.window_start.in_(await _built(session)), P.pairing_id == pairing.id).values(active=False)
    )


def _earliest(column: str, when: Any) -> dict[str, sa.ColumnElement[Any]]:
    """SET column = `when` where it is later or unset (`when` bound as the column's type: UTC on SQLite too)."""
    current = getattr(P, column)
    value = sa.literal(when, current.type)
    return {column: sa.case((sa.or_(current.is_(None), current > value), value), else_=current)}


async def on_contact(session: AsyncSession, contact: Contact) -> None:
    """A contact by a cadre counts, from its time on, for the pairings of that cadre and household."""
    columns = [column for column, attribute, value in CONTACT_ITEMS if getattr(contact, attribute) == value]
    if contact.cadre_id is None or not columns:
        return
    at: datetime = contact.contacted_at
    values: dict[str, Any] = {}
    for column in columns:
        values.update(_earliest(column, at))
    await _lock(session, exclusive=False)
    for start in await _built(session):
        if at >= day_start(start):
            await session.execute(
                sa.update(P)
                .where(P.window_start == start, P.household_id == contact.household_id, P.cadre_id == contact.cadre_id)
                .values(values)
            )


async def on_record(session: AsyncSession, record: NeedsSurvey | IncomePlan) -> None:
    """A needs survey or income plan counts, from its date on, for every pairing of its household."""
    column, on = RECORD_ITEMS[type(record)]
    day: date = getattr(record, on)
    await _lock(session, exclusive=False)
    for start in await _built(session):
        if day >= start:
            await session.execute(
                sa.update(P)
                .where(P.window_start == start, P.household_id == record.household_id)
                .values(_earliest(column, day))
            )


# --- reading ----------------------------------------------------------------------------------------------------


def _item_columns(period: Period) -> list[sa.ColumnElement[int]]:
    return [sa.case((done, 1), else_=0).label(item.value) for item, done in done_as_of(period.last).items()]


def pairings(period: Period, filters: list[sa.ColumnElement[bool]]) -> sa.Select:
    """One row per pairing of `filters` (on FiveOnesProgress): who, which household, the five 0/1 item columns."""
    return (
        sa.select(
            P.pairing_id,
            P.cadre_id,
            Cadre.name.label("cadre_name"),
            P.household_id,
            Household.household_no,
            Household.head_name,
            P.village_code,
            P.township_code,
            P.county_code,
            Household.status.label("household_status"),
            *_item_columns(period),
        )
        .select_from(sa.join(P, Cadre, Cadre.id == P.cadre_id).join(Household, Household.id == P.household_id))
        .where(P.window_start == period.first, *filters)
    )


def counted(period: Period, filters: list[sa.ColumnElement[bool]]) -> sa.Select:
    """What a roll-up groups and counts: the pairing's cadre and place and its item columns, from this table alone."""
    return sa.select(P.cadre_id, P.county_code, P.township_code, *_item_columns(period)).where(
        P.window_start == period.first, *filters
    )
