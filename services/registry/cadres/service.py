"""Rules for assistance cadres (帮扶干部), their pairings with households (结对帮扶), a cadre's to-do list of the five
ones (measure 6) and cadres' health checks (measure 21)."""

from datetime import UTC, date, datetime

from sqlalchemy.exc import IntegrityError

from services.registry.cadres import repository
from services.registry.cadres.errors import (
    CadreUsernameTaken,
    PairingEndBeforeStart,
    PairingEnded,
    PairingExists,
    PairingNotFound,
)
from services.registry.cadres.schemas import (
    CadreCreate,
    CadreTodo,
    CadreUpdate,
    HealthCheckCreate,
    HealthCheckOut,
    PairingCreate,
    PairingEnd,
    PairingOut,
)
from services.registry.fiveones import service as fiveones
from services.registry.fiveones import upkeep
from services.registry.households import repository as households
from services.registry.models import Cadre, CadreHealthCheck, Pairing
from services.registry.models import FiveOnesProgress as Progress
from services.registry.records.service import degrees, keep, listed, tenths
from services.registry.regions import repository as regions
from services.registry.regions.errors import RegionNotFound
from services.registry.scope import cadre_scope, household_scope, pairing_scope
from shared.context import Ctx
from shared.dates import not_in_future
from shared.errors import CadreInactive, CadreNotFound, HouseholdNotFound, OutOfScope
from shared.pagination import Page, PageParams, after_id, page_of
from shared.schemas.registry import CadreOut


def cadre_out(ctx: Ctx, cadre: Cadre) -> CadreOut:
    return CadreOut(
        id=cadre.id,
        name=cadre.name,
        unit=cadre.unit,
        position=cadre.position,
        phone=ctx.show(cadre.phone_enc, cadre.phone_masked),
        region_code=cadre.region_code,
        county_code=cadre.county_code,
        username=cadre.username,
        active=cadre.active,
        created_at=cadre.created_at,
        updated_at=cadre.updated_at,
    )


def pairing_out(row: repository.PairingRow) -> PairingOut:
    pairing, cadre_name, household_no = row
    return PairingOut(
        id=pairing.id,
        cadre_id=pairing.cadre_id,
        cadre_name=cadre_name,
        household_id=pairing.household_id,
        household_no=household_no,
        county_code=pairing.county_code,
        start_date=pairing.start_date,
        end_date=pairing.end_date,
        active=pairing.active,
        updated_at=pairing.updated_at,
    )


async def create_cadre(ctx: Ctx, body: CadreCreate) -> CadreOut:
    region = await regions.get(ctx.session, body.region_code)
    if region is None or region.county_code is None:
        raise RegionNotFound(field="region_code")
    if not ctx.principal.covers(body.region_code):
        raise OutOfScope(field="region_code")
    if body.username and await repository.username_taken(ctx.session, body.username):
        raise CadreUsernameTaken(field="username")
    cadre = Cadre(
        name=body.name,
        unit=body.unit,
        position=body.position,
        region_code=body.region_code,
        county_code=region.county_code,
        township_code=body.region_code[:9] if len(body.region_code) >= 9 else None,
        username=body.username,
        **ctx.sealed_phone(body.phone),
    )
    try:
        await repository.add(ctx.session, cadre)
    except IntegrityError as exc:
        raise CadreUsernameTaken(field="username") from exc
    await ctx.audit.record(
        ctx.principal,
        action="cadre.create",
        entity="cadre",
        entity_id=cadre.id,
        county_code=cadre.county_code,
        changes={"name": cadre.name, "region_code": cadre.region_code, "username": cadre.username},
    )
    return cadre_out(ctx, cadre)


async def cadre_in_scope(ctx: Ctx, cadre_id: str, field: str | None = None) -> Cadre:
    """The cadre in the caller's scope, else not found (on `field` when the id came in a request body)."""
    cadre = await repository.get_cadre(ctx.session, cadre_id, cadre_scope(ctx.principal))
    if cadre is None:
        raise CadreNotFound(field=field)
    return cadre


async def get_cadre(ctx: Ctx, cadre_id: str) -> CadreOut:
    cadre = await cadre_in_scope(ctx, cadre_id)
    if cadre.phone_enc:
        await ctx.audit_pii_read("cadre", [cadre.id])
    return cadre_out(ctx, cadre)


async def list_cadres(ctx: Ctx, page: PageParams, *, active: bool | None) -> Page[CadreOut]:
    before_id = after_id(page)
    rows = await repository.list_cadres(
        ctx.session, scope=cadre_scope(ctx.principal), before_id=before_id, limit=page.limit + 1, active=active
    )
    kept, cursor = page_of(list(rows), page.limit, lambda c: {"id": c.id})
    await ctx.audit_pii_read("cadre", [c.id for c in kept if c.phone_enc])
    return Page[CadreOut](items=[cadre_out(ctx, c) for c in kept], next_cursor=cursor)


async def update_cadre(ctx: Ctx, cadre_id: str, body: CadreUpdate) -> CadreOut:
    cadre = await cadre_in_scope(ctx, cadre_id)
    recorded = ctx.apply(cadre, body.model_dump(exclude_unset=True))
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="cadre.update",
        entity="cadre",
        entity_id=cadre.id,
        county_code=cadre.county_code,
        changes=recorded,
    )
    return cadre_out(ctx, cadre)


async def create_pairing(ctx: Ctx, body: PairingCreate) -> PairingOut:
    cadre = await cadre_in_scope(ctx, body.cadre_id, "cadre_id")
    if not cadre.active:
        raise CadreInactive(field="cadre_id")
    household = await households.get_household(ctx.session, body.household_id, household_scope(ctx.principal))
    if household is None:
        raise HouseholdNotFound(field="household_id")
    if await repository.open_pairing_exists(ctx.session, cadre.id, household.id):
        raise PairingExists(field="household_id")
    pairing = Pairing(
        cadre_id=cadre.id,
        household_id=household.id,
        county_code=household.county_code,
        township_code=household.township_code,
        start_date=body.start_date,
    )
    try:
        await repository.add(ctx.session, pairing)
    except IntegrityError as exc:
        raise PairingExists(field="household_id") from exc
    await upkeep.on_pairing_created(ctx.session, pairing)
    await ctx.audit.record(
        ctx.principal,
        action="pairing.create",
        entity="pairing",
        entity_id=pairing.id,
        county_code=pairing.county_code,
        changes={"cadre_id": cadre.id, "household_id": household.id, "start_date": body.start_date.isoformat()},
    )
    return pairing_out((pairing, cadre.name, household.household_no))


async def _pairing(ctx: Ctx, pairing_id: str) -> repository.PairingRow:
    row = await repository.get_pairing(ctx.session, pairing_id, pairing_scope(ctx.principal))
    if row is None:
        raise PairingNotFound()
    return row


async def get_pairing(ctx: Ctx, pairing_id: str) -> PairingOut:
    return pairing_out(await _pairing(ctx, pairing_id))


async def end_pairing(ctx: Ctx, pairing_id: str, body: PairingEnd) -> PairingOut:
    row = await _pairing(ctx, pairing_id)
    pairing = row[0]
    if not pairing.active:
        raise PairingEnded()
    if body.end_date < pairing.start_date:
        raise PairingEndBeforeStart(field="end_date")
    pairing.active = False
    pairing.end_date = body.end_date
    pairing.updated_at = datetime.now(UTC)
    await ctx.session.flush()
    await upkeep.on_pairing_ended(ctx.session, pairing)
    await ctx.audit.record(
        ctx.principal,
        action="pairing.end",
        entity="pairing",
        entity_id=pairing.id,
        county_code=pairing.county_code,
        changes={"end_date": body.end_date.isoformat()},
    )
    return pairing_out(row)


async def list_pairings(
    ctx: Ctx, page: PageParams, *, cadre_id: str | None, household_id: str | None, active: bool | None
) -> Page[PairingOut]:
    before_id = after_id(page)
    rows = await repository.list_pairings(
        ctx.session,
        scope=pairing_scope(ctx.principal),
        cadre_id=cadre_id,
        household_id=household_id,
        active=active,
        before_id=before_id,
        limit=page.limit + 1,
    )
    kept, cursor = page_of(rows, page.limit, lambda r: {"id": r[0].id})
    return Page[PairingOut](items=[pairing_out(r) for r in kept], next_cursor=cursor)


# --- a cadre's to-do list of the five ones (measure 6) ---------------------------------------------------------


async def _todo(ctx: Ctx, cadre: Cadre, current: fiveones.Campaign) -> CadreTodo:
    """Unfinished households first; among them not-yet-lifted ones (the notice's priority), then the most missing."""
    rows = await fiveones.picked(
        ctx, current, fiveones.pairing_filters(ctx, current, None, Progress.cadre_id == cadre.id)
    )
    households = sorted(
        (fiveones.pairing_out(row) for row in rows),
        key=lambda p: (p.complete, p.household_status != "not_lifted", -len(p.missing), p.household_no),
    )
    return CadreTodo(
        cadre_id=cadre.id, cadre_name=cadre.name, as_of=current.as_of, window=current.window, households=households
    )


async def cadre_todo(ctx: Ctx, cadre_id: str, as_of: date | None) -> CadreTodo:
    current = await fiveones.campaign(ctx, as_of)
    return await _todo(ctx, await cadre_in_scope(ctx, cadre_id), current)


async def my_todo(ctx: Ctx, as_of: date | None) -> CadreTodo:
    """The to-do list of the cadre whose login is the caller."""
    current = await fiveones.campaign(ctx, as_of)
    cadre = await repository.cadre_of_user(ctx.session, ctx.principal.subject)
    if cadre is None:
        raise CadreNotFound()
    return await _todo(ctx, cadre, current)


# --- health checks (measure 21) ---------------------------------------------------------------------------


def health_check_out(check: CadreHealthCheck) -> HealthCheckOut:
    return HealthCheckOut(
        id=check.id,
        cadre_id=check.cadre_id,
        checked_on=check.checked_on,
        temperature_c=degrees(check.temperature_dc),
        healthy=check.healthy,
        notes=check.notes,
        recorded_by=check.recorded_by,
        created_at=check.created_at,
    )


async def record_health_check(ctx: Ctx, cadre_id: str, body: HealthCheckCreate) -> HealthCheckOut:
    not_in_future(body.checked_on, "checked_on")
    cadre = await cadre_in_scope(ctx, cadre_id)
    check = CadreHealthCheck(
        cadre_id=cadre.id,
        county_code=cadre.county_code,
        checked_on=body.checked_on,
        temperature_dc=tenths(body.temperature_c),
        healthy=body.healthy,
        notes=body.notes,
        recorded_by=ctx.principal.subject,
    )
    await keep(ctx, check, entity="cadre_health_check", details=body.model_dump(mode="json"))
    return health_check_out(check)


async def health_checks(ctx: Ctx, cadre_id: str, page: PageParams) -> Page[HealthCheckOut]:
    await cadre_in_scope(ctx, cadre_id)
    return await listed(ctx, CadreHealthCheck.checked_on, page, health_check_out, cadre_id=cadre_id)
