"""Health events, key monitoring, isolation check-ins, the care-overdue watch, 返贫 and dibao referrals."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.registry.health import care, followup, isolation, service
from services.registry.health.schemas import (
    CareOverdueRow,
    DibaoDecision,
    DibaoDecisionCreate,
    DibaoReferralCreate,
    DibaoReferralOut,
    HealthEventCreate,
    HealthEventRecorded,
    IsolationCheckinCreate,
    IsolationCheckinOut,
    ReturnToPoverty,
    StatusChangeOut,
)
from shared.context import context_for
from shared.excel import XLSX, xlsx_response
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging
from shared.schemas.registry import IDS_PER_READ, HealthEventOut, HealthKind, PersonHealthHistory

router = APIRouter(prefix="/api/v1/registry")
monitoring = APIRouter(tags=["registry: monitoring 疫情监测"])
contacts = APIRouter(tags=["registry: contacts 帮扶联系"])  # the daily check-ins of the cadres and village staff
Reader = context_for("registry:read")
Updater = context_for("registry:update")
Recorder = context_for("health:record")
CheckinRecorder = context_for("contacts:record")
DibaoDecider = context_for("dibao:decide")
AsOf = Annotated[date | None, Query(description="统计日期（默认今天，北京时间） The day to judge on; today by default")]


# --- health events --------------------------------------------------------------------------------------------------


@monitoring.post(
    "/persons/{person_id}/health-events",
    operation_id="registry_record_health_event",
    response_model=HealthEventRecorded,
    status_code=201,
)
async def record_health_event(person_id: str, body: HealthEventCreate, ctx: Recorder, idem: IdempotencyDep):
    """Record a health event: suspected, confirmed, isolated, released, discharged, deceased, cleared 登记健康事件"""
    return await idem.run(ctx.principal, 201, lambda: service.record_event(ctx, person_id, body))


@monitoring.get(
    "/persons/{person_id}/health-events",
    operation_id="registry_person_health_events",
    response_model=PersonHealthHistory,
)
async def person_health_events(person_id: str, ctx: Reader) -> PersonHealthHistory:
    """A person's health state and events, oldest first 人员健康状态及事件"""
    return await service.person_history(ctx, person_id)


@monitoring.get(
    "/health-histories",
    operation_id="registry_health_histories",
    response_model=list[PersonHealthHistory],
)
async def health_histories(
    ctx: Reader,
    person_id: Annotated[
        list[str],
        Query(min_length=1, max_length=IDS_PER_READ, description="人员ID（可重复） Person ids, the parameter repeated"),
    ],
) -> list[PersonHealthHistory]:
    """Several persons' health states and events at once, by person id; those not found in scope are left out
    多人健康状态及事件"""
    return await service.persons_histories(ctx, list(dict.fromkeys(person_id)))


@monitoring.get("/health-events", operation_id="registry_list_health_events", response_model=Page[HealthEventOut])
async def list_health_events(
    ctx: Reader,
    page: Paging,
    region: Annotated[
        str | None, Query(max_length=12, description="行政区划代码（含下级） Region code, with everything below it")
    ] = None,
    kind: HealthKind | None = None,
    occurred_from: Annotated[date | None, Query(description="发生日期起 Occurred on or after")] = None,
    occurred_to: Annotated[date | None, Query(description="发生日期止 Occurred on or before")] = None,
) -> Page[HealthEventOut]:
    """Health events in scope, newest recorded first 健康事件列表"""
    return await service.list_events(
        ctx, page, region=region, kind=kind, occurred_from=occurred_from, occurred_to=occurred_to
    )


# --- isolation check-ins (measure 7) ----------------------------------------------------------------------------


@contacts.post(
    "/persons/{person_id}/isolation-checkins",
    operation_id="registry_record_isolation_checkin",
    response_model=IsolationCheckinOut,
    status_code=201,
)
async def record_checkin(person_id: str, body: IsolationCheckinCreate, ctx: CheckinRecorder, idem: IdempotencyDep):
    """Record a day's check-in of a suspected or isolated person, one per day 隔离人员每日随访"""
    return await idem.run(ctx.principal, 201, lambda: isolation.record_checkin(ctx, person_id, body))


@contacts.get(
    "/persons/{person_id}/isolation-checkins",
    operation_id="registry_list_isolation_checkins",
    response_model=Page[IsolationCheckinOut],
)
async def checkins(person_id: str, ctx: Reader, page: Paging) -> Page[IsolationCheckinOut]:
    """A person's check-ins, newest day first 隔离人员随访记录"""
    return await isolation.checkins(ctx, person_id, page)


# --- care overdue ---------------------------------------------------------------------------------------------------


@monitoring.get("/care-overdue", operation_id="registry_care_overdue", response_model=Page[CareOverdueRow])
async def care_overdue(ctx: Reader, page: Paging, as_of: AsOf = None) -> Page[CareOverdueRow]:
    """Confirmed patients' households with no care contact in time, longest wait first 确诊户逾期未慰问"""
    return await care.care_overdue(ctx, page, as_of=as_of)


@monitoring.get(
    "/care-overdue.xlsx",
    operation_id="registry_care_overdue_xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def care_overdue_xlsx(ctx: Reader, as_of: AsOf = None) -> Response:
    """The care-overdue list as an Excel workbook 导出逾期未慰问名单"""
    on, rows = await care.care_overdue_export(ctx, as_of=as_of)
    return xlsx_response(f"逾期未慰问_{on.isoformat()}.xlsx", "逾期未慰问", care.EXPORT_HEADERS, rows)


# --- 返贫 and dibao referrals ---------------------------------------------------------------------------------------


@monitoring.post(
    "/households/{household_id}/return-to-poverty",
    operation_id="registry_return_to_poverty",
    response_model=StatusChangeOut,
    status_code=201,
)
async def return_to_poverty(household_id: str, body: ReturnToPoverty, ctx: Updater, idem: IdempotencyDep):
    """Mark a lifted household as returned to poverty, with the reason 标记返贫"""
    return await idem.run(ctx.principal, 201, lambda: followup.return_to_poverty(ctx, household_id, body))


@monitoring.get(
    "/households/{household_id}/status-changes",
    operation_id="registry_household_status_changes",
    response_model=list[StatusChangeOut],
)
async def household_status_changes(household_id: str, ctx: Reader) -> list[StatusChangeOut]:
    """A household's poverty status changes, oldest first 贫困状态变更记录"""
    return await followup.status_changes(ctx, household_id)


@monitoring.post(
    "/households/{household_id}/dibao-referrals",
    operation_id="registry_refer_to_dibao",
    response_model=DibaoReferralOut,
    status_code=201,
)
async def refer_to_dibao(household_id: str, body: DibaoReferralCreate, ctx: Updater, idem: IdempotencyDep):
    """Refer a household to civil affairs for rural dibao 推荐纳入农村低保"""
    return await idem.run(ctx.principal, 201, lambda: followup.refer_to_dibao(ctx, household_id, body))


@monitoring.get(
    "/households/{household_id}/dibao-referrals",
    operation_id="registry_household_dibao_referrals",
    response_model=list[DibaoReferralOut],
)
async def household_dibao_referrals(household_id: str, ctx: Reader) -> list[DibaoReferralOut]:
    """A household's dibao referrals, newest first 贫困户低保推荐记录"""
    return await followup.household_referrals(ctx, household_id)


@monitoring.get("/dibao-referrals", operation_id="registry_list_dibao_referrals", response_model=Page[DibaoReferralOut])
async def list_dibao_referrals(
    ctx: Reader, page: Paging, decision: DibaoDecision | None = None
) -> Page[DibaoReferralOut]:
    """Dibao referrals in scope, newest first; decision=pending for those awaiting civil affairs 低保推荐列表"""
    return await followup.list_referrals(ctx, page, decision=decision)


@monitoring.post(
    "/dibao-referrals/{referral_id}/decision",
    operation_id="registry_decide_dibao_referral",
    response_model=DibaoReferralOut,
)
async def decide_dibao_referral(referral_id: str, body: DibaoDecisionCreate, ctx: DibaoDecider, idem: IdempotencyDep):
    """Record the civil-affairs decision on a referral, once 民政部门审核低保推荐"""
    return await idem.run(ctx.principal, 200, lambda: followup.decide(ctx, referral_id, body))


router.include_router(monitoring)
router.include_router(contacts)
