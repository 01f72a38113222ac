"""The five ones' own tables, kept current and read.

`five_ones_progress`: per pairing and campaign window start, the first time each item was done on or after that
start. `five_ones_tally`: the active pairings counted per window start, county (and 万盛经开区), what (due, each
item, complete) and the day it counts from. A roll-up then reads one row per pairing, or for a county or the city in
an open window a few rows per county and day, instead of the contact log.

What counts is the RULE of fiveones.py, written here once: `CONTACT_ITEMS` says which contacts by the pairing's own
cadre count for which column, `RECORD_ITEMS` which records count for the household whoever made them, and
`ITEM_COLUMNS` which columns make each item. An item is done as of a day when its first time on or after the window
start is on or before that day (and within the window's end).

A window start's rows are built from the records by the registry's background build (at its start, and within a
minute of a new window) or else by the first report that asks for it (`ensure`); from then on every new pairing,
ended pairing, contact, needs survey and income plan updates them in the transaction that writes it. On PostgreSQL a build holds an exclusive advisory lock and every update a shared one, so no
record can slip between a build's reading and its rows being seen by updates, and an update locks the progress rows
it changes; SQLite has one writer at a time.
"""

import asyncio
import logging
from collections import Counter
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.contacts.repository import Period, day_end, day_start
from services.registry.contacts.schemas import FiveOnesItem
from services.registry.models import (
    Cadre,
    Contact,
    FiveOnesProgress,
    FiveOnesTally,
    FiveOnesWindow,
    Household,
    IncomePlan,
    NeedsSurvey,
    Pairing,
)
from services.registry.parameters.service import five_ones_window
from shared.app import task_hooks
from shared.auth import Principal, region_clause, scope_prefix
from shared.dates import SHANGHAI, today
from shared.db import utcnow
from shared.regions import WANSHENG_CODE, unit_of

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


# Which progress columns make each item (the first of them is when the item was done); which columns are instants.
ITEM_COLUMNS: dict[FiveOnesItem, tuple[str, ...]] = {
    FiveOnesItem.phone_call: ("phone_call",),
    FiveOnesItem.prevention_education: ("prevention_education",),
    FiveOnesItem.supplies_help: ("supplies_help",),
    FiveOnesItem.needs_survey: ("needs_contact", "needs_record"),
    FiveOnesItem.income_plan: ("plan_contact", "plan_record"),
}
_INSTANTS = frozenset(column for column, _, _ in CONTACT_ITEMS)
DUE, COMPLETE = "pairing", "complete"  # the tally's other rows: pairings due, pairings with all five done
TALLIED = ("county_code", "township_code", "start_date", "active", *(c for cs in ITEM_COLUMNS.values() for c in cs))
BUILD_PARTITION = 10_000
COUNTY_LEVEL = "500101"  # a county code's length: the finest place the tally counts by


def done_as_of(last: date) -> dict[FiveOnesItem, sa.ColumnElement[bool]]:
    """Whether each item is done on or before `last` (the window's days, cut at the as-of date, Asia/Shanghai)."""
    end = day_end(last)

    def done(column: str) -> sa.ColumnElement[bool]:
        first = getattr(P, column)
        if column not in _INSTANTS:
            return first <= last
        return first.is_not(None) if end is None else first < end

    return {item: sa.or_(*(done(column) for column in columns)) for item, columns in ITEM_COLUMNS.items()}


# The item of each first-time column in TALLIED order after the pairing's columns, and whether it is an instant.
_FIRSTS = [(item.value, column in _INSTANTS) for item, columns in ITEM_COLUMNS.items() for column in columns]


def tally_keys(row: Any) -> list[tuple[str, str, str, date]]:
    """What a progress row counts in the tally, (county, unit, what, day); nothing for an ended pairing. Due from
    the pairing's start; an item from the day it was first done, not before the start; complete from the last."""
    return _keys(*(getattr(row, column) for column in TALLIED))


def _keys(county: str, township: str, start: date, active: bool, *firsts: Any) -> list[tuple[str, str, str, date]]:
    if not active:
        return []
    days: dict[str, date] = {}
    for (item, instant), first in zip(_FIRSTS, firsts, strict=True):
        if first is not None:
            day = max(start, first.astimezone(SHANGHAI).date() if instant else first)
            if day < days.get(item, date.max):
                days[item] = day
    unit = unit_of(county, township)
    keys = [(county, unit, DUE, start), *((county, unit, item, day) for item, day in days.items())]
    if len(days) == len(ITEM_COLUMNS):
        keys.append((county, unit, COMPLETE, max(days.values())))
    return keys


async def _count(session: AsyncSession, start: date, change: Counter) -> None:
    """Add `change` ((county, unit, what, day) → pairings, ±) to the tally of the window from `start`."""
    rows = [
        {"window_start": start, "county_code": county, "unit": unit, "what": what, "day": day, "pairings": n}
        for (county, unit, what, day), n in change.items()
        if n
    ]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(FiveOnesTally)
    key = ["window_start", "county_code", "unit", "what", "day"]
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=key, set_={"pairings": FiveOnesTally.pairings + insert.excluded.pairings}
        ),
        rows,
    )


async def _lock(session: AsyncSession, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        take = sa.func.pg_advisory_xact_lock if exclusive else sa.func.pg_advisory_xact_lock_shared
        await session.execute(sa.select(take(_LOCK)))


async def _built(session: AsyncSession) -> list[date]:
    """The built window starts, read under the shared lock that a build waits for (updates call it first)."""
    await _lock(session, exclusive=False)
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
            counts: Counter = Counter()
            built = await session.stream(
                sa.select(*(getattr(P, column) for column in TALLIED)).where(P.window_start == start, P.active)
            )
            async for rows in built.partitions(BUILD_PARTITION):
                for row in rows:
                    counts.update(_keys(*row))
            await _count(session, start, counts)
            await session.execute(sa.insert(FiveOnesWindow).values(window_start=start, built_at=utcnow()))
    except IntegrityError:
        pass  # SQLite: a request that started at the same time built it first


async def _build_current(sessions: async_sessionmaker[AsyncSession], every_s: float) -> None:
    """Build the rows of the window in force today now, and look again every `every_s` (a window set since)."""
    while True:
        try:
            async with sessions.begin() as session:
                await ensure(session, (await five_ones_window(session, today())).start)
        except Exception:
            log.exception("building the five ones of the current window failed; trying again in %s s", every_s)
        await asyncio.sleep(every_s)


def build_hooks(every_s: float) -> tuple[Any, Any]:
    """Lifespan hooks: build the rows of the window in force in the background, at the start and then every
    `every_s` (never when 0), so that the first report after a deploy or a new window does not build them (a report
    asked during a build waits for its lock, then reads)."""

    async def build(app: Any) -> None:
        await _build_current(app.state.db.sessions, every_s)

    return task_hooks("five_ones_build", build if every_s > 0 else None)


async def forget(session: AsyncSession) -> None:
    """Drop every built window (after rows were written around the service code, as the demo data is)."""
    await session.execute(sa.delete(FiveOnesTally))
    await session.execute(sa.delete(P))
    await session.execute(sa.delete(FiveOnesWindow))


async def _update(session: AsyncSession, start: date, where: list[sa.ColumnElement[bool]], change: Any) -> None:
    """Change the progress rows of the window from `start` matching `where` (locked while read on PostgreSQL) with
    `change(row)` → the new values or None, and their counts in the tally."""
    rows = (await session.scalars(sa.select(P).where(P.window_start == start, *where).with_for_update())).all()
    counts: Counter = Counter()
    for row in rows:
        values = change(row)
        if not values:
            continue
        counts.subtract(tally_keys(row))
        for column, value in values.items():
            setattr(row, column, value)
        counts.update(tally_keys(row))
    await session.flush()
    await _count(session, start, counts)


def _earlier(row: Any, columns: list[str], when: Any) -> dict[str, Any] | None:
    """The columns `when` makes earlier (unset, or later than `when`)."""
    values = {column: when for column in columns if getattr(row, column) is None or getattr(row, column) > when}
    return values or None


async def on_pairing_created(session: AsyncSession, pairing: Pairing) -> None:
    for start in await _built(session):
        await session.execute(sa.insert(P).from_select(COLUMNS, _rows(start, Pairing.id == pairing.id)))
        row = await session.get(P, (start, pairing.id))
        await _count(session, start, Counter(tally_keys(row)))


async def on_pairing_ended(session: AsyncSession, pairing: Pairing) -> None:
    for start in await _built(session):
        await _update(session, start, [P.pairing_id == pairing.id], lambda row: {"active": False})


async def on_contact(session: AsyncSession, contact: Contact) -> None:
    """A contact by a cadre counts, from its time on, for the pairings of that cadre and household."""
    columns = [column for column, attribute, value in CONTACT_ITEMS if getattr(contact, attribute) == value]
    if contact.cadre_id is None or not columns:
        return
    at: datetime = contact.contacted_at
    for start in await _built(session):
        if at >= day_start(start):
            where = [P.household_id == contact.household_id, P.cadre_id == contact.cadre_id]
            await _update(session, start, where, lambda row: _earlier(row, columns, at))


async def on_record(session: AsyncSession, record: NeedsSurvey | IncomePlan) -> None:
    """A needs survey or income plan counts, from its date on, for every pairing of its household."""
    column, on = RECORD_ITEMS[type(record)]
    day: date = getattr(record, on)
    for start in await _built(session):
        if day >= start:
            await _update(
                session, start, [P.household_id == record.household_id], lambda row: _earlier(row, [column], day)
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


def tally_filters(principal: Principal, region: str | None) -> list[sa.ColumnElement[bool]] | None:
    """The caller's scope and the region as filters on the tally, or None when it cannot tell them (a cadre's
    pairings, or a scope or region finer than a county: the progress rows can)."""
    T = FiveOnesTally
    if principal.is_cadre_only or any(len(scope_prefix(code)) > len(COUNTY_LEVEL) for code in principal.regions):
        return None
    kept = [region_clause(principal.regions, T.county_code)]
    if region == WANSHENG_CODE:
        kept.append(T.unit == WANSHENG_CODE)
    elif region:
        if len(scope_prefix(region)) > len(COUNTY_LEVEL):
            return None
        kept.append(region_clause([region], T.county_code))
    return kept


async def tallied(
    session: AsyncSession, start: date, as_of: date, filters: list[sa.ColumnElement[bool]], *, by_unit: bool
) -> list[dict[str, Any]]:
    """Roll-up rows as `repository.five_ones_rollup` gives them, from the tally of an open window: per unit (a county,
    or 万盛经开区) with pairings due (`code`), or one row for them all."""
    T = FiveOnesTally
    query = (
        sa.select(T.unit if by_unit else sa.literal(None).label("unit"), T.what, sa.func.sum(T.pairings).label("n"))
        .where(T.window_start == start, T.day <= as_of, *filters)
        .group_by(T.what)
    )
    if by_unit:
        query = query.group_by(T.unit)
    names = {DUE: "pairings", COMPLETE: "pairings_complete"}
    units: dict[str | None, dict[str, Any]] = {} if by_unit else {None: {}}
    for unit, what, count in (await session.execute(query)).all():
        units.setdefault(unit, {})[names.get(what, what)] = int(count)
    rows = []
    for unit, counts in sorted(units.items(), key=lambda pair: pair[0] or ""):
        row = {"pairings": 0, "pairings_complete": 0, **dict.fromkeys((i.value for i in FiveOnesItem), 0), **counts}
        if not by_unit:
            rows.append(row)
        elif row["pairings"]:
            rows.append({**row, "code": unit})
    return rows
