"""Case flags (measure 22): villages and townships with cases, "no team entry" (禁止工作队入户)."""

from fastapi import APIRouter

from services.registry.flags import service
from services.registry.flags.schemas import CaseFlagOut, CaseFlagSet
from shared.context import context_for
from shared.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/registry", tags=["registry: monitoring 疫情监测"])
Reader = context_for("registry:read")
FlagManager = context_for("flags:manage")


@router.get("/case-flags", operation_id="registry_list_case_flags", response_model=Page[CaseFlagOut])
async def list_case_flags(ctx: Reader, page: Paging, flagged: bool | None = None) -> Page[CaseFlagOut]:
    """Villages and townships with cases or an override, in code order 有疫情村社、乡镇"""
    return await service.list_flags(ctx, page, flagged=flagged)


@router.get("/case-flags/{region_code}", operation_id="registry_get_case_flag", response_model=CaseFlagOut)
async def get_case_flag(region_code: str, ctx: Reader) -> CaseFlagOut:
    """A village's or township's case flag 查看疫情标记"""
    return await service.get_flag(ctx, region_code)


@router.put("/case-flags/{region_code}", operation_id="registry_set_case_flag", response_model=CaseFlagOut)
async def set_case_flag(region_code: str, body: CaseFlagSet, ctx: FlagManager) -> CaseFlagOut:
    """Flag a village or township by hand, unflag it, or clear the override (flagged null) 人工设置疫情标记"""
    return await service.set_flag(ctx, region_code, body)
