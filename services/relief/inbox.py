"""What relief takes from the other services: the registry's `person.health_changed`, posted signed to the inbox
by the registry's dispatcher, each event handled once.

Relief never acts on the one event in hand: it reads the person's health timeline from the registry and makes its
cases and claims agree with it (reconcile.service.follow), so an event that comes late, early, twice or after the
next one leaves the same result. An event whose health event relief has already taken in needs no call. When the
registry cannot be reached the inbox answers 503 and records nothing: the event is delivered again later.
"""

import logging
from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.relief.cases.sync import Timeline
from services.relief.errors import from_registry
from services.relief.models import events, plumbing
from services.relief.reconcile import repository
from services.relief.reconcile.service import follow
from shared.audit import AuditTrail
from shared.clients import RegistryClient
from shared.db import SessionDep, sessions_of
from shared.events import accept, signed_envelope
from shared.observability import request_id_var
from shared.schemas.events import EventEnvelope, PersonHealthChangedV1
from shared.settings import common_settings

log = logging.getLogger("fupin.relief.inbox")


@dataclass
class EventCtx:
    """What the handling of an incoming event needs: the session of the inbox's transaction, the registry, and an
    audit trail under the request id of the delivery."""

    session: AsyncSession
    registry: RegistryClient
    audit: AuditTrail


async def timeline_for(sessions: async_sessionmaker[AsyncSession], registry: RegistryClient,
                       event: EventEnvelope) -> Timeline | None:  # fmt: skip
    """The timeline of the person a `person.health_changed` is about, read from the registry before the inbox's
    transaction begins (no database lock is held while the registry answers); None when there is nothing to read:
    another kind of event, a health event relief has taken in already, a person the registry does not have."""
    if (event.type, event.version) != ("person.health_changed", 1):
        return None
    payload = PersonHealthChangedV1.model_validate(event.data)
    if payload.health_event_id:
        async with sessions() as session:
            if await repository.is_known(session, payload.health_event_id):
                return None
    history = await from_registry(registry.health_history(payload.person_id))
    if history is None:
        log.info("event %s: the registry has no person %s", event.id, payload.person_id)
        return None
    return Timeline.of(history)


async def handle(ctx: EventCtx, event: EventEnvelope, timeline: Timeline | None) -> bool:
    """Record the event in the inbox and take the person's timeline in, in the caller's transaction; False for a
    repeat."""
    if not await accept(ctx.session, events, event):
        return False
    if timeline is not None:
        await follow(ctx.session, ctx.audit, ctx.registry, timeline, opened_by="event", source_event_id=event.id)
    return True


inbox_router = APIRouter(prefix="/api/v1/relief", tags=["relief: events 事件订阅"])


class InboxAnswer(BaseModel):
    accepted: bool


@inbox_router.post("/events/inbox", operation_id="relief_event_inbox", response_model=InboxAnswer)
async def event_inbox(request: Request, session: SessionDep) -> InboxAnswer:
    """The registry's events, signed with the internal events secret (X-Fupin-Signature) 接收事件

    Authorised by the signature, not a token. A repeated event (same id) is accepted and changes nothing.
    """
    event = await signed_envelope(request, [common_settings().internal_events_secret()])
    registry = request.app.state.registry
    timeline = await timeline_for(sessions_of(request.app), registry, event)
    audit = AuditTrail.outside_request(session, plumbing.audit_log, request_id_var.get())
    return InboxAnswer(accepted=await handle(EventCtx(session, registry, audit), event, timeline))
