"""The relief service's events, published in the transaction of the change (they reach the household's ledger in
the registry). What relief takes from other services is in inbox.py."""

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.models import events
from shared.events import envelope, publish
from shared.schemas.events import EventEnvelope

SOURCE = "relief"


async def emit(session: AsyncSession, event_type: str, payload: BaseModel) -> EventEnvelope:
    """Publish a relief event in the session's transaction (outbox). Every relief payload names its household
    (None for a cadre's) and county, which the envelope carries for the ledger and for subscribers' filters."""
    event = envelope(
        source=SOURCE, payload=payload, event_type=event_type, household_id=getattr(payload, "household_id", None),
        county_code=getattr(payload, "county_code", None),
    )  # fmt: skip
    await publish(session, events, event)
    return event
