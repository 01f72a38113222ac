"""The registry's events: published in the transaction of the change, and written to the household's ledger.

Other services' events arrive at the inbox (inbox.py) and land in the same ledger, once each.
"""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import LedgerEntry, events
from shared.db import utcnow
from shared.events import envelope, publish
from shared.schemas.events import EventEnvelope

SOURCE = "registry"


def ledger_entry(event: EventEnvelope, summary: str) -> LedgerEntry:
    return LedgerEntry(
        household_id=event.household_id,
        county_code=event.county_code or "",
        occurred_at=event.occurred_at,
        source=event.source,
        event_type=event.type,
        event_id=event.id,
        summary=summary[:300],
        details=event.data,
    )


async def emit(
    session: AsyncSession,
    *,
    event_type: str,
    payload: BaseModel,
    summary: str,
    household_id: str | None = None,
    county_code: str | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope:
    """Publish a registry event; one about a household also goes into its ledger (台账).

    `occurred_at` is when it happened (a contact's time, the day of a diagnosis); by default, now.
    """
    event = envelope(
        source=SOURCE,
        payload=payload,
        event_type=event_type,
        household_id=household_id,
        county_code=county_code,
        occurred_at=occurred_at,
    )
    await publish(session, events, event)
    if household_id:
        session.add(ledger_entry(event, summary))
    return event


def note(
    session: AsyncSession,
    *,
    household_id: str,
    county_code: str,
    event_type: str,
    summary: str,
    details: dict[str, Any],
    occurred_at: datetime | None = None,
) -> None:
    """A ledger entry for a record no other service subscribes to (a needs survey, a dibao referral, ...)."""
    session.add(
        LedgerEntry(
            household_id=household_id,
            county_code=county_code,
            occurred_at=occurred_at or utcnow(),
            source=SOURCE,
            event_type=event_type,
            summary=summary[:300],
            details=details,
        )
    )
