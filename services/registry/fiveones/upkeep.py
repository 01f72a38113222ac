"""The upkeep of the five ones' own tables.

`five_ones_progress`: per pairing and campaign window start, the first time each item was done on or after that
start. `five_ones_tally`: the active pairings counted per window start, county (and 万盛经开区), what (due, each
item, complete) and the day it counts from. A roll-up then reads one row per pairing, or for a county or the city in
an open window a few rows per county and day, instead of the contact log (see repository.py). What counts is the
RULE of rules.py.

A window start's rows are built from the records by the registry's background build (at its start, and within a
minute of a new window) or else by the first report that asks for it (`ensure`); from then on every new pairing,
ended pairing, contact, needs survey and income plan updates them in the transaction that writes it. On PostgreSQL
a build holds an exclusive advisory lock and every update a shared one, so no record can slip between a build's
reading and its rows being seen by updates, and an update locks the progress rows it changes; SQLite has one writer
at a time.
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

from services.registry.fiveones.rules import CONTACT_ITEMS, RECORD_ITEMS, TALLIED, keys, tally_keys
from services.registry.models import (
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
from services.registry.records.repository import day_start
from shared.app import task_hooks
from shared.dates import today
from shared.db import utcnow

log = logging.getLogger("fupin.registry.five_ones")

_LOCK = 0x5F1_0E5  # the advisory lock of five_ones_progress (any constant of this database's own)

P = FiveOnesProgress
COLUMNS = [
    "window_start", "pairing_id", "cadre_id", "household_id", "county_code", "township_code", "village_code",
    "start_date", "active", *(column for column, _, _ in CONTACT_ITEMS), *(c for c, _ in RECORD_ITEMS.values()),
]  # fmt: skip
BUILD_PARTITION = 10_000


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
                    counts.update(keys(*row))
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
