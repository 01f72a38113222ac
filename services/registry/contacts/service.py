"""Rules of the contact log (measure 5), needs surveys and income plans (6), clean-ups (8) and impact surveys (19).

Every record is audited; a record about a household goes into its ledger (台账) in the same transaction: a contact
as the `contact.recorded` event, the others as ledger notes (no other service subscribes to them).
"""

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.registry.cadres import repository as cadres
from services.registry.cadres.service import cadre_in_scope
from services.registry.contacts import repository
from services.registry.contacts.errors import VisitRefused
from services.registry.contacts.rollup import average, percent, summed
from services.registry.contacts.schemas import (
    Channel,
    CleanupCounts,
    CleanupOut,
    CleanupSet,
    CleanupSummary,
    ContactCreate,
    ContactKind,
    ContactOut,
    ImpactCounts,
    ImpactSummary,
    ImpactSurveyCreate,
    ImpactSurveyOut,
    IncomePlanCreate,
    IncomePlanOut,
    Need,
    NeedsSurveyCreate,
    NeedsSurveyOut,
    RollupLevel,
    SurveyMethod,
)
from services.registry.contacts.scope import in_region, narrowing, record_scope, region_group
from services.registry.events import emit
from services.registry.fiveones import upkeep
from services.registry.flags.repository import no_team_entry
from services.registry.households import repository as households
from services.registry.households.service import household_in_scope
from services.registry.models import Cadre, Cleanup, Contact, Household, ImpactSurvey, IncomePlan, NeedsSurvey
from services.registry.records.repository import day_end, day_start, newest_first
from services.registry.records.service import keep, listed
from services.registry.regions import repository as regions
from services.registry.scope import household_scope
from shared.audit import diff
from shared.context import Ctx
from shared.dates import not_in_future
from shared.errors import CadreInactive, Conflict, HouseholdNotFound
from shared.money import yuan
from shared.pagination import Page, PageParams
from shared.schemas.events import ContactRecordedV1

HOUSEHOLD_CODES = (Household.county_code, Household.township_code, Household.village_code)

CHANNEL_ZH = {
    Channel.phone: "电话", Channel.sms: "短信", Channel.qq: "QQ", Channel.wechat: "微信", Channel.letter: "书信",
    Channel.visit: "入户",
}  # fmt: skip
KIND_ZH = {
    ContactKind.care: "慰问", ContactKind.counselling: "心理疏导", ContactKind.prevention_education: "防疫宣传",
    ContactKind.supplies_help: "帮购防护物资", ContactKind.needs_survey: "需求调查",
    ContactKind.income_plan: "增收计划", ContactKind.agricultural_guidance: "农技指导", ContactKind.other: "联系",
}  # fmt: skip
NEED_ZH = {
    Need.employment: "就业", Need.supplies: "物资", Need.medical: "医疗", Need.funds: "资金", Need.sales: "销售",
    Need.training: "培训", Need.housing: "住房", Need.other: "其他",
}  # fmt: skip
METHOD_ZH = {SurveyMethod.phone: "电话了解", SurveyMethod.online: "网上问卷", SurveyMethod.data_comparison: "数据比对"}


def _located(ctx: Ctx, household: Household) -> dict[str, str]:
    return {
        "household_id": household.id,
        "county_code": household.county_code,
        "township_code": household.township_code,
        "recorded_by": ctx.principal.subject,
    }


async def _cadre_for(ctx: Ctx, cadre_id: str | None) -> Cadre | None:
    """Who a record is by: the cadre named (in the caller's scope, active), else the caller's own cadre record,
    else nobody (an officer recording for the office)."""
    if cadre_id is None:
        cadre = await cadres.cadre_of_user(ctx.session, ctx.principal.subject)
        if cadre is None:
            return None
    else:
        cadre = await cadre_in_scope(ctx, cadre_id, "cadre_id")
    if not cadre.active:
        raise CadreInactive(field="cadre_id")
    return cadre


# --- contacts (measure 5) ---------------------------------------------------------------------------------------


def contact_out(contact: Contact, cadre_name: str | None) -> ContactOut:
    return ContactOut(
        id=contact.id,
        household_id=contact.household_id,
        cadre_id=contact.cadre_id,
        cadre_name=cadre_name,
        channel=contact.channel,
        kind=contact.kind,
        contacted_at=contact.contacted_at,
        notes=contact.notes,
        recorded_by=contact.recorded_by,
        created_at=contact.created_at,
    )


async def record_contact(ctx: Ctx, body: ContactCreate) -> ContactOut:
    """RULE (measures 5 and 22): an in-person visit to a household whose village or township has cases is refused
    while the flag is on; every other channel is fine."""
    not_in_future(body.contacted_at, "contacted_at")
    household = await households.get_household(ctx.session, body.household_id, household_scope(ctx.principal))
    if household is None:
        raise HouseholdNotFound(field="household_id")
    cadre = await _cadre_for(ctx, body.cadre_id)
    if body.channel == Channel.visit and await no_team_entry(ctx.session, household.village_code):
        raise VisitRefused(field="channel")
    located = _located(ctx, household)
    contact = Contact(
        **located,
        village_code=household.village_code,
        cadre_id=cadre.id if cadre else None,
        channel=body.channel,
        kind=body.kind,
        contacted_at=body.contacted_at,
        notes=body.notes,
    )
    await keep(ctx, contact, entity="contact", details={**body.model_dump(mode="json"), "cadre_id": contact.cadre_id})
    await upkeep.on_contact(ctx.session, contact)
    who = cadre.name if cadre else ctx.principal.name or ctx.principal.subject
    await emit(
        ctx.session,
        event_type="contact.recorded",
        payload=ContactRecordedV1(
            contact_id=contact.id,
            household_id=household.id,
            county_code=household.county_code,
            cadre_id=contact.cadre_id,
            channel=contact.channel,
            kind=contact.kind,
            contacted_at=contact.contacted_at,
        ),
        summary=f"{CHANNEL_ZH[body.channel]}{KIND_ZH[body.kind]}（{who}）",
        household_id=household.id,
        county_code=household.county_code,
        occurred_at=contact.contacted_at,
    )
    return contact_out(contact, cadre.name if cadre else None)


async def list_contacts(
    ctx: Ctx,
    page: PageParams,
    *,
    household_id: str | None = None,
    cadre_id: str | None = None,
    kind: str | None = None,
    channel: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Page[ContactOut]:
    """Newest contact first; `since` and `until` are Asia/Shanghai dates, both included."""
    query = repository.contacts_query(
        scope=record_scope(ctx.principal, Contact),
        household_id=household_id,
        cadre_id=cadre_id,
        kind=kind,
        channel=channel,
        since=day_start(since) if since else None,
        until=day_end(until) if until else None,
    )
    rows, cursor = await newest_first(ctx.session, query, Contact.contacted_at, page)
    return Page[ContactOut](items=[contact_out(contact, name) for contact, name in rows], next_cursor=cursor)


async def household_contacts(ctx: Ctx, household_id: str, page: PageParams) -> Page[ContactOut]:
    await household_in_scope(ctx, household_id)
    return await list_contacts(ctx, page, household_id=household_id)


# --- needs surveys and income plans (measure 6) -----------------------------------------------------------------


async def record_needs_survey(ctx: Ctx, household_id: str, body: NeedsSurveyCreate) -> NeedsSurveyOut:
    not_in_future(body.surveyed_on, "surveyed_on")
    household = await household_in_scope(ctx, household_id)
    cadre = await _cadre_for(ctx, body.cadre_id)
    survey = NeedsSurvey(
        **_located(ctx, household),
        cadre_id=cadre.id if cadre else None,
        surveyed_on=body.surveyed_on,
        needs=[need.value for need in body.needs],
        difficulties=body.difficulties,
    )
    needs = "、".join(NEED_ZH[need] for need in body.needs)
    details = {**body.model_dump(mode="json"), "cadre_id": survey.cadre_id}
    await keep(ctx, survey, entity="needs_survey", details=details, summary=f"脱贫需求调查：{needs}")
    await upkeep.on_record(ctx.session, survey)
    return NeedsSurveyOut.model_validate(survey)


async def needs_surveys(ctx: Ctx, household_id: str, page: PageParams) -> Page[NeedsSurveyOut]:
    await household_in_scope(ctx, household_id)
    return await listed(ctx, NeedsSurvey.surveyed_on, page, NeedsSurveyOut.model_validate, household_id=household_id)


async def record_income_plan(ctx: Ctx, household_id: str, body: IncomePlanCreate) -> IncomePlanOut:
    """The plan's expected income is the sum of its measures' (integer fen)."""
    not_in_future(body.planned_on, "planned_on")
    household = await household_in_scope(ctx, household_id)
    cadre = await _cadre_for(ctx, body.cadre_id)
    plan = IncomePlan(
        **_located(ctx, household),
        cadre_id=cadre.id if cadre else None,
        planned_on=body.planned_on,
        measures=[measure.model_dump(mode="json") for measure in body.measures],
        expected_income_fen=sum(measure.expected_income_fen for measure in body.measures),
    )
    details = {**body.model_dump(mode="json"), "cadre_id": plan.cadre_id}
    summary = f"脱贫增收计划：{len(body.measures)} 项措施，预计增收 {yuan(plan.expected_income_fen, grouped=True)} 元"
    await keep(ctx, plan, entity="income_plan", details=details, summary=summary)
    await upkeep.on_record(ctx.session, plan)
    return IncomePlanOut.model_validate(plan)


async def income_plans(ctx: Ctx, household_id: str, page: PageParams) -> Page[IncomePlanOut]:
    await household_in_scope(ctx, household_id)
    return await listed(ctx, IncomePlan.planned_on, page, IncomePlanOut.model_validate, household_id=household_id)


# --- clean-ups (measure 8) --------------------------------------------------------------------------------------


async def set_cleanup(ctx: Ctx, household_id: str, campaign: str, body: CleanupSet) -> tuple[CleanupOut, bool]:
    """One record per household and campaign: the first PUT creates it (True), a later one replaces it."""
    not_in_future(body.done_on, "done_on")
    household = await household_in_scope(ctx, household_id)
    cleanup = await repository.cleanup_of(ctx.session, household.id, campaign)
    details = {**body.model_dump(mode="json"), "campaign": campaign}
    if cleanup is None:
        cleanup = Cleanup(**_located(ctx, household), campaign=campaign, done_on=body.done_on, notes=body.notes)
        try:
            await keep(ctx, cleanup, entity="cleanup", details=details, summary=f"房前屋后大扫除（{campaign}）")
        except IntegrityError as exc:
            raise Conflict(field="campaign") from exc
        return CleanupOut.model_validate(cleanup), True
    before = {"done_on": cleanup.done_on.isoformat(), "notes": cleanup.notes}
    cleanup.done_on, cleanup.notes, cleanup.recorded_by = body.done_on, body.notes, ctx.principal.subject
    await ctx.session.flush()
    await ctx.audit.record(
        ctx.principal,
        action="cleanup.update",
        entity="cleanup",
        entity_id=cleanup.id,
        county_code=cleanup.county_code,
        changes=diff(before, body.model_dump(mode="json")),
    )
    return CleanupOut.model_validate(cleanup), False


async def household_cleanups(ctx: Ctx, household_id: str, page: PageParams) -> Page[CleanupOut]:
    await household_in_scope(ctx, household_id)
    return await listed(ctx, Cleanup.done_on, page, CleanupOut.model_validate, household_id=household_id)


async def _by_region(
    ctx: Ctx, count: Callable[..., Any], *, region: str | None, level: RollupLevel, sums: list[str], out: Callable
) -> tuple[Any, list[Any]]:
    """A roll-up per region at `level` within the caller's scope, and its total: `count` runs the grouped query
    over households, `out(row, code, name)` shapes a row."""
    rows = await count(
        filters=[household_scope(ctx.principal), *in_region(region, *HOUSEHOLD_CODES)],
        narrow=narrowing(ctx.principal, region),
        group=region_group(level, *HOUSEHOLD_CODES),
    )
    names = await regions.names(ctx.session, {row["code"] for row in rows})
    return out(summed(rows, sums), None, None), [out(row, row["code"], names.get(row["code"])) for row in rows]


def _cleanup_counts(row: dict[str, Any], code: str | None, name: str | None) -> CleanupCounts:
    return CleanupCounts(
        code=code,
        name=name,
        households=row["households"],
        cleaned=row["cleaned"],
        cleaned_pct=percent(row["cleaned"], row["households"]),
    )


async def cleanup_summary(ctx: Ctx, *, campaign: str, region: str | None, level: RollupLevel) -> CleanupSummary:
    """Households done of households registered, per region at `level`, within the caller's scope."""
    total, items = await _by_region(
        ctx,
        partial(repository.cleanup_counts, ctx.session, campaign=campaign),
        region=region,
        level=level,
        sums=["households", "cleaned"],
        out=_cleanup_counts,
    )
    return CleanupSummary(campaign=campaign, level=level, total=total, items=items)


# --- impact surveys (measure 19) --------------------------------------------------------------------------------


async def record_impact_survey(ctx: Ctx, household_id: str, body: ImpactSurveyCreate) -> ImpactSurveyOut:
    not_in_future(body.surveyed_on, "surveyed_on")
    household = await household_in_scope(ctx, household_id)
    survey = ImpactSurvey(**_located(ctx, household), **body.model_dump())
    risk = "脱贫目标有风险" if body.exit_target_at_risk else "脱贫目标无风险"
    summary = f"疫情影响调查（{METHOD_ZH[body.method]}）：{risk}"
    await keep(ctx, survey, entity="impact_survey", details=body.model_dump(mode="json"), summary=summary)
    return ImpactSurveyOut.model_validate(survey)


async def impact_surveys(ctx: Ctx, household_id: str, page: PageParams) -> Page[ImpactSurveyOut]:
    await household_in_scope(ctx, household_id)
    return await listed(ctx, ImpactSurvey.surveyed_on, page, ImpactSurveyOut.model_validate, household_id=household_id)


IMPACT_SUMS = [
    "households_surveyed", "at_risk", "expect_increase", "expect_same", "expect_decrease",
    "patient_burden_households", "patient_burden_total_fen",
]  # fmt: skip


def _impact_counts(row: dict[str, Any], code: str | None, name: str | None) -> ImpactCounts:
    return ImpactCounts(
        **{key: row[key] for key in IMPACT_SUMS},
        code=code,
        name=name,
        at_risk_pct=percent(row["at_risk"], row["households_surveyed"]),
        patient_burden_avg_fen=average(row["patient_burden_total_fen"], row["patient_burden_households"]),
    )


async def impact_summary(
    ctx: Ctx, *, region: str | None, level: RollupLevel, since: date | None, until: date | None
) -> ImpactSummary:
    """Per region at `level`: each household once, by its latest survey between `since` and `until`."""
    period = [ImpactSurvey.surveyed_on >= since] if since else []
    if until:
        period.append(ImpactSurvey.surveyed_on <= until)
    total, items = await _by_region(
        ctx,
        partial(repository.impact_counts, ctx.session, period=period),
        region=region,
        level=level,
        sums=IMPACT_SUMS,
        out=_impact_counts,
    )
    return ImpactSummary(level=level, total=total, items=items)
