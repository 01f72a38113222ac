"""Regions: read by anyone who reads the registry; a village registered under its township by an officer of it."""

from services.registry.models import Region
from services.registry.regions import repository
from services.registry.regions.errors import RegionExists, RegionNotFound, TownshipNotFound
from services.registry.regions.schemas import RegionLevel, RegionOut, VillageCreate
from shared.context import Ctx
from shared.errors import Forbidden


def region_out(region: Region) -> RegionOut:
    return RegionOut(code=region.code, name=region.name, level=region.level, parent_code=region.parent_code)


async def search(ctx: Ctx, *, name: str | None, level: RegionLevel | None, limit: int) -> list[RegionOut]:
    return [region_out(r) for r in await repository.search(ctx.session, name=name, level=level, limit=limit)]


async def _existing(ctx: Ctx, code: str) -> Region:
    region = await repository.get(ctx.session, code)
    if region is None:
        raise RegionNotFound()
    return region


async def get_region(ctx: Ctx, code: str) -> RegionOut:
    return region_out(await _existing(ctx, code))


async def children(ctx: Ctx, code: str) -> list[RegionOut]:
    await _existing(ctx, code)
    return [region_out(r) for r in await repository.children(ctx.session, code)]


async def create_village(ctx: Ctx, body: VillageCreate) -> RegionOut:
    """Under an existing township, by an officer whose scope holds it (not a village cadre); audited."""
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
    return region_out(village)
