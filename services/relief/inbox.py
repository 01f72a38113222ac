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

from services.relief.cases import repository as cases
from services.relief.cases.sync import Timeline
from services.relief.errors import from_registry
from services.relief.models import events, plumbing
from services.relief.reconcile import repository as reconciliations
from services.relief.reconcile.service import follow, hold
from shared.audit import AuditTrail
from shared.db import readers_of
from shared.events import Intake, inbox_router
from shared.observability import request_id_var
from shared.schemas.events import EventEnvelope, PersonHealthChangedV1
from shared.schemas.registry import HealthKind, HouseholdOut

log = logging.getLogger("fupin.relief.inbox")

FOLLOWED = ("person.health_changed", 1)


def _health_change(event: EventEnvelope) -> PersonHealthChangedV1 | None:
    """The payload of a `person.health_changed`; None when it does not validate."""
    try:
        return PersonHealthChangedV1.model_validate(event.data)
    except ValidationError:
        return None


async def prepare(request: Request, new: list[EventEnvelope]) -> Intake:
    """Read the timelines of the persons whose health events relief has not taken in yet (and the households of
    those with a confirmation no case was opened for), then follow each of them once, under their locks taken in a
    fixed order."""
    # Each followed event's payload, validated once; None for one that does not validate (taking it refuses it)
    parsed = {event.id: _health_change(event) for event in new if (event.type, event.version) == FOLLOWED}
    changes = [change for change in parsed.values() if change is not None]
    registry = request.app.state.registry
    readers = readers_of(request.app)
    async with readers() as session:  # no transaction stays open while the registry answers
        known = await reconciliations.known_among(session, [c.health_event_id for c in changes if c.health_event_id])
    wanted = sorted({c.person_id for c in changes if c.health_event_id is None or c.health_event_id not in known})
    histories = await from_registry(registry.health_histories(wanted)) if wanted else {}
    opened_for: set[str] = set()
    if histories:
        async with readers() as session:
            opened_for = await cases.confirmations_of(session, list(histories))
    for person_id in set(wanted) - set(histories):
        log.info("the registry has no person %s", person_id)
    to_open = {
        history.household_id
        for history in histories.values()
        if any(e.kind == HealthKind.confirmed and e.id not in opened_for for e in history.events)
    }
    households: dict[str, HouseholdOut | None] = dict.fromkeys(to_open)  # None: the registry has no such household
    households.update(await from_registry(registry.households(sorted(to_open))) if to_open else {})
    followed: set[str] = set()
    held = reconciliations.Held()

    async def begin(session: AsyncSession) -> None:
        nonlocal held
        held = await hold(session, sorted(histories))

    def needs(event: EventEnvelope) -> bool:
        """A person's first event of the POST, or one that does not validate (taking it refuses it)."""
        if event.id not in parsed:
            return False
        change = parsed[event.id]
        return change is None or (change.person_id in histories and change.person_id not in followed)

    async def take(session: AsyncSession, event: EventEnvelope) -> None:
        change = parsed[event.id] or PersonHealthChangedV1.model_validate(event.data)  # the latter raises: refused
        audit = AuditTrail.outside_request(session, plumbing.audit_log, request_id_var.get())
        timeline = Timeline.of(histories[change.person_id])
        await follow(session, audit, registry, timeline, opened_by="event", source_event_id=event.id,
                     households=households, held=held)  # fmt: skip
        followed.add(change.person_id)

    return Intake(take=take, begin=begin, needs=needs)


router = inbox_router("relief", events, prepare, "relief: events 事件订阅")
