"""All the SQL of the five ones. The reads: the progress rows of a window as of a day, one per pairing, and their
roll-ups, or for a county or the city in an open window the tally (a few rows per county and day). The writes that
upkeep.py decides on: building a window's progress rows and tally from the records, adding to the tally, updating
progress rows under a row lock, dropping every built window, and the advisory lock that orders builds and updates on
PostgreSQL."""

from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.fiveones.rules import (
    COMPLETE,
    CONTACT_ITEMS,
    DUE,
    INSTANTS,
    ITEM_COLUMNS,
    RECORD_ITEMS,
    TALLIED,
)
from services.registry.fiveones.schemas import FiveOnesItem
from services.registry.models import Cadre, Contact, FiveOnesTally, FiveOnesWindow, Household, Pairing
from services.registry.models import FiveOnesProgress as P
from services.registry.records.repository import count_if, day_end, day_start, grouped
from shared.auth import Principal, region_clause, scope_prefix
from shared.db import utcnow
from shared.regions import WANSHENG_CODE

COUNTY_LEVEL = "500101"  # a county code's length: the finest place the tally counts by


@dataclass(frozen=True)
class Period:
    """The days that count: the campaign window cut at the as-of date, both ends included."""

    first: date
    last: date


def done_as_of(last: date) -> dict[FiveOnesItem, sa.ColumnElement[bool]]:
    """Whether each item is done on or before `last` (the window's days, cut at the as-of date, Asia/Shanghai)."""
    end = day_end(last)

    def done(column: str) -> sa.ColumnElement[bool]:
        first = getattr(P, column)
        if column not in INSTANTS:
            return first <= last
        return first.is_not(None) if end is None else first < end

    return {item: sa.or_(*(done(column) for column in columns)) for item, columns in ITEM_COLUMNS.items()}


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
    """Roll-up rows as `five_ones_rollup` gives them, from the tally of an open window: per unit (a county,
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


def _items_done(table: Any) -> sa.ColumnElement[int]:
    total: sa.ColumnElement[int] = sa.literal(0)
    for item in FiveOnesItem:
        total = total + table.c[item.value]
    return total


async def pairing_rows(
    session: AsyncSession,
    query: sa.Select,
    *,
    limit: int | None = None,
    before_id: str | None = None,
    complete: bool | None = None,
    by_place: bool = False,
) -> Sequence[sa.RowMapping]:
    """The pairing rows of `query`: newest pairing first (keyset on its id), or by county, township, village and
    household for an export; `complete` keeps the pairings with all five items done (True) or not (False)."""
    t = query.subquery("t")
    rows = sa.select(t)
    if by_place:
        rows = rows.order_by(t.c.county_code, t.c.township_code, t.c.village_code, t.c.household_no, t.c.cadre_name)
    else:
        rows = rows.order_by(t.c.pairing_id.desc())
    if limit is not None:
        rows = rows.limit(limit)
    if before_id:
        rows = rows.where(t.c.pairing_id < before_id)
    if complete is not None:
        done = _items_done(t)
        rows = rows.where(done == len(FiveOnesItem) if complete else done < len(FiveOnesItem))
    return (await session.execute(rows)).mappings().all()


async def cadre_names(session: AsyncSession, ids: set[str]) -> dict[str, str]:
    rows = await session.execute(sa.select(Cadre.id, Cadre.name).where(Cadre.id.in_(ids)))
    return {cadre_id: name for cadre_id, name in rows.all()}


async def five_ones_rollup(session: AsyncSession, query: sa.Select, group_of: Callable[[Any], Any]) -> list[dict]:
    """Counts per group (`group_of(t)` gives the group column of the pairing rows `t`, or None for the city)."""
    t = query.subquery("t")
    done = _items_done(t)
    rollup = sa.select(
        sa.func.count().label("pairings"),
        count_if(done == len(FiveOnesItem)).label("pairings_complete"),
        *(sa.func.coalesce(sa.func.sum(t.c[item.value]), 0).label(item.value) for item in FiveOnesItem),
    )
    return await grouped(session, rollup.select_from(t), group_of(t))


# The upkeep's writes (upkeep.py decides when and what).

_LOCK = 0x5F1_0E5  # the advisory lock of five_ones_progress (any constant of this database's own)

COLUMNS = [
    "window_start", "pairing_id", "cadre_id", "household_id", "county_code", "township_code", "village_code",
    "start_date", "active", *(column for column, _, _ in CONTACT_ITEMS), *(c for c, _ in RECORD_ITEMS.values()),
]  # fmt: skip
BUILD_PARTITION = 10_000


async def add_to_tally(session: AsyncSession, start: date, change: Counter) -> None:
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


async def lock(session: AsyncSession, *, exclusive: bool) -> None:
    """Take the advisory lock of five_ones_progress until the transaction ends: exclusive for a build, shared for an
    update (PostgreSQL; SQLite has one writer at a time)."""
    if session.get_bind().dialect.name == "postgresql":
        take = sa.func.pg_advisory_xact_lock if exclusive else sa.func.pg_advisory_xact_lock_shared
        await session.execute(sa.select(take(_LOCK)))


async def built_starts(session: AsyncSession) -> list[date]:
    """The start of every built window."""
    return list((await session.scalars(sa.select(FiveOnesWindow.window_start))).all())


async def known_built(session: AsyncSession, start: date) -> bool:
    """Whether the window from `start` is built, as this session knows it (its identity map first)."""
    return await session.get(FiveOnesWindow, start) is not None


async def read_built(session: AsyncSession, start: date) -> bool:
    """Whether the window from `start` is built, read from the database (after waiting for the lock)."""
    return bool(
        await session.scalar(sa.select(FiveOnesWindow.window_start).where(FiveOnesWindow.window_start == start))
    )


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


async def insert_progress(session: AsyncSession, start: date, pairing_id: str | None = None) -> None:
    """Write the progress rows of the window from `start`, read from the records: every pairing's, or the one
    pairing's."""
    pairings = [Pairing.id == pairing_id] if pairing_id is not None else []
    await session.execute(sa.insert(P).from_select(COLUMNS, _rows(start, *pairings)))


async def active_progress(session: AsyncSession, start: date) -> AsyncIterator[Sequence[sa.Row]]:
    """The TALLIED values of the window's progress rows of the pairings in force, streamed in partitions."""
    built = await session.stream(
        sa.select(*(getattr(P, column) for column in TALLIED)).where(P.window_start == start, P.active)
    )
    async for rows in built.partitions(BUILD_PARTITION):
        yield rows


async def record_built(session: AsyncSession, start: date) -> None:
    """Mark the window from `start` built (a second build of it breaks the primary key)."""
    await session.execute(sa.insert(FiveOnesWindow).values(window_start=start, built_at=utcnow()))


async def progress_row(session: AsyncSession, start: date, pairing_id: str) -> P | None:
    return await session.get(P, (start, pairing_id))


async def locked_progress(
    session: AsyncSession,
    start: date,
    *,
    pairing_id: str | None = None,
    household_id: str | None = None,
    cadre_id: str | None = None,
) -> Sequence[P]:
    """The progress rows of the window from `start` of the pairing, or of the household (and cadre), locked for
    update on PostgreSQL."""
    where = []
    if pairing_id is not None:
        where.append(P.pairing_id == pairing_id)
    if household_id is not None:
        where.append(P.household_id == household_id)
    if cadre_id is not None:
        where.append(P.cadre_id == cadre_id)
    return (await session.scalars(sa.select(P).where(P.window_start == start, *where).with_for_update())).all()


async def delete_built(session: AsyncSession) -> None:
    """Delete the tally, the progress rows and the built windows."""
    await session.execute(sa.delete(FiveOnesTally))
    await session.execute(sa.delete(P))
    await session.execute(sa.delete(FiveOnesWindow))
