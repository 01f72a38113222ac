"""Temporary relief cases (临时救助): opened from the registry's events or by civil affairs, and their schedules."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.relief.cases import service
from services.relief.cases.schemas import (
    CaseCorrectionCreate,
    CaseCreate,
    CaseDetail,
    CaseOut,
    CaseStatus,
    Schedule,
)
from services.relief.registry import Registry
from shared.context import context_for
from shared.dates import today
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/relief/cases", tags=["relief: cases 临时救助"])
Reader = context_for("relief:read")
CaseWorker = context_for("relief:cases")


@router.post("", operation_id="relief_open_case", response_model=CaseDetail, status_code=201)
async def open_case(body: CaseCreate, ctx: CaseWorker, registry: Registry, idem: IdempotencyDep):
    """Open a relief case by hand, with the reason 人工立案"""
    return await idem.run(ctx.principal, 201, lambda: service.open_case(ctx, registry, body))


@router.get("", operation_id="relief_list_cases", response_model=Page[CaseOut])
async def list_cases(
    ctx: Reader,
    page: Paging,
    status: CaseStatus | None = None,
    unit_code: Annotated[
        str | None, Query(max_length=9, description="区县代码或 wansheng（万盛经开区） County code, or wansheng")
    ] = None,
    person_id: Annotated[str | None, Query(max_length=36, description="患者 The patient")] = None,
    household_id: Annotated[str | None, Query(max_length=36, description="贫困户 The household")] = None,
) -> Page[CaseOut]:
    """Relief cases in scope, newest first 临时救助案件列表"""
    return await service.list_cases(
        ctx, page, status=status, unit_code=unit_code, person_id=person_id, household_id=household_id
    )


@router.get("/{case_id}", operation_id="relief_get_case", response_model=CaseDetail)
async def get_case(case_id: str, ctx: Reader) -> CaseDetail:
    """A relief case with its date corrections 查看救助案件"""
    return await service.get_case(ctx, case_id)


@router.get("/{case_id}/schedule", operation_id="relief_case_schedule", response_model=Schedule)
async def case_schedule(
    case_id: str,
    ctx: Reader,
    as_of: Annotated[
        date | None, Query(description="截至日期（默认今天，北京时间） As of this day; today by default")
    ] = None,
) -> Schedule:
    """The case's relief periods: standard and amount, paid, pending and due 救助发放计划"""
    return await service.schedule(ctx, case_id, as_of or today())


@router.post("/{case_id}/corrections", operation_id="relief_correct_case", response_model=CaseDetail, status_code=201)
async def correct_case(case_id: str, body: CaseCorrectionCreate, ctx: CaseWorker, idem: IdempotencyDep):
    """Correct the diagnosis or the discharge (death) date, with the reason 更正确诊或出院日期"""
    return await idem.run(ctx.principal, 201, lambda: service.correct_case(ctx, case_id, body))
