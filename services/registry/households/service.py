"""Rules for households (建档立卡户) and their members."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.registry.events import emit
from services.registry.households import repository
from services.registry.households.errors import (
    HeadCannotChange,
    HouseholdNoExists,
    IdNumberDuplicate,
    PersonNotFound,
    StatusReasonRequired,
)
from services.registry.households.schemas import HouseholdCreate, HouseholdUpdate, PersonCreate, PersonUpdate
from services.registry.models import Household, Person, StatusChange
from services.registry.regions import repository as regions
from services.registry.regions.errors import VillageNotFound
from services.registry.scope import household_scope
from shared.auth import region_clause
from shared.context import Ctx
from shared.dates import day_start, today
from shared.errors import HouseholdNotFound, OutOfScope
from shared.pagination import Page, PageParams, after_id, page_of
from shared.pii import birth_date_of, gender_of, mask_id_number
from shared.regions import scope_codes
from shared.schemas.events import HouseholdStatusChangedV1
from shared.schemas.registry import POVERTY_STATUS_ZH, HouseholdOut, HouseholdSummary, PersonOut, Relation


def person_out(ctx: Ctx, person: Person) -> PersonOut:
    return PersonOut(
        id=person.id,
        household_id=person.household_id,
        name=person.name,
        id_number=ctx.show(person.id_number_enc, person.id_number_masked) or "",
        gender=person.gender,
        birth_date=person.birth_date,
        relation=person.relation,
        labour_capacity=person.labour_capacity,
        migrant_status=person.migrant_status,
        phone=ctx.show(person.phone_enc, person.phone_masked),
        updated_at=person.updated_at,
    )


def _summary_fields(ctx: Ctx, household: Household) -> dict[str, Any]:
    return {
        "id": household.id,
        "household_no": household.household_no,
        "village_code": household.village_code,
        "township_code": household.township_code,
        "county_code": household.county_code,
        "status": household.status,
        "attribute": household.attribute,
        "dibao": household.dibao,
        "area_class": household.area_class,
        "address": household.address,
        "head_name": household.head_name,
        "member_count": household.member_count,
        "phone": ctx.show(household.phone_enc, household.phone_masked),
        "created_at": household.created_at,
        "updated_at": household.updated_at,
    }


async def _household_out(ctx: Ctx, household: Household) -> HouseholdOut:
    members = await repository.members_of(ctx.session, household.id)
    await ctx.audit_pii_read("household", [household.id])
    return HouseholdOut(**_summary_fields(ctx, household), members=[person_out(ctx, m) for m in members])


def _new_person(ctx: Ctx, household: Household, member: PersonCreate, id_hash: str) -> Person:
    return Person(
        household_id=household.id,
        county_code=household.county_code,
        township_code=household.township_code,
        name=member.name,
        id_number_enc=ctx.cipher.encrypt(member.id_number),
        id_number_hash=id_hash,
        id_number_masked=mask_id_number(member.id_number),
        gender=gender_of(member.id_number),
        birth_date=birth_date_of(member.id_number),
        relation=member.relation,
        labour_capacity=member.labour_capacity,
        migrant_status=member.migrant_status,
        **ctx.sealed_phone(member.phone),
    )


async def _check_id_numbers(ctx: Ctx, numbers: list[str], field_of: Any) -> list[str]:
    """Blind-index hashes of the numbers; 409 naming the field of the first one registered or repeated."""
    hashes = [ctx.cipher.blind_index(n) for n in numbers]
    seen: set[str] = set()
    for index, value in enumerate(hashes):
        if value in seen:
            raise IdNumberDuplicate(field=field_of(index))
        seen.add(value)
    taken = await repository.taken_id_hashes(ctx.session, hashes)
    for index, value in enumerate(hashes):
        if value in taken:
            raise IdNumberDuplicate(field=field_of(index))
    return hashes


async def create_household(ctx: Ctx, body: HouseholdCreate) -> HouseholdOut:
    village = await regions.get(ctx.session, body.village_code)
    if village is None or village.level != "village":
        raise VillageNotFound(field="village_code")
    if not ctx.principal.covers(body.village_code):
        raise OutOfScope(field="village_code")
    if await repository.household_no_taken(ctx.session, body.household_no):
        raise HouseholdNoExists(field="household_no")
    hashes = await _check_id_numbers(ctx, [m.id_number for m in body.members], lambda i: f"members.{i}.id_number")
    head = next(m for m in body.members if m.relation == Relation.head)
    household = Household(
        household_no=body.household_no,
        village_code=body.village_code,
        township_code=body.village_code[:9],
        county_code=village.county_code,
        status=body.status,
        attribute=body.attribute,
        dibao=body.dibao,
        area_class=body.area_class,
        address=body.address,
        head_name=head.name,
        member_count=len(body.members),
        **ctx.sealed_phone(body.phone),
    )
    await repository.add(ctx.session, household)
    people = [_new_person(ctx, household, m, h) for m, h in zip(body.members, hashes, strict=True)]
    try:
        await repository.add(ctx.session, *people)
    except IntegrityError as exc:  # a concurrent request registered the same ID number first
        raise IdNumberDuplicate(field="members") from exc
    await ctx.audit.record(
        ctx.principal,
        action="household.create",
        entity="household",
        entity_id=household.id,
        county_code=household.county_code,
        changes={
            "household_no": household.household_no,
            "village_code": household.village_code,
            "status": household.status,
            "members": [p.id for p in people],
        },
    )
    return await _household_out(ctx, household)


async def household_in_scope(ctx: Ctx, household_id: str) -> Household:
    household = await repository.get_household(ctx.session, household_id, household_scope(ctx.principal))
    if household is None:
        raise HouseholdNotFound()
    return household


async def get_household(ctx: Ctx, household_id: str) -> HouseholdOut:
    return await _household_out(ctx, await household_in_scope(ctx, household_id))


async def get_households(ctx: Ctx, household_ids: list[str]) -> list[HouseholdOut]:
    """The households in the caller's scope among `household_ids` (the others left out), with their members, in two
    queries; one audit entry when the caller sees ID numbers."""
    households = await repository.get_households(ctx.session, household_ids, household_scope(ctx.principal))
    members: dict[str, list[Person]] = {h.id: [] for h in households}
    for person in await repository.members_of_households(ctx.session, list(members)) if members else ():
        members[person.household_id].append(person)
    if households:
        await ctx.audit_pii_read("household", list(members))
    return [
        HouseholdOut(**_summary_fields(ctx, h), members=[person_out(ctx, m) for m in members[h.id]]) for h in households
    ]


async def list_households(
    ctx: Ctx,
    page: PageParams,
    *,
    region: str | None,
    status: str | None,
    attribute: str | None,
    dibao: bool | None,
) -> Page[HouseholdSummary]:
    before_id = after_id(page)
    region_filter = None
    if region:
        region_filter = region_clause(
            scope_codes(region), Household.county_code, Household.township_code, Household.village_code
        )
    rows = await repository.list_households(
        ctx.session,
        scope=household_scope(ctx.principal),
        region=region_filter,
        status=status,
        attribute=attribute,
        dibao=dibao,
        updated_since=page.updated_since,
        before_id=before_id,
        limit=page.limit + 1,
    )
    kept, cursor = page_of(list(rows), page.limit, lambda h: {"id": h.id})
    if any(h.phone_enc for h in kept):
        await ctx.audit_pii_read("household", [h.id for h in kept if h.phone_enc])
    return Page[HouseholdSummary](items=[HouseholdSummary(**_summary_fields(ctx, h)) for h in kept], next_cursor=cursor)


async def change_status(
    ctx: Ctx, household: Household, *, to_status: str, changed_on: date, reason: str
) -> StatusChange:
    """A poverty status change: kept as a StatusChange row and announced as household.status_changed."""
    change = StatusChange(
        household_id=household.id, county_code=household.county_code, from_status=household.status,
        to_status=to_status, changed_on=changed_on, reason=reason, recorded_by=ctx.principal.subject,
    )  # fmt: skip
    await repository.add(ctx.session, change)
    household.status = to_status
    household.updated_at = datetime.now(UTC)
    payload = HouseholdStatusChangedV1(
        household_id=household.id, county_code=household.county_code, from_status=change.from_status,
        to_status=to_status, changed_on=changed_on, reason=reason,
    )  # fmt: skip
    label = POVERTY_STATUS_ZH.get(to_status, to_status)
    await emit(
        ctx.session, event_type="household.status_changed", payload=payload, summary=f"{label}：{reason}",
        household_id=household.id, county_code=household.county_code, occurred_at=day_start(changed_on),
    )  # fmt: skip
    return change


async def update_household(ctx: Ctx, household_id: str, body: HouseholdUpdate) -> HouseholdOut:
    household = await household_in_scope(ctx, household_id)
    changes = body.model_dump(exclude_unset=True)
    reason = changes.pop("status_reason", None)
    status = changes.pop("status", None)
    recorded = ctx.apply(household, changes)
    if status is not None and status != household.status:
        if not reason:
            raise StatusReasonRequired(field="status_reason")
        before = household.status
        await change_status(ctx, household, to_status=status, changed_on=today(), reason=reason)
        recorded["status"] = [before, status]
        recorded["status_reason"] = reason
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="household.update",
        entity="household",
        entity_id=household.id,
        county_code=household.county_code,
        changes=recorded,
    )
    return await _household_out(ctx, household)


async def add_member(ctx: Ctx, household_id: str, body: PersonCreate) -> PersonOut:
    household = await household_in_scope(ctx, household_id)
    if body.relation == Relation.head:
        raise HeadCannotChange(field="relation")
    [id_hash] = await _check_id_numbers(ctx, [body.id_number], lambda _: "id_number")
    person = _new_person(ctx, household, body, id_hash)
    try:
        await repository.add(ctx.session, person)
    except IntegrityError as exc:
        raise IdNumberDuplicate(field="id_number") from exc
    household.member_count += 1
    household.updated_at = datetime.now(UTC)
    await ctx.audit.record(
        ctx.principal,
        action="person.create",
        entity="person",
        entity_id=person.id,
        county_code=household.county_code,
        changes={"household_id": household.id, "relation": person.relation},
    )
    await ctx.audit_pii_read("person", [person.id])
    return person_out(ctx, person)


async def person_in_scope(ctx: Ctx, person_id: str) -> Person:
    person = await repository.get_person(ctx.session, person_id, household_scope(ctx.principal))
    if person is None:
        raise PersonNotFound()
    return person


async def get_person(ctx: Ctx, person_id: str) -> PersonOut:
    person = await person_in_scope(ctx, person_id)
    await ctx.audit_pii_read("person", [person.id])
    return person_out(ctx, person)


async def find_person(ctx: Ctx, id_number: str) -> PersonOut:
    person = await repository.find_person_by_hash(
        ctx.session, ctx.cipher.blind_index(id_number), household_scope(ctx.principal)
    )
    if person is None:
        raise PersonNotFound()
    await ctx.audit_pii_read("person", [person.id])
    return person_out(ctx, person)


async def update_person(ctx: Ctx, person_id: str, body: PersonUpdate) -> PersonOut:
    person = await person_in_scope(ctx, person_id)
    changes = body.model_dump(exclude_unset=True)
    if "relation" in changes and (person.relation == Relation.head) != (changes["relation"] == Relation.head):
        raise HeadCannotChange(field="relation")
    recorded = ctx.apply(person, changes)
    if "name" in changes and person.relation == Relation.head:
        household = await household_in_scope(ctx, person.household_id)
        household.head_name = person.name
        household.updated_at = person.updated_at
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="person.update",
        entity="person",
        entity_id=person.id,
        county_code=person.county_code,
        changes=recorded,
    )
    await ctx.audit_pii_read("person", [person.id])
    return person_out(ctx, person)
