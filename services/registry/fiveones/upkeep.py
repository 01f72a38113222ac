"""The upkeep of the five ones' own tables.

`five_ones_progress`: per pairing and campaign window start, the first time each item was done on or after that
start. `five_ones_tally`: the active pairings counted per window start, county (and 万盛经开区), what (due, each
item, complete) and the day it counts from. A roll-up then reads one row per pairing, or for a county or the city in
an open window a few rows per county and day, instead of the contact log. What counts is the RULE of rules.py; this
module decides when and what to write, and the SQL that reads and writes the tables is in repository.py.

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

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.fiveones import repository
from services.registry.fiveones.rules import CONTACT_ITEMS, RECORD_ITEMS, keys, tally_keys
from services.registry.models import Contact, IncomePlan, NeedsSurvey, Pairing
from services.registry.parameters.service import five_ones_window
from services.registry.records.repository import day_start
from shared.app import task_hooks
from shared.dates import today

log = logging.getLogger("fupin.registry.five_ones")


async def _built(session: AsyncSession) -> list[date]:
    """The built window starts, read under the shared lock that a build waits for (updates call it first)."""
    await repository.lock(session, exclusive=False)
    return await repository.built_starts(session)


async def ensure(session: AsyncSession, start: date) -> None:
    """Build the rows of the window from `start` unless they are built (then updates keep them current)."""
    if await repository.known_built(session, start):
        return
    await repository.lock(session, exclusive=True)
    if await repository.read_built(session, start):
        return  # built by another request while this one waited for the lock
    try:
        async with session.begin_nested():
            await repository.insert_progress(session, start)
            counts: Counter = Counter()
            async for rows in repository.active_progress(session, start):
                for row in rows:
                    counts.update(keys(*row))
            await repository.add_to_tally(session, start, counts)
            await repository.record_built(session, start)
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
    await repository.delete_built(session)


async def _update(session: AsyncSession, start: date, change: Any, **match: str) -> None:
    """Change the progress rows of the window from `start` matching `match` (see `repository.locked_progress`;
    locked while read on PostgreSQL) with `change(row)` → the new values or None, and their counts in the tally."""
    rows = await repository.locked_progress(session, start, **match)
    counts: Counter = Counter()
    for row in rows:
        values = change(row)
        if not values:
            continue
        counts.subtract(tally_keys(row))
        for column, value in values.items():
            setattr(row, column, value)
        counts.update(tally_keys(row))
    await session.flush()  # the changed rows' UPDATEs, before their counts
    await repository.add_to_tally(session, start, counts)


def _earlier(row: Any, columns: list[str], when: Any) -> dict[str, Any] | None:
    """The columns `when` makes earlier (unset, or later than `when`)."""
    values = {column: when for column in columns if getattr(row, column) is None or getattr(row, column) > when}
    return values or None


async def on_pairing_created(session: AsyncSession, pairing: Pairing) -> None:
    for start in await _built(session):
        await repository.insert_progress(session, start, pairing.id)
        row = await repository.progress_row(session, start, pairing.id)
        await repository.add_to_tally(session, start, Counter(tally_keys(row)))


async def on_pairing_ended(session: AsyncSession, pairing: Pairing) -> None:
    for start in await _built(session):
        await _update(session, start, lambda row: {"active": False}, pairing_id=pairing.id)


async def on_contact(session: AsyncSession, contact: Contact) -> None:
    """A contact by a cadre counts, from its time on, for the pairings of that cadre and household."""
    columns = [column for column, attribute, value in CONTACT_ITEMS if getattr(contact, attribute) == value]
    if contact.cadre_id is None or not columns:
        return
    at: datetime = contact.contacted_at
    for start in await _built(session):
        if at >= day_start(start):
            await _update(
                session,
                start,
                lambda row: _earlier(row, columns, at),
                household_id=contact.household_id,
                cadre_id=contact.cadre_id,
            )


async def on_record(session: AsyncSession, record: NeedsSurvey | IncomePlan) -> None:
    """A needs survey or income plan counts, from its date on, for every pairing of its household."""
    column, on = RECORD_ITEMS[type(record)]
    day: date = getattr(record, on)
    for start in await _built(session):
        if day >= start:
            await _update(session, start, lambda row: _earlier(row, [column], day), household_id=record.household_id)
