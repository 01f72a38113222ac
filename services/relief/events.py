"""The relief service's events: published in the transaction of the change (they reach the household's ledger in
the registry), and the inbox where the registry's events arrive, each handled once.

An event whose handling fails (the registry cannot be reached to check eligibility, say) is not recorded in the
inbox and answers 503, so the registry's dispatcher delivers it again later.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.cases.events import on_health_changed as case_on_health_changed
from services.relief.insurance.events import on_health_changed as claim_on_health_changed
from services.relief.models import events, plumbing
from shared.audit import AuditTrail
from shared.clients import RegistryClient
from shared.db import SessionDep
from shared.events import accept, envelope, publish, signed_envelope
from shared.observability import request_id_var
from shared.pii import PiiCipher
from shared.schemas.events import EVENT_TYPES, EventEnvelope
from shared.settings import common_settings

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


@dataclass
class EventCtx:
    """What a handler of an incoming event needs: the session of the inbox's transaction, the registry, the PII
    cipher, and an audit trail under the request id of the delivery."""

    session: AsyncSession
    registry: RegistryClient
    cipher: PiiCipher
    audit: AuditTrail


Handler = Callable[[EventCtx, EventEnvelope, BaseModel], Awaitable[None]]
HANDLERS: dict[str, tuple[Handler, ...]] = {
    "person.health_changed": (case_on_health_changed, claim_on_health_changed),
}


async def handle(ctx: EventCtx, event: EventEnvelope) -> bool:
    """Record the event in the inbox and run its handlers, in the caller's transaction; False for a repeat."""
    if not await accept(ctx.session, events, event):
        return False
    handlers = HANDLERS.get(event.type, ())
    if handlers:
        payload = EVENT_TYPES[(event.type, event.version)].model_validate(event.data)
        for handler in handlers:
            await handler(ctx, event, payload)
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
    audit = AuditTrail.outside_request(session, plumbing.audit_log, request_id_var.get())
    ctx = EventCtx(session=session, registry=request.app.state.registry, cipher=request.app.state.cipher, audit=audit)
    return InboxAnswer(accepted=await handle(ctx, event))
