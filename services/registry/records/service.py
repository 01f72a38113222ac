"""Keeping the records kept per household, person or cadre: every record is saved and audited, and a record about a
household goes into its ledger (台账) as a note in the same transaction; read back newest first."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import InstrumentedAttribute

from services.registry.events import note
from services.registry.records import repository
from shared.context import Ctx
from shared.pagination import Page, PageParams

Out = TypeVar("Out", bound=BaseModel)


def tenths(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 10)


def degrees(value: int | None) -> float | None:
    return None if value is None else value / 10


async def keep(ctx: Ctx, row: Any, *, entity: str, details: dict[str, Any], summary: str | None = None) -> None:
    """Save a record, audit it, and note it in its household's ledger when given a summary."""
    await repository.add(ctx.session, row)
    await ctx.audit.record(
        ctx.principal,
        action=f"{entity}.create",
        entity=entity,
        entity_id=row.id,
        county_code=row.county_code,
        changes=details,
    )
    if summary is not None:
        note(
            ctx.session,
            household_id=row.household_id,
            county_code=row.county_code,
            event_type=f"{entity}.recorded",
            summary=summary,
            details={"id": row.id, **details},
        )


async def listed(
    ctx: Ctx, at: InstrumentedAttribute, page: PageParams, out: Callable[[Any], Out], **equals: str
) -> Page[Out]:
    rows, cursor = await repository.newest_first(ctx.session, repository.records(at, **equals), at, page)
    return Page(items=[out(row[0]) for row in rows], next_cursor=cursor)
