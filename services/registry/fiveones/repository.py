"""SQL reading the five ones: the progress rows of a window as of a day, one per pairing, and their roll-ups, or for a
county or the city in an open window the tally (a few rows per county and day)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.fiveones.rules import COMPLETE, DUE, INSTANTS, ITEM_COLUMNS
from services.registry.fiveones.schemas import FiveOnesItem
from services.registry.models import Cadre, FiveOnesTally, Household
from services.registry.models import FiveOnesProgress as P
from services.registry.records.repository import count_if, day_end, grouped
from shared.auth import Principal, region_clause, scope_prefix
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
