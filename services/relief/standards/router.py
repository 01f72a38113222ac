"""Dibao standards (低保标准) kept by civil affairs, with their history."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.relief.standards import service
from services.relief.standards.schemas import StandardCreate, StandardOut
from shared.context import context_for
from shared.dates import today
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging
from shared.schemas.registry import AreaClass

router = APIRouter(prefix="/api/v1/relief/standards", tags=["relief: standards 低保标准"])
Reader = context_for("relief:read")
Keeper = context_for("relief:standards")
UnitQuery = Annotated[
    str | None, Query(max_length=9, description="区县代码或 wansheng（万盛经开区） County code, or wansheng")
]


@router.post("", operation_id="relief_create_standard", response_model=StandardOut, status_code=201)
async def create_standard(body: StandardCreate, ctx: Keeper, idem: IdempotencyDep):
    """Enter a dibao standard from its effective date (a new amount is a new standard) 新增低保标准"""
    return await idem.run(ctx.principal, 201, lambda: service.create_standard(ctx, body))


@router.get("", operation_id="relief_list_standards", response_model=Page[StandardOut])
async def list_standards(
    ctx: Reader,
    page: Paging,
    unit_code: UnitQuery = None,
    area_class: AreaClass | None = None,
    in_force_on: Annotated[
        date | None, Query(description="只列此日执行中的标准 Only the standards in force on this day")
    ] = None,
    example: Annotated[bool | None, Query(description="示例数据 Demo values only (true) or none (false)")] = None,
) -> Page[StandardOut]:
    """Dibao standards and their history, newest entered first 低保标准列表"""
    return await service.list_standards(
        ctx, page, unit_code=unit_code, area_class=area_class, in_force_on=in_force_on, example=example
    )


@router.get("/in-force", operation_id="relief_standard_in_force", response_model=StandardOut)
async def standard_in_force(
    ctx: Reader,
    unit_code: Annotated[
        str, Query(max_length=9, description="区县代码或 wansheng（万盛经开区） County code, or wansheng")
    ],
    area_class: AreaClass,
    on: Annotated[date | None, Query(description="日期（默认今天，北京时间） The day; today by default")] = None,
) -> StandardOut:
    """The standard of a unit and class in force on a day 查询执行中的低保标准"""
    return await service.standard_in_force(ctx, unit_code=unit_code, area_class=area_class, on=on or today())


@router.get("/{standard_id}", operation_id="relief_get_standard", response_model=StandardOut)
async def get_standard(standard_id: str, ctx: Reader) -> StandardOut:
    """One dibao standard 查看低保标准"""
    return await service.get_standard(ctx, standard_id)
