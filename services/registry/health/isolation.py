"""Isolation check-ins (measure 7): a suspected or isolated person is checked on once a day, and the check-in goes
into the household's ledger (台账)."""

from sqlalchemy.exc import IntegrityError

from services.registry.health import repository
from services.registry.health.errors import CheckinExists
from services.registry.health.schemas import IsolationCheckinCreate, IsolationCheckinOut
from services.registry.households.service import person_in_scope
from services.registry.models import IsolationCheckin
from services.registry.records.service import degrees, keep, listed, tenths
from shared.context import Ctx
from shared.dates import not_in_future
from shared.pagination import Page, PageParams


def checkin_out(checkin: IsolationCheckin) -> IsolationCheckinOut:
    rules = (checkin.stays_home, checkin.no_gatherings, checkin.temperature_taken, checkin.mask_worn)
    return IsolationCheckinOut(
        id=checkin.id,
        person_id=checkin.person_id,
        household_id=checkin.household_id,
        checked_on=checkin.checked_on,
        temperature_c=degrees(checkin.temperature_dc),
        symptoms=checkin.symptoms,
        living_needs=checkin.living_needs,
        counselling=checkin.counselling,
        stays_home=checkin.stays_home,
        no_gatherings=checkin.no_gatherings,
        temperature_taken=checkin.temperature_taken,
        mask_worn=checkin.mask_worn,
        rules_kept=all(rules),
        help_given=checkin.help_given,
        recorded_by=checkin.recorded_by,
        created_at=checkin.created_at,
    )


async def record_checkin(ctx: Ctx, person_id: str, body: IsolationCheckinCreate) -> IsolationCheckinOut:
    """One check-in per person and day."""
    not_in_future(body.checked_on, "checked_on")
    person = await person_in_scope(ctx, person_id)
    if await repository.checkin_exists(ctx.session, person.id, body.checked_on):
        raise CheckinExists(field="checked_on")
    fields = body.model_dump(exclude={"temperature_c"})
    checkin = IsolationCheckin(
        **fields,
        person_id=person.id,
        household_id=person.household_id,
        county_code=person.county_code,
        township_code=person.township_code,
        temperature_dc=tenths(body.temperature_c),
        recorded_by=ctx.principal.subject,
    )
    temperature = f"，体温 {body.temperature_c}℃" if body.temperature_c is not None else ""
    try:
        await keep(
            ctx,
            checkin,
            entity="isolation_checkin",
            details={**body.model_dump(mode="json"), "person_id": person.id},
            summary=f"隔离人员随访：{person.name}{temperature}",
        )
    except IntegrityError as exc:  # a concurrent request recorded the same day first
        raise CheckinExists(field="checked_on") from exc
    return checkin_out(checkin)


async def checkins(ctx: Ctx, person_id: str, page: PageParams) -> Page[IsolationCheckinOut]:
    await person_in_scope(ctx, person_id)
    return await listed(ctx, IsolationCheckin.checked_on, page, checkin_out, person_id=person_id)
