"""Case flags (measure 22): villages and townships with cases are flagged "no team entry" (禁止工作队入户).

A region's active cases are kept by the health events, in their transaction (see `health.rules.is_active_case`);
an officer may override the flag either way for cases the registry does not hold, and clear the override. The
effective flag is the override when there is one, else "any active case"; `village.case_flag_changed` is published
whenever it changes, and only then.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.events import emit
from services.registry.flags import repository
from services.registry.flags.schemas import CaseFlagOut, CaseFlagSet
from services.registry.models import CaseFlag, Household, Region
from services.registry.regions.errors import RegionNotFound
from shared.audit import diff
from shared.context import Ctx
from shared.errors import domain_error
from shared.pagination import Page, PageParams, after_id, page_of
from shared.schemas.events import VillageCaseFlagChangedV1

CaseFlagLevel = domain_error(
    "CaseFlagLevel", 422, "case_flag_level",
    "只有村（社区）和乡镇（街道）可以标记有疫情", "Only villages and townships can be flagged",
)  # fmt: skip
CaseFlagReasonRequired = domain_error(
    "CaseFlagReasonRequired", 422, "case_flag_reason_required",
    "人工标记或取消标记须说明原因", "Setting the flag on or off needs a reason",
)  # fmt: skip

FLAGGED_LEVELS = ("village", "township")


def effective_flag(flag: CaseFlag) -> bool:
    """The manual override when there is one, else whether the region has an active case."""
    return flag.manual if flag.manual is not None else flag.active_cases > 0


async def _settle(session: AsyncSession, flag: CaseFlag) -> None:
    """Bring `flagged` in line with the counts and the override; announce a change."""
    flagged = effective_flag(flag)
    if flagged == flag.flagged:
        return
    flag.flagged = flagged
    payload = VillageCaseFlagChangedV1(
        region_code=flag.region_code, level=flag.level, county_code=flag.county_code, flagged=flagged,
        active_cases=flag.active_cases, manual=flag.manual,
    )  # fmt: skip
    what = "有疫情，禁止工作队入户" if flagged else "解除疫情标记"
    await emit(
        session,
        event_type="village.case_flag_changed",
        payload=payload,
        summary=f"{flag.region_code} {what}",
        county_code=flag.county_code,
    )


async def count_cases(session: AsyncSession, household: Household, delta: int) -> None:
    """A member of `household` became (+1) or stopped being (−1) an active case: its village and township count it."""
    for code, level in ((household.village_code, "village"), (household.township_code, "township")):
        flag = await repository.count_cases(
            session, region_code=code, level=level, county_code=household.county_code, delta=delta
        )
        await _settle(session, flag)


def _out(flag: CaseFlag, name: str | None, township_flagged: bool) -> CaseFlagOut:
    return CaseFlagOut(
        region_code=flag.region_code, region_name=name, level=flag.level, county_code=flag.county_code,
        active_cases=flag.active_cases or 0, manual=flag.manual, manual_reason=flag.manual_reason,
        manual_by=flag.manual_by, flagged=bool(flag.flagged), no_team_entry=bool(flag.flagged) or township_flagged,
        updated_at=flag.updated_at,
    )  # fmt: skip


async def _outs(session: AsyncSession, rows: list[tuple[CaseFlag, str | None]]) -> list[CaseFlagOut]:
    townships = await repository.flagged_among(session, {flag.region_code[:9] for flag, _ in rows})
    return [_out(flag, name, flag.region_code[:9] in townships) for flag, name in rows]


async def _region(ctx: Ctx, region_code: str) -> tuple[Region, CaseFlag]:
    """The region in scope with its flag (an unflagged one, not stored, when it never had a case or an override)."""
    scope = repository.region_scope(ctx.principal, Region.code)
    found = await repository.region_with_flag(ctx.session, region_code, scope)
    if found is None:
        raise RegionNotFound()
    region, flag = found
    if region.level not in FLAGGED_LEVELS:
        raise CaseFlagLevel(field="region_code")
    if flag is None:
        county_code = region.county_code or region.code[:6]
        flag = CaseFlag(region_code=region.code, level=region.level, county_code=county_code, active_cases=0)
        flag.flagged = False
    return region, flag


async def get_flag(ctx: Ctx, region_code: str) -> CaseFlagOut:
    region, flag = await _region(ctx, region_code)
    [out] = await _outs(ctx.session, [(flag, region.name)])
    return out


async def list_flags(ctx: Ctx, page: PageParams, *, flagged: bool | None) -> Page[CaseFlagOut]:
    """In region-code order; the cursor carries the last code shown."""
    rows = await repository.list_flags(
        ctx.session,
        scope=repository.region_scope(ctx.principal, CaseFlag.county_code, CaseFlag.region_code),
        flagged=flagged,
        updated_since=page.updated_since,
        after_code=after_id(page),
        limit=page.limit + 1,
    )
    kept, cursor = page_of(list(rows), page.limit, lambda row: {"id": row[0].region_code})
    return Page[CaseFlagOut](items=await _outs(ctx.session, kept), next_cursor=cursor)


async def set_flag(ctx: Ctx, region_code: str, body: CaseFlagSet) -> CaseFlagOut:
    """Set the manual override on or off (with a reason), or clear it (`flagged` null)."""
    region, _ = await _region(ctx, region_code)
    if body.flagged is not None and not body.reason:
        raise CaseFlagReasonRequired(field="reason")
    flag = await repository.count_cases(
        ctx.session, region_code=region.code, level=region.level, county_code=region.county_code or region.code[:6],
        delta=0,
    )  # fmt: skip
    before = {"manual": flag.manual, "flagged": flag.flagged}
    flag.manual = body.flagged
    flag.manual_reason = body.reason if body.flagged is not None else None
    flag.manual_by = ctx.principal.subject if body.flagged is not None else None
    await _settle(ctx.session, flag)
    await ctx.audit.record(
        ctx.principal,
        action="case_flag.set",
        entity="case_flag",
        entity_id=flag.region_code,
        county_code=flag.county_code,
        changes={**diff(before, {"manual": flag.manual, "flagged": flag.flagged}), "reason": body.reason},
    )
    [out] = await _outs(ctx.session, [(flag, region.name)])
    return out
