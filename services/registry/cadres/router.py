"""Assistance cadres (帮扶干部), cadre–household pairings (结对帮扶), a cadre's to-do list and health checks."""

from fastapi import APIRouter

from services.registry.cadres import service
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
from services.registry.records.schemas import AsOf
from shared.context import context_for
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging
from shared.schemas.registry import CadreOut

router = APIRouter(prefix="/api/v1/registry")
cadres = APIRouter(tags=["registry: cadres 帮扶干部"])
contacts = APIRouter(tags=["registry: contacts 帮扶联系"])  # what a cadre does for their households
Reader = context_for("registry:read")
Manager = context_for("cadres:manage")
Recorder = context_for("contacts:record")


@cadres.post("/cadres", operation_id="registry_create_cadre", response_model=CadreOut, status_code=201)
async def create_cadre(body: CadreCreate, ctx: Manager, idem: IdempotencyDep):
    """Register a cadre 登记帮扶干部"""
    return await idem.run(ctx.principal, 201, lambda: service.create_cadre(ctx, body))


@cadres.get("/cadres", operation_id="registry_list_cadres", response_model=Page[CadreOut])
async def list_cadres(ctx: Reader, page: Paging, active: bool | None = None) -> Page[CadreOut]:
    """Cadres in scope 帮扶干部列表"""
    return await service.list_cadres(ctx, page, active=active)


@cadres.get("/cadres/{cadre_id}", operation_id="registry_get_cadre", response_model=CadreOut)
async def get_cadre(cadre_id: str, ctx: Reader) -> CadreOut:
    """A cadre 查看帮扶干部"""
    return await service.get_cadre(ctx, cadre_id)


@cadres.patch("/cadres/{cadre_id}", operation_id="registry_update_cadre", response_model=CadreOut)
async def update_cadre(cadre_id: str, body: CadreUpdate, ctx: Manager, idem: IdempotencyDep):
    """Change a cadre's unit, position, phone or active flag 修改帮扶干部"""
    return await idem.run(ctx.principal, 200, lambda: service.update_cadre(ctx, cadre_id, body))


@cadres.post("/pairings", operation_id="registry_create_pairing", response_model=PairingOut, status_code=201)
async def create_pairing(body: PairingCreate, ctx: Manager, idem: IdempotencyDep):
    """Pair a cadre with a household 建立结对帮扶"""
    return await idem.run(ctx.principal, 201, lambda: service.create_pairing(ctx, body))


@cadres.get("/pairings", operation_id="registry_list_pairings", response_model=Page[PairingOut])
async def list_pairings(
    ctx: Reader,
    page: Paging,
    cadre_id: str | None = None,
    household_id: str | None = None,
    active: bool | None = None,
) -> Page[PairingOut]:
    """Pairings in scope 结对关系列表"""
    return await service.list_pairings(ctx, page, cadre_id=cadre_id, household_id=household_id, active=active)


@cadres.get("/pairings/{pairing_id}", operation_id="registry_get_pairing", response_model=PairingOut)
async def get_pairing(pairing_id: str, ctx: Reader) -> PairingOut:
    """A pairing 查看结对关系"""
    return await service.get_pairing(ctx, pairing_id)


@cadres.post("/pairings/{pairing_id}/end", operation_id="registry_end_pairing", response_model=PairingOut)
async def end_pairing(pairing_id: str, body: PairingEnd, ctx: Manager, idem: IdempotencyDep):
    """End a pairing 结束结对帮扶"""
    return await idem.run(ctx.principal, 200, lambda: service.end_pairing(ctx, pairing_id, body))


# --- a cadre's to-do list of the five ones (measure 6) ---------------------------------------------------------


@contacts.get("/cadres/{cadre_id}/todo", operation_id="registry_cadre_todo", response_model=CadreTodo)
async def cadre_todo(cadre_id: str, ctx: Reader, as_of: AsOf = None) -> CadreTodo:
    """A cadre's to-do list: each paired household with its missing items 帮扶干部待办"""
    return await service.cadre_todo(ctx, cadre_id, as_of)


@contacts.get("/me/todo", operation_id="registry_my_todo", response_model=CadreTodo)
async def my_todo(ctx: Reader, as_of: AsOf = None) -> CadreTodo:
    """The calling cadre's to-do list 我的待办"""
    return await service.my_todo(ctx, as_of)


# --- cadre health checks (measure 21) ---------------------------------------------------------------------------


@contacts.post(
    "/cadres/{cadre_id}/health-checks",
    operation_id="registry_record_cadre_health_check",
    response_model=HealthCheckOut,
    status_code=201,
)
async def record_health_check(cadre_id: str, body: HealthCheckCreate, ctx: Recorder, idem: IdempotencyDep):
    """Record a front-line cadre's health check 记录帮扶干部健康检查"""
    return await idem.run(ctx.principal, 201, lambda: service.record_health_check(ctx, cadre_id, body))


@contacts.get(
    "/cadres/{cadre_id}/health-checks",
    operation_id="registry_list_cadre_health_checks",
    response_model=Page[HealthCheckOut],
)
async def health_checks(cadre_id: str, ctx: Reader, page: Paging) -> Page[HealthCheckOut]:
    """A cadre's health checks, newest first 帮扶干部健康检查记录"""
    return await service.health_checks(ctx, cadre_id, page)


router.include_router(cadres)
router.include_router(contacts)
