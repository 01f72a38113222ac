"""Health events (measures 1, 4, 7): record them, keep the person's state, make confirmed patients key monitoring
objects and keep the case flags of their village and township, all in the event's transaction."""

from datetime import UTC, date, datetime

from services.registry.events import emit
from services.registry.flags import service as flags
from services.registry.health import repository, rules
from services.registry.health.schemas import HealthEventCreate, HealthEventRecorded
from services.registry.households import repository as households_repository
from services.registry.households.errors import PersonNotFound
from services.registry.households.service import person_in_scope
from services.registry.models import HealthEvent, Household, Person
from services.registry.scope import household_scope
from shared.auth import region_clause
from shared.context import Ctx
from shared.dates import day_start, today
from shared.pagination import Page, PageParams, after_id, page_of
from shared.regions import scope_codes
from shared.schemas.events import HouseholdMonitoringChangedV1, PersonHealthChangedV1
from shared.schemas.registry import HealthEventOut, HealthKind, HealthStatus, PersonHealthHistory, PersonHealthOut


def event_out(event: HealthEvent, person_name: str) -> HealthEventOut:
    return HealthEventOut(
        id=event.id, person_id=event.person_id, person_name=person_name, household_id=event.household_id,
        county_code=event.county_code, township_code=event.township_code, village_code=event.village_code,
        kind=event.kind, occurred_on=event.occurred_on, hospital=event.hospital, hospitalised=event.hospitalised,
        isolation_place=event.isolation_place, isolation_reason=event.isolation_reason, notes=event.notes,
        recorded_by=event.recorded_by, created_at=event.created_at,
    )  # fmt: skip


def _health(person: Person) -> dict:
    return {
        "person_id": person.id, "household_id": person.household_id, "name": person.name,
        "health_status": person.health_status, "diagnosed_on": person.diagnosed_on,
        "deceased_on": person.deceased_on, "key_monitoring": person.key_monitoring,
    }  # fmt: skip


async def record_event(ctx: Ctx, person_id: str, body: HealthEventCreate) -> HealthEventRecorded:
    found = await repository.person_for_update(ctx.session, person_id, household_scope(ctx.principal))
    if found is None:
        raise PersonNotFound()
    person, household = found
    previous = await repository.last_event(ctx.session, person.id)
    status = HealthStatus(person.health_status)
    rules.check_transition(status, body.kind)
    rules.check_details(body)
    rules.check_date(
        body.occurred_on,
        birth_date=person.birth_date,
        previous_on=previous.occurred_on if previous else None,
        on_date=today(),
    )
    was_active = rules.is_active_case(status, previous.isolation_reason if previous else None)
    event = HealthEvent(
        person_id=person.id, household_id=household.id, county_code=household.county_code,
        township_code=household.township_code, village_code=household.village_code, kind=body.kind,
        occurred_on=body.occurred_on, hospital=body.hospital, hospitalised=body.hospitalised,
        isolation_place=body.isolation_place, isolation_reason=body.isolation_reason, notes=body.notes,
        recorded_by=ctx.principal.subject,
    )  # fmt: skip
    await repository.add(ctx.session, event)
    becomes_key = _apply(person, body.kind, body.occurred_on)
    await ctx.session.flush()
    changes = {
        "person_id": person.id, "kind": body.kind.value, "occurred_on": body.occurred_on.isoformat(),
        "health_status": [status.value, person.health_status],
    }  # fmt: skip
    if becomes_key:
        changes["key_monitoring"] = [False, True]
    await ctx.audit.record(
        ctx.principal,
        action="health_event.record",
        entity="health_event",
        entity_id=event.id,
        county_code=household.county_code,
        changes=changes,
    )
    await _announce(ctx, person, household, event, status)
    if becomes_key:
        await _announce_key_monitoring(ctx, person, household, body.occurred_on)
    delta = int(rules.is_active_case(body.kind, body.isolation_reason)) - int(was_active)
    if delta:
        await flags.count_cases(ctx.session, household, delta)
    return HealthEventRecorded(event=event_out(event, person.name), person=PersonHealthOut(**_health(person)))


def _apply(person: Person, kind: HealthKind, occurred_on: date) -> bool:
    """The person's state after the event; True when they become a key monitoring object."""
    person.health_status = kind.value
    person.updated_at = datetime.now(UTC)
    if kind == HealthKind.deceased:
        person.deceased_on = occurred_on
    if kind != HealthKind.confirmed:
        return False
    person.diagnosed_on = occurred_on
    becomes_key = not person.key_monitoring
    person.key_monitoring = True
    return becomes_key


async def _announce(ctx: Ctx, person: Person, household: Household, event: HealthEvent, previous: HealthStatus) -> None:
    payload = PersonHealthChangedV1(
        person_id=person.id, household_id=household.id, county_code=household.county_code,
        township_code=household.township_code, village_code=household.village_code, area_class=household.area_class,
        household_status=household.status, kind=event.kind, occurred_on=event.occurred_on,
        previous_status=previous.value, status=person.health_status, hospitalised=event.hospitalised,
        hospital=event.hospital, diagnosed_on=person.diagnosed_on, health_event_id=event.id,
    )  # fmt: skip
    await emit(
        ctx.session,
        event_type="person.health_changed",
        payload=payload,
        summary=rules.summary(person.name, event),
        household_id=household.id,
        county_code=household.county_code,
        occurred_at=day_start(event.occurred_on),
    )


async def _announce_key_monitoring(ctx: Ctx, person: Person, household: Household, diagnosed_on: date) -> None:
    payload = HouseholdMonitoringChangedV1(
        household_id=household.id, county_code=household.county_code, person_id=person.id, key_monitoring=True,
        reason=f"确诊 confirmed {diagnosed_on.isoformat()}",
    )  # fmt: skip
    await emit(
        ctx.session,
        event_type="household.monitoring_changed",
        payload=payload,
        summary=f"{person.name} 确诊，列为重点监测对象",
        household_id=household.id,
        county_code=household.county_code,
        occurred_at=day_start(diagnosed_on),
    )


async def person_history(ctx: Ctx, person_id: str) -> PersonHealthHistory:
    person = await person_in_scope(ctx, person_id)
    events = await repository.events_of(ctx.session, person.id)
    return PersonHealthHistory(**_health(person), events=[event_out(e, person.name) for e in events])


async def persons_histories(ctx: Ctx, person_ids: list[str]) -> list[PersonHealthHistory]:
    """The histories of the persons in the caller's scope among `person_ids` (the others left out), in two
    queries: what a consumer of many `person.health_changed` at once reads."""
    persons = await households_repository.get_persons(ctx.session, person_ids, household_scope(ctx.principal))
    events: dict[str, list[HealthEvent]] = {person.id: [] for person in persons}
    for event in await repository.events_of_persons(ctx.session, list(events)) if events else ():
        events[event.person_id].append(event)
    return [
        PersonHealthHistory(**_health(person), events=[event_out(e, person.name) for e in events[person.id]])
        for person in persons
    ]


async def list_events(
    ctx: Ctx,
    page: PageParams,
    *,
    region: str | None,
    kind: HealthKind | None,
    occurred_from: date | None,
    occurred_to: date | None,
) -> Page[HealthEventOut]:
    """Newest recorded first; `updated_since` keeps the events recorded after that instant."""
    region_filter = None
    if region:
        region_filter = region_clause(
            scope_codes(region), HealthEvent.county_code, HealthEvent.township_code, HealthEvent.village_code
        )
    rows = await repository.list_events(
        ctx.session,
        scope=repository.event_scope(ctx.principal),
        region=region_filter,
        kind=kind.value if kind else None,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        created_since=page.updated_since,
        before_id=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(list(rows), page.limit, lambda row: {"id": row[0].id})
    return Page[HealthEventOut](items=[event_out(event, name) for event, name in kept], next_cursor=cursor)
