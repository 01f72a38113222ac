"""Regions: the city, counties, 万盛经开区, townships and villages."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.regions import service
from services.registry.regions.schemas import RegionLevel, RegionOut, VillageCreate
from shared.context import context_for

router = APIRouter(prefix="/api/v1/registry/regions", tags=["registry: regions 行政区划"])
Reader = context_for("registry:read")
Creator = context_for("registry:create")


@router.get("", operation_id="registry_search_regions", response_model=list[RegionOut])
async def search_regions(
    ctx: Reader,
    name: Annotated[str | None, Query(max_length=50, description="名称包含 Name contains")] = None,
    level: RegionLevel | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[RegionOut]:
    """Search regions by name 按名称查找行政区划"""
    return await service.search(ctx, name=name, level=level, limit=limit)


@router.get("/{code}", operation_id="registry_get_region", response_model=RegionOut)
async def get_region(code: str, ctx: Reader) -> RegionOut:
    """Get a region 查看行政区划"""
    return await service.get_region(ctx, code)


@router.get("/{code}/children", operation_id="registry_region_children", response_model=list[RegionOut])
async def region_children(code: str, ctx: Reader) -> list[RegionOut]:
    """A region's children 下级行政区划"""
    return await service.children(ctx, code)


@router.post("", operation_id="registry_create_village", response_model=RegionOut, status_code=201)
async def create_village(body: VillageCreate, ctx: Creator) -> RegionOut:
    """Register a village or community under its township 登记村（社区）"""
    return await service.create_village(ctx, body)
