"""Assistance cadres (帮扶干部) and cadre–household pairings (结对帮扶)."""

from fastapi import APIRouter

from services.registry.cadres import service
from services.registry.cadres.schemas import CadreCreate, CadreUpdate, PairingCreate, PairingEnd, PairingOut
from shared.context import context_for
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging
from shared.schemas.registry import CadreOut

router = APIRouter(prefix="/api/v1/registry", tags=["registry: cadres 帮扶干部"])
Reader = context_for("registry:read")
Manager = context_for("cadres:manage")


@router.post("/cadres", operation_id="registry_create_cadre", response_model=CadreOut, status_code=201)
async def create_cadre(body: CadreCreate, ctx: Manager, idem: IdempotencyDep):
    """Register a cadre 登记帮扶干部"""
    return await idem.run(ctx.principal, 201, lambda: service.create_cadre(ctx, body))


@router.get("/cadres", operation_id="registry_list_cadres", response_model=Page[CadreOut])
async def list_cadres(ctx: Reader, page: Paging, active: bool | None = None) -> Page[CadreOut]:
    """Cadres in scope 帮扶干部列表"""
    return await service.list_cadres(ctx, page, active=active)


@router.get("/cadres/{cadre_id}", operation_id="registry_get_cadre", response_model=CadreOut)
async def get_cadre(cadre_id: str, ctx: Reader) -> CadreOut:
    """A cadre 查看帮扶干部"""
    return await service.get_cadre(ctx, cadre_id)


@router.patch("/cadres/{cadre_id}", operation_id="registry_update_cadre", response_model=CadreOut)
async def update_cadre(cadre_id: str, body: CadreUpdate, ctx: Manager, idem: IdempotencyDep):
    """Change a cadre's unit, position, phone or active flag 修改帮扶干部"""
    return await idem.run(ctx.principal, 200, lambda: service.update_cadre(ctx, cadre_id, body))


@router.post("/pairings", operation_id="registry_create_pairing", response_model=PairingOut, status_code=201)
async def create_pairing(body: PairingCreate, ctx: Manager, idem: IdempotencyDep):
    """Pair a cadre with a household 建立结对帮扶"""
    return await idem.run(ctx.principal, 201, lambda: service.create_pairing(ctx, body))


@router.get("/pairings", operation_id="registry_list_pairings", response_model=Page[PairingOut])
async def list_pairings(
    ctx: Reader,
    page: Paging,
    cadre_id: str | None = None,
    household_id: str | None = None,
    active: bool | None = None,
) -> Page[PairingOut]:
    """Pairings in scope 结对关系列表"""
    return await service.list_pairings(ctx, page, cadre_id=cadre_id, household_id=household_id, active=active)


@router.get("/pairings/{pairing_id}", operation_id="registry_get_pairing", response_model=PairingOut)
async def get_pairing(pairing_id: str, ctx: Reader) -> PairingOut:
    """A pairing 查看结对关系"""
    return await service.get_pairing(ctx, pairing_id)


@router.post("/pairings/{pairing_id}/end", operation_id="registry_end_pairing", response_model=PairingOut)
async def end_pairing(pairing_id: str, body: PairingEnd, ctx: Manager, idem: IdempotencyDep):
    """End a pairing 结束结对帮扶"""
    return await idem.run(ctx.principal, 200, lambda: service.end_pairing(ctx, pairing_id, body))
