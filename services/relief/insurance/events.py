"""How this domain answers the registry's events (services/relief/events.py calls it).

A health event of an enrolled person opens their insurance claim (measure 23): in hospital → hospitalisation,
deceased → death. Everything needed is in the event, so the registry is not called and cannot hold it up.
"""

from typing import TYPE_CHECKING

from services.relief.insurance import service
from shared.schemas.events import EventEnvelope, PersonHealthChangedV1

if TYPE_CHECKING:
    from services.relief.events import EventCtx


async def on_health_changed(ctx: "EventCtx", event: EventEnvelope, payload: PersonHealthChangedV1) -> None:
    await service.open_claims_for_event(ctx.session, ctx.audit, event.id, payload)
