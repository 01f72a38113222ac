"""RULE care overdue (measure 1): a confirmed patient's household with no care contact in time.

A confirmation on date d is overdue on `as_of` when as_of > d + N, N being the care-overdue days in force on d
(parameter `care_overdue_days`, 3 by default), and the household had no contact of kind care or counselling dated
(in Asia/Shanghai) from d to as_of, both included. A late contact clears the row from its own date on. Each
confirmation is its own row (a household with two patients can stand twice); discharge or death does not end the
watch, since the household is owed the visit all the same.
"""

from datetime import date
from typing import Any

from services.registry.health import repository, rules
from services.registry.health.schemas import CareOverdueRow
from services.registry.parameters.service import care_overdue_days
from services.registry.scope import household_scope
from shared.context import Ctx
from shared.dates import today
from shared.errors import InvalidCursor
from shared.pagination import Page, PageParams, decode_cursor, encode_cursor

EXPORT_LIMIT = 50_000
EXPORT_HEADERS = [
    "户编号 Household no.", "户主 Head", "区县 County", "乡镇 Township", "村 Village code", "村名 Village",
    "确诊人员 Patient", "确诊日期 Diagnosed on", "应慰问截止日 Due on", "逾期天数 Days overdue",
]  # fmt: skip


async def _overdue_days_by_date(ctx: Ctx, as_of: date) -> dict[date, int]:
    """N for each diagnosis date in scope that is past its due date on `as_of`."""
    dates = await repository.confirmation_dates(ctx.session, scope=household_scope(ctx.principal), as_of=as_of)
    by_date = {d: await care_overdue_days(ctx.session, d) for d in dates}
    return {d: n for d, n in by_date.items() if rules.days_overdue(d, n, as_of) > 0}


def _after(cursor: str) -> tuple[date, str]:
    value = decode_cursor(cursor)
    try:
        return date.fromisoformat(value["on"]), str(value["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor(field="cursor") from exc


async def _rows(ctx: Ctx, as_of: date, *, after: tuple[date, str] | None, limit: int) -> list[CareOverdueRow]:
    overdue_days = await _overdue_days_by_date(ctx, as_of)
    if not overdue_days:
        return []
    rows = await repository.uncared_confirmations(
        ctx.session,
        scope=household_scope(ctx.principal),
        diagnosed_on=sorted(overdue_days),
        as_of=as_of,
        after=after,
        limit=limit,
    )
    return [_row(row._mapping, overdue_days[row.diagnosed_on], as_of) for row in rows]


def _row(fields: Any, days: int, as_of: date) -> CareOverdueRow:
    diagnosed_on = fields["diagnosed_on"]
    return CareOverdueRow(
        **fields,
        due_on=rules.care_due_on(diagnosed_on, days),
        days_overdue=rules.days_overdue(diagnosed_on, days, as_of),
    )


async def care_overdue(ctx: Ctx, page: PageParams, *, as_of: date | None) -> Page[CareOverdueRow]:
    """Oldest diagnosis first (the longest wait on top); the cursor carries the last row's date and event id."""
    as_of = as_of or today()
    rows = await _rows(ctx, as_of, after=_after(page.cursor) if page.cursor else None, limit=page.limit + 1)
    cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        cursor = encode_cursor({"on": rows[-1].diagnosed_on.isoformat(), "id": rows[-1].health_event_id})
    return Page[CareOverdueRow](items=rows, next_cursor=cursor)


async def care_overdue_export(ctx: Ctx, *, as_of: date | None) -> tuple[date, list[list[Any]]]:
    """(as_of, rows) for the Excel export."""
    as_of = as_of or today()
    rows = await _rows(ctx, as_of, after=None, limit=EXPORT_LIMIT)
    return as_of, [
        [r.household_no, r.head_name, r.county_code, r.township_code, r.village_code, r.village_name,
         r.person_name, r.diagnosed_on, r.due_on, r.days_overdue]
        for r in rows
    ]  # fmt: skip
