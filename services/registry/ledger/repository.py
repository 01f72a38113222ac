"""SQL of the household ledger: its entries oldest first, by (occurred_at, id)."""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import LedgerEntry


async def entries(
    session: AsyncSession, household_id: str, *, after: tuple[datetime, str] | None = None,
    created_since: datetime | None = None, limit: int,
) -> Sequence[LedgerEntry]:  # fmt: skip
    """The household's entries oldest first, those after `after` (occurred_at, id) and recorded after
    `created_since` only."""
    query = (
        sa.select(LedgerEntry)
        .where(LedgerEntry.household_id == household_id)
        .order_by(LedgerEntry.occurred_at, LedgerEntry.id)
        .limit(limit)
    )
    if after is not None:
        at, last_id = after
        query = query.where(
            sa.or_(LedgerEntry.occurred_at > at, sa.and_(LedgerEntry.occurred_at == at, LedgerEntry.id > last_id))
        )
    if created_since is not None:
        query = query.where(LedgerEntry.created_at > created_since)
    return (await session.scalars(query)).all()
