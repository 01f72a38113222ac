"""Regions: the city, counties, 万盛经开区, townships and villages."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.errors import RegionExists, RegionNotFound, TownshipNotFound
from services.registry.models import Region
from services.registry.regions import repository
from services.registry.regions.schemas import RegionLevel, RegionOut, VillageCreate
from shared.context import context_for
from shared.errors import Forbidden

router = APIRouter(prefix="/api/v1/registry/regions", tags=["registry: regions 行政区划"])
Reader = context_for("registry:read")
Creator = context_for("registry:create")


def _out(region: Region) -> RegionOut:
    return RegionOut(code=region.code, name=region.name, level=region.level, parent_code=region.parent_code)


@router.get("", operation_id="registry_search_regions", response_model=list[RegionOut])
async def search_regions(
    ctx: Reader,
    name: Annotated[str | None, Query(max_length=50, description="名称包含 Name contains")] = None,
    level: RegionLevel | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[RegionOut]:
    """Search regions by name 按名称查找行政区划"""
    return [_out(r) for r in await repository.search(ctx.session, name=name, level=level, limit=limit)]


@router.get("/{code}", operation_id="registry_get_region", response_model=RegionOut)
async def get_region(code: str, ctx: Reader) -> RegionOut:
    """Get a region 查看行政区划"""
    region = await repository.get(ctx.session, code)
    if region is None:
        raise RegionNotFound()
    return _out(region)


@router.get("/{code}/children", operation_id="registry_region_children", response_model=list[RegionOut])
async def region_children(code: str, ctx: Reader) -> list[RegionOut]:
    """A region's children 下级行政区划"""
    if await repository.get(ctx.session, code) is None:
        raise RegionNotFound()
    return [_out(r) for r in await repository.children(ctx.session, code)]


@router.post("", operation_id="registry_create_village", response_model=RegionOut, status_code=201)
async def create_village(body: VillageCreate, ctx: Creator) -> RegionOut:
    """Register a village or community under its township 登记村（社区）"""
    township = await repository.get(ctx.session, body.code[:9])
    if township is None or township.level != "township":
        raise TownshipNotFound(field="code")
    if not ctx.principal.covers(body.code) or ctx.principal.is_cadre_only:
        raise Forbidden(permission="registry:create")
    if await repository.get(ctx.session, body.code) is not None:
        raise RegionExists(field="code")
    village = Region(
        code=body.code, name=body.name, level="village", parent_code=township.code, county_code=township.county_code
    )
    await repository.add(ctx.session, village)
    await ctx.audit.record(
        ctx.principal,
        action="region.create",
        entity="region",
        entity_id=village.code,
        county_code=village.county_code,
        changes={"name": village.name},
    )
    return _out(village)
