"""The household ledger (台账): every event about a household, from every service, in time order."""

from datetime import datetime
from typing import Any

from services.registry.households.service import household_in_scope
from services.registry.ledger import repository
from services.registry.ledger.schemas import LedgerEntryOut
from services.registry.models import LedgerEntry
from shared.context import Ctx
from shared.dates import SHANGHAI
from shared.errors import InvalidCursor
from shared.pagination import Page, PageParams, decode_cursor, encode_cursor

EXPORT_LIMIT = 50_000


def _out(entry: LedgerEntry) -> LedgerEntryOut:
    return LedgerEntryOut(
        id=entry.id, household_id=entry.household_id, occurred_at=entry.occurred_at, source=entry.source,
        event_type=entry.event_type, summary=entry.summary, details=entry.details,
    )  # fmt: skip


def _after(cursor: str) -> tuple[datetime, str]:
    value = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(value["at"]), str(value["id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCursor(field="cursor") from exc


async def ledger_page(ctx: Ctx, household_id: str, page: PageParams) -> Page[LedgerEntryOut]:
    """Oldest first; the cursor carries (occurred_at, id) of the last entry shown."""
    await household_in_scope(ctx, household_id)
    after = _after(page.cursor) if page.cursor else None
    rows = list(
        await repository.entries(
            ctx.session, household_id, after=after, created_since=page.updated_since, limit=page.limit + 1
        )
    )
    cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        cursor = encode_cursor({"at": rows[-1].occurred_at.isoformat(), "id": rows[-1].id})
    return Page[LedgerEntryOut](items=[_out(r) for r in rows], next_cursor=cursor)


async def ledger_rows(ctx: Ctx, household_id: str) -> tuple[str, list[list[Any]]]:
    """(household number, rows) for the Excel export, times in Asia/Shanghai."""
    household = await household_in_scope(ctx, household_id)
    entries = await repository.entries(ctx.session, household_id, limit=EXPORT_LIMIT)
    rows = [[e.occurred_at.astimezone(SHANGHAI), e.source, e.event_type, e.summary, e.details] for e in entries]
    return household.household_no, rows
