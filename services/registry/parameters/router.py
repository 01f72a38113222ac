"""Configurable policy values (参数): the care-overdue days, the five-ones window, ..."""

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.registry.parameters import service
from shared.context import context_for

router = APIRouter(prefix="/api/v1/registry/parameters", tags=["registry: parameters 参数"])
Reader = context_for("registry:read")
Manager = context_for("parameters:manage")


class ParameterValue(BaseModel):
    effective_from: date
    value: Any
    set_by: str | None = None


class ParameterOut(BaseModel):
    key: str
    description: str
    default: Any
    current: Any = Field(description="今日生效的取值 The value in force today")
    history: list[ParameterValue]


class ParameterSet(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"value": 3, "effective_from": "2020-02-09"}]}
    )

    value: Any
    effective_from: date


async def _out(ctx, key: str) -> ParameterOut:
    description, default, _ = service.SPECS[key]
    rows = await service.history(ctx.session, key)
    return ParameterOut(
        key=key, description=description, default=default,
        current=await service.parameter_value(ctx.session, key, date.today()),
        history=[ParameterValue(effective_from=r.effective_from, value=r.value["value"], set_by=r.set_by) for r in rows],
    )  # fmt: skip


@router.get("", operation_id="registry_list_parameters", response_model=list[ParameterOut])
async def list_parameters(ctx: Reader) -> list[ParameterOut]:
    """Every configurable value, its default, the value in force and its history 参数列表"""
    return [await _out(ctx, key) for key in service.SPECS]


@router.get("/{key}", operation_id="registry_get_parameter", response_model=ParameterOut)
async def get_parameter(key: str, ctx: Reader) -> ParameterOut:
    """One configurable value 查看参数"""
    if key not in service.SPECS:
        raise service.UnknownParameter(key=key)
    return await _out(ctx, key)


@router.put("/{key}", operation_id="registry_set_parameter", response_model=ParameterOut)
async def set_parameter(key: str, body: ParameterSet, ctx: Manager) -> ParameterOut:
    """Set a value from a date on (the history is kept) 设置参数"""
    await service.set_parameter(
        ctx.session, key=key, value=body.value, effective_from=body.effective_from, by=ctx.principal.subject
    )
    await ctx.audit.record(
        ctx.principal, action="parameter.set", entity="parameter", entity_id=key,
        changes={"value": body.value, "effective_from": body.effective_from.isoformat()},
    )  # fmt: skip
    return await _out(ctx, key)
