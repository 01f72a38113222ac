"""SQL common to the records kept per household, person or cadre (contacts, surveys, check-ins, health checks...):
saving them, listing them newest first, rolling them up per group, and the Asia/Shanghai days they fall on."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from services.registry.records.schemas import EARLIEST
from shared.dates import day_start as shared_day_start
from shared.errors import InvalidCursor
from shared.pagination import PageParams, decode_cursor, page_of


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


# --- roll-ups ---------------------------------------------------------------------------------------------------


def count_if(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


async def grouped(session: AsyncSession, query: sa.Select, group: sa.ColumnElement[str] | None) -> list[dict[str, Any]]:
    """One row per group (`code`), or one row for everything when `group` is None; sums come back as int."""
    if group is not None:
        query = query.add_columns(group.label("code")).group_by(group).order_by(group)
    rows = (await session.execute(query)).mappings().all()
    # PostgreSQL sums a BIGINT column to NUMERIC: the totals come back as Decimal there.
    return [{k: int(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows]
