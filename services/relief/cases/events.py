"""How relief cases answer the registry's `person.health_changed` (services/relief/events.py calls it).

- confirmed: open a case when the person is a member of a household whose status is eligible on the diagnosis date
  (one case per person and diagnosis date: a repeat changes nothing; none while the person has an open case).
- discharged, deceased: close the person's open case at that date.

The registry unreachable raises RegistryUnavailable: the inbox answers 503 and the event comes again later.
"""

import logging
from typing import TYPE_CHECKING

from pydantic import BaseModel

from services.relief.cases import repository, service
from services.relief.cases.errors import CaseExists
from shared.auth import Principal
from shared.schemas.events import EventEnvelope, PersonHealthChangedV1

if TYPE_CHECKING:
    from services.relief.events import EventCtx

log = logging.getLogger("fupin.relief.cases")

# Who the audit log names for what the registry's events do here.
EVENTS = Principal(subject="system:relief-events", kind="client", roles=(), regions=())
OPENED_BY_EVENT = "event"
CLOSING_KINDS = frozenset({"discharged", "deceased"})


async def on_health_changed(ctx: "EventCtx", event: EventEnvelope, payload: BaseModel) -> None:
    assert isinstance(payload, PersonHealthChangedV1)
    if payload.kind == "confirmed":
        await _open_from(ctx, event, payload)
    elif payload.kind in CLOSING_KINDS:
        await _close_from(ctx, payload)


async def _open_from(ctx: "EventCtx", event: EventEnvelope, payload: PersonHealthChangedV1) -> None:
    diagnosed_on = payload.diagnosed_on or payload.occurred_on
    if await repository.case_of(ctx.session, payload.person_id, diagnosed_on) is not None:
        return
    if await repository.open_cases_of(ctx.session, payload.person_id):
        log.info("event %s: person %s has an open relief case; none opened", event.id, payload.person_id)
        return
    household = await service.fetch_household(ctx.registry, payload.household_id)
    member = None if household is None else service.member_of(household, payload.person_id)
    if household is None or member is None:
        log.info("event %s: the registry has no household %s with person %s", event.id, payload.household_id,
                 payload.person_id)  # fmt: skip
        return
    if not await service.is_eligible(ctx.session, household, diagnosed_on):
        log.info("event %s: household %s (%s) is not eligible on %s", event.id, household.id, household.status.value,
                 diagnosed_on)  # fmt: skip
        return
    try:
        await service.open_case_for(
            ctx.session, ctx.audit, EVENTS, household=household, member=member, diagnosed_on=diagnosed_on,
            opened_by=OPENED_BY_EVENT, source_event_id=event.id,
        )  # fmt: skip
    except CaseExists:
        return  # another delivery opened it meanwhile


async def _close_from(ctx: "EventCtx", payload: PersonHealthChangedV1) -> None:
    for case in await repository.open_cases_of(ctx.session, payload.person_id, for_update=True):
        if case.diagnosed_on <= payload.occurred_on:
            await service.close_case(
                ctx.session, ctx.audit, EVENTS, case, closed_on=payload.occurred_on, reason=payload.kind
            )
