"""What relief takes from the other services: the registry's `person.health_changed`, posted signed to the inbox
by the registry's dispatcher (many at a time), each event taken once.

Relief never acts on the one event in hand: it reads the person's health timeline from the registry and makes its
cases and claims agree with it (reconcile.service.follow), so an event that comes late, early, twice or after the
next one leaves the same result. The timelines of every person a POST is about come in one call before the
transaction begins; an event whose health event relief has already taken in needs none, and a person is followed
once per POST. When the registry cannot be reached the inbox answers 503 and records nothing: the events are
delivered again later.
"""

import logging

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.cases.sync import Timeline
from services.relief.errors import from_registry
from services.relief.models import events, plumbing
from services.relief.reconcile import repository
from services.relief.reconcile.service import follow
from shared.audit import AuditTrail
from shared.db import sessions_of
from shared.events import Intake, inbox_router
from shared.observability import request_id_var
from shared.schemas.events import EventEnvelope, PersonHealthChangedV1

log = logging.getLogger("fupin.relief.inbox")

FOLLOWED = ("person.health_changed", 1)


def _health_change(event: EventEnvelope) -> PersonHealthChangedV1 | None:
    """The payload of a `person.health_changed` relief follows; None for another event or one that does not
    validate (taking it then refuses it)."""
    if (event.type, event.version) != FOLLOWED:
        return None
    try:
        return PersonHealthChangedV1.model_validate(event.data)
    except ValidationError:
        return None


async def prepare(request: Request, new: list[EventEnvelope]) -> Intake:
    """Read the timelines of the persons whose health events relief has not taken in yet, then follow each of
    them once, under their locks taken in a fixed order."""
    changes = [change for event in new if (change := _health_change(event)) is not None]
    async with sessions_of(request.app)() as session:
        known = await repository.known_among(session, [c.health_event_id for c in changes if c.health_event_id])
    wanted = sorted({c.person_id for c in changes if c.health_event_id is None or c.health_event_id not in known})
    registry = request.app.state.registry
    histories = await from_registry(registry.health_histories(wanted)) if wanted else {}
    for person_id in set(wanted) - set(histories):
        log.info("the registry has no person %s", person_id)
    followed: set[str] = set()

    async def begin(session: AsyncSession) -> None:
        for person_id in sorted(histories):
            await repository.lock_person(session, person_id)

    async def take(session: AsyncSession, event: EventEnvelope) -> None:
        if (event.type, event.version) != FOLLOWED:
            return
        change = PersonHealthChangedV1.model_validate(event.data)  # refuses the event when it does not validate
        history = histories.get(change.person_id)
        if history is None or change.person_id in followed:
            return
        audit = AuditTrail.outside_request(session, plumbing.audit_log, request_id_var.get())
        await follow(session, audit, registry, Timeline.of(history), opened_by="event", source_event_id=event.id)
        followed.add(change.person_id)

    return Intake(take=take, begin=begin)


router = inbox_router("relief", events, prepare, "relief: events 事件订阅")
