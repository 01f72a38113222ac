"""Contacts, needs surveys, income plans, clean-ups, impact surveys."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.registry.contacts import service
from services.registry.contacts.schemas import (
    CAMPAIGN_PATTERN,
    Channel,
    CleanupOut,
    CleanupSet,
    CleanupSummary,
    ContactCreate,
    ContactKind,
    ContactOut,
    ImpactSummary,
    ImpactSurveyCreate,
    ImpactSurveyOut,
    IncomePlanCreate,
    IncomePlanOut,
    NeedsSurveyCreate,
    NeedsSurveyOut,
    RollupLevel,
)
from services.registry.records.schemas import Region
from shared.context import context_for
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/registry", tags=["registry: contacts 帮扶联系"])
Reader = context_for("registry:read")
Recorder = context_for("contacts:record")
Since = Annotated[date | None, Query(alias="from", description="起始日期（含） From this date, included")]
Until = Annotated[date | None, Query(alias="to", description="截止日期（含） To this date, included")]
CAMPAIGN = "整治活动代号（字母、数字、- 和 _） Campaign code: letters, digits, - and _"


# --- contacts (measure 5) ---------------------------------------------------------------------------------------


@router.post("/contacts", operation_id="registry_record_contact", response_model=ContactOut, status_code=201)
async def record_contact(body: ContactCreate, ctx: Recorder, idem: IdempotencyDep):
    """Log a contact with a household; no in-person visits where there are cases 记录帮扶联系"""
    return await idem.run(ctx.principal, 201, lambda: service.record_contact(ctx, body))


@router.get("/contacts", operation_id="registry_list_contacts", response_model=Page[ContactOut])
async def list_contacts(
    ctx: Reader,
    page: Paging,
    since: Since = None,
    until: Until = None,
    household_id: str | None = None,
    cadre_id: str | None = None,
    kind: ContactKind | None = None,
    channel: Channel | None = None,
) -> Page[ContactOut]:
    """Contacts in scope, newest first 帮扶联系列表"""
    return await service.list_contacts(
        ctx, page, household_id=household_id, cadre_id=cadre_id, kind=kind, channel=channel, since=since, until=until
    )


@router.get(
    "/households/{household_id}/contacts", operation_id="registry_household_contacts", response_model=Page[ContactOut]
)
async def household_contacts(household_id: str, ctx: Reader, page: Paging) -> Page[ContactOut]:
    """A household's contacts, newest first 贫困户帮扶联系记录"""
    return await service.household_contacts(ctx, household_id, page)


# --- needs surveys and income plans (measure 6) -----------------------------------------------------------------


@router.post(
    "/households/{household_id}/needs-surveys",
    operation_id="registry_record_needs_survey",
    response_model=NeedsSurveyOut,
    status_code=201,
)
async def record_needs_survey(household_id: str, body: NeedsSurveyCreate, ctx: Recorder, idem: IdempotencyDep):
    """Record a needs survey 记录脱贫需求调查"""
    return await idem.run(ctx.principal, 201, lambda: service.record_needs_survey(ctx, household_id, body))


@router.get(
    "/households/{household_id}/needs-surveys",
    operation_id="registry_list_needs_surveys",
    response_model=Page[NeedsSurveyOut],
)
async def needs_surveys(household_id: str, ctx: Reader, page: Paging) -> Page[NeedsSurveyOut]:
    """A household's needs surveys, newest first 脱贫需求调查记录"""
    return await service.needs_surveys(ctx, household_id, page)


@router.post(
    "/households/{household_id}/income-plans",
    operation_id="registry_record_income_plan",
    response_model=IncomePlanOut,
    status_code=201,
)
async def record_income_plan(household_id: str, body: IncomePlanCreate, ctx: Recorder, idem: IdempotencyDep):
    """Record an income plan; its expected income is the sum of its measures' 制定脱贫增收计划"""
    return await idem.run(ctx.principal, 201, lambda: service.record_income_plan(ctx, household_id, body))


@router.get(
    "/households/{household_id}/income-plans",
    operation_id="registry_list_income_plans",
    response_model=Page[IncomePlanOut],
)
async def income_plans(household_id: str, ctx: Reader, page: Paging) -> Page[IncomePlanOut]:
    """A household's income plans, newest first 脱贫增收计划记录"""
    return await service.income_plans(ctx, household_id, page)


# --- clean-ups (measure 8) --------------------------------------------------------------------------------------


@router.put(
    "/households/{household_id}/cleanups/{campaign}",
    operation_id="registry_set_cleanup",
    response_model=CleanupOut,
    responses={201: {"model": CleanupOut, "description": "Created"}},
)
async def set_cleanup(
    household_id: str,
    campaign: Annotated[str, Path(pattern=CAMPAIGN_PATTERN, description=CAMPAIGN, examples=["2020-spring"])],
    body: CleanupSet,
    ctx: Recorder,
    response: Response,
) -> CleanupOut:
    """Record (201) or replace (200) a household's clean-up for a campaign 记录房前屋后大扫除"""
    cleanup, created = await service.set_cleanup(ctx, household_id, campaign, body)
    response.status_code = 201 if created else 200
    return cleanup


@router.get(
    "/households/{household_id}/cleanups", operation_id="registry_household_cleanups", response_model=Page[CleanupOut]
)
async def household_cleanups(household_id: str, ctx: Reader, page: Paging) -> Page[CleanupOut]:
    """A household's clean-ups, newest first 贫困户大扫除记录"""
    return await service.household_cleanups(ctx, household_id, page)


@router.get("/cleanups", operation_id="registry_cleanup_summary", response_model=CleanupSummary)
async def cleanup_summary(
    ctx: Reader,
    campaign: Annotated[str, Query(pattern=CAMPAIGN_PATTERN, description=CAMPAIGN, examples=["2020-spring"])],
    region: Region = None,
    level: RollupLevel = RollupLevel.township,
) -> CleanupSummary:
    """Households done of households registered, per region 大扫除完成情况"""
    return await service.cleanup_summary(ctx, campaign=campaign, region=region, level=level)


# --- impact surveys (measure 19) --------------------------------------------------------------------------------


@router.post(
    "/households/{household_id}/impact-surveys",
    operation_id="registry_record_impact_survey",
    response_model=ImpactSurveyOut,
    status_code=201,
)
async def record_impact_survey(household_id: str, body: ImpactSurveyCreate, ctx: Recorder, idem: IdempotencyDep):
    """Record an epidemic impact survey 记录疫情影响调查"""
    return await idem.run(ctx.principal, 201, lambda: service.record_impact_survey(ctx, household_id, body))


@router.get(
    "/households/{household_id}/impact-surveys",
    operation_id="registry_list_impact_surveys",
    response_model=Page[ImpactSurveyOut],
)
async def impact_surveys(household_id: str, ctx: Reader, page: Paging) -> Page[ImpactSurveyOut]:
    """A household's impact surveys, newest first 疫情影响调查记录"""
    return await service.impact_surveys(ctx, household_id, page)


@router.get("/impact-surveys/summary", operation_id="registry_impact_summary", response_model=ImpactSummary)
async def impact_summary(
    ctx: Reader,
    region: Region = None,
    level: RollupLevel = RollupLevel.county,
    since: Since = None,
    until: Until = None,
) -> ImpactSummary:
    """Impact surveys aggregated per region, each household by its latest survey 疫情影响调查汇总"""
    return await service.impact_summary(ctx, region=region, level=level, since=since, until=until)
