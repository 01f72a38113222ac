"""SQL for contacts, surveys, plans, check-ins, clean-ups, impact surveys, health checks and the five ones."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.registry.contacts.schemas import EARLIEST, FiveOnesItem
from services.registry.models import (
    Cadre,
    Cleanup,
    Contact,
    Household,
    ImpactSurvey,
    IsolationCheckin,
    Region,
)
from shared.dates import day_start as shared_day_start
from shared.errors import InvalidCursor
from shared.pagination import PageParams, decode_cursor, page_of

Narrow = Callable[[Any], list[sa.ColumnElement[bool]]]


def day_start(day: date) -> datetime:
    """Midnight in Asia/Shanghai: business dates are dates there. No contact is older than EARLIEST, so an earlier
    day is taken as that one (the first days of year 1 have no UTC instant to compare with)."""
    return shared_day_start(max(day, EARLIEST.date()))


def day_end(day: date) -> datetime | None:
    """Midnight after `day` in Asia/Shanghai (None after the last representable day: no end)."""
    return None if day == date.max else day_start(day + timedelta(days=1))


async def add(session: AsyncSession, *rows: object) -> None:
    session.add_all(rows)
    await session.flush()


async def cadre_of_user(session: AsyncSession, username: str) -> Cadre | None:
    return await session.scalar(sa.select(Cadre).where(Cadre.username == username))


async def region_names(session: AsyncSession, codes: set[str]) -> dict[str, str]:
    rows = await session.execute(sa.select(Region.code, Region.name).where(Region.code.in_(codes)))
    return {code: name for code, name in rows.all()}


# --- lists, newest first ----------------------------------------------------------------------------------------


async def newest_first(
    session: AsyncSession, query: sa.Select, at: InstrumentedAttribute, page: PageParams
) -> tuple[list[sa.Row], str | None]:
    """Rows of `query` (its first column the entity) by `at` then id, newest first; the cursor carries both."""
    model = at.class_
    query = query.order_by(at.desc(), model.id.desc()).limit(page.limit + 1)
    if page.cursor:
        value = decode_cursor(page.cursor)
        try:
            parse = date.fromisoformat if isinstance(at.type, sa.Date) else datetime.fromisoformat
            last_at, last_id = parse(value["at"]), str(value["id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidCursor(field="cursor") from exc
        if isinstance(last_at, datetime) and last_at.tzinfo is None:
            raise InvalidCursor(field="cursor")
        query = query.where(sa.or_(at < last_at, sa.and_(at == last_at, model.id < last_id)))
    if page.updated_since:
        query = query.where(model.created_at > page.updated_since)
    rows = list((await session.execute(query)).all())
    return page_of(rows, page.limit, lambda row: {"at": getattr(row[0], at.key).isoformat(), "id": row[0].id})


def records(at: InstrumentedAttribute, **equals: str) -> sa.Select:
    """The rows of `at`'s table whose columns equal `equals` (household_id=..., person_id=..., cadre_id=...)."""
    model = at.class_
    return sa.select(model).where(*(getattr(model, column) == value for column, value in equals.items()))


def contacts_query(
    *,
    scope: sa.ColumnElement[bool],
    household_id: str | None,
    cadre_id: str | None,
    kind: str | None,
    channel: str | None,
    since: datetime | None,
    until: datetime | None,
) -> sa.Select:
    """Contacts with their cadre's name; `since` included, `until` excluded."""
    query = sa.select(Contact, Cadre.name).outerjoin(Cadre, Cadre.id == Contact.cadre_id).where(scope)
    for column, value in (
        (Contact.household_id, household_id),
        (Contact.cadre_id, cadre_id),
        (Contact.kind, kind),
        (Contact.channel, channel),
    ):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(Contact.contacted_at >= since)
    if until:
        query = query.where(Contact.contacted_at < until)
    return query


async def checkin_exists(session: AsyncSession, person_id: str, on: date) -> bool:
    query = sa.select(sa.exists().where(IsolationCheckin.person_id == person_id, IsolationCheckin.checked_on == on))
    return await session.scalar(query) or False


async def cleanup_of(session: AsyncSession, household_id: str, campaign: str) -> Cleanup | None:
    return await session.scalar(
        sa.select(Cleanup).where(Cleanup.household_id == household_id, Cleanup.campaign == campaign)
    )


# --- roll-ups ---------------------------------------------------------------------------------------------------


def _count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


async def _grouped(
    session: AsyncSession, query: sa.Select, group: sa.ColumnElement[str] | None
) -> list[dict[str, Any]]:
    """One row per group (`code`), or one row for everything when `group` is None; sums come back as int."""
    if group is not None:
        query = query.add_columns(group.label("code")).group_by(group).order_by(group)
    rows = (await session.execute(query)).mappings().all()
    # PostgreSQL sums a BIGINT column to NUMERIC: the totals come back as Decimal there.
    return [{k: int(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows]


async def cleanup_counts(
    session: AsyncSession,
    *,
    campaign: str,
    filters: list[sa.ColumnElement[bool]],
    narrow: Narrow,
    group: sa.ColumnElement[str] | None,
) -> list[dict[str, Any]]:
    done = sa.select(Cleanup.household_id).where(Cleanup.campaign == campaign, *narrow(Cleanup)).subquery("done")
    query = (
        sa.select(sa.func.count(Household.id).label("households"), sa.func.count(done.c.household_id).label("cleaned"))
        .select_from(Household)
        .outerjoin(done, done.c.household_id == Household.id)
        .where(*filters)
    )
    return await _grouped(session, query, group)


async def impact_counts(
    session: AsyncSession,
    *,
    period: list[sa.ColumnElement[bool]],
    filters: list[sa.ColumnElement[bool]],
    narrow: Narrow,
    group: sa.ColumnElement[str] | None,
) -> list[dict[str, Any]]:
    """Each household once, by its latest survey in the period."""
    rank = sa.func.row_number().over(
        partition_by=ImpactSurvey.household_id, order_by=(ImpactSurvey.surveyed_on.desc(), ImpactSurvey.id.desc())
    )
    ranked = sa.select(ImpactSurvey, rank.label("rank")).where(*period, *narrow(ImpactSurvey)).subquery("ranked")
    latest = sa.select(ranked).where(ranked.c.rank == 1).subquery("latest")
    query = (
        sa.select(
            sa.func.count().label("households_surveyed"),
            _count_if(latest.c.exit_target_at_risk.is_(True)).label("at_risk"),
            _count_if(latest.c.income_expectation == "increase").label("expect_increase"),
            _count_if(latest.c.income_expectation == "same").label("expect_same"),
            _count_if(latest.c.income_expectation == "decrease").label("expect_decrease"),
            sa.func.count(latest.c.patient_burden_fen).label("patient_burden_households"),
            sa.func.coalesce(sa.func.sum(latest.c.patient_burden_fen), 0).label("patient_burden_total_fen"),
        )
        .select_from(latest)
        .join(Household, Household.id == latest.c.household_id)
        .where(*filters)
    )
    return await _grouped(session, query, group)


# --- the five ones ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """The days that count: the campaign window cut at the as-of date, both ends included."""

    first: date
    last: date


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
        _count_if(done == len(FiveOnesItem)).label("pairings_complete"),
        *(sa.func.coalesce(sa.func.sum(t.c[item.value]), 0).label(item.value) for item in FiveOnesItem),
    )
    return await _grouped(session, rollup.select_from(t), group_of(t))
