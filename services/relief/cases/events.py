"""How this domain answers the registry's events (services/relief/events.py calls it)."""

from pydantic import BaseModel

from shared.schemas.events import EventEnvelope


async def on_health_changed(ctx, event: EventEnvelope, payload: BaseModel) -> None:
    return None
