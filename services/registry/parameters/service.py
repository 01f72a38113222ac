"""Configurable policy values with effective dates (POLICY.md: *configurable* values are data, never constants).

Each key has a default (the value the notice or the handbook gives) and a schema its values must fit; a value set
through the API applies from its effective date on.
"""

from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Parameter
from shared.errors import domain_error

UnknownParameter = domain_error(
    "UnknownParameter", 404, "parameter_not_found", "未知参数 {key}", "Unknown parameter {key}"
)
InvalidParameterValue = domain_error(
    "InvalidParameterValue", 422, "parameter_value_invalid", "参数 {key} 的取值无效：{reason}",
    "Invalid value for {key}: {reason}",
)  # fmt: skip


class Window(BaseModel):
    start: date
    end: date | None = None


SPECS: dict[str, tuple[str, Any, Any]] = {
    # key: (description, default, type its values must fit)
    "care_overdue_days": (
        "确诊后未慰问即列为逾期的天数（通知未定，默认 3） Days after diagnosis without a care contact before a "
        "household is overdue (the notice sets none; 3 by default)",
        3,
        Annotated[int, Field(ge=0, le=60)],
    ),
    "five_ones_window": (
        "\u201c五个一\u201d统计的活动期（默认自 2020-02-09 通知之日起） Campaign window of the five ones "
        "(from the notice's date, 2020-02-09, by default)",
        {"start": "2020-02-09", "end": None},
        Window,
    ),
}


def _validated(key: str, value: Any) -> Any:
    _, _, kind = SPECS[key]
    try:
        checked = TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        raise InvalidParameterValue(field="value", key=key, reason=exc.errors()[0]["msg"]) from exc
    if isinstance(checked, Window) and checked.end is not None and checked.end < checked.start:
        raise InvalidParameterValue(field="value", key=key, reason="end before start")
    return TypeAdapter(kind).dump_python(checked, mode="json")


async def parameter_value(session: AsyncSession, key: str, on: date) -> Any:
    """The value of `key` in force on `on`: the latest set with effective_from <= on, else the default."""
    if key not in SPECS:
        raise UnknownParameter(key=key)
    stored = await session.scalar(
        sa.select(Parameter.value)
        .where(Parameter.key == key, Parameter.effective_from <= on)
        .order_by(Parameter.effective_from.desc())
        .limit(1)
    )
    return SPECS[key][1] if stored is None else stored["value"]


async def five_ones_window(session: AsyncSession, on: date) -> Window:
    return Window.model_validate(await parameter_value(session, "five_ones_window", on))


async def care_overdue_days(session: AsyncSession, on: date) -> int:
    return int(await parameter_value(session, "care_overdue_days", on))


async def set_parameter(session: AsyncSession, *, key: str, value: Any, effective_from: date, by: str) -> Parameter:
    if key not in SPECS:
        raise UnknownParameter(key=key)
    checked = _validated(key, value)
    existing = await session.scalar(
        sa.select(Parameter).where(Parameter.key == key, Parameter.effective_from == effective_from)
    )
    if existing is not None:
        existing.value = {"value": checked}
        existing.set_by = by
        row = existing
    else:
        row = Parameter(key=key, value={"value": checked}, effective_from=effective_from, set_by=by)
        session.add(row)
    await session.flush()
    return row


async def history(session: AsyncSession, key: str) -> list[Parameter]:
    if key not in SPECS:
        raise UnknownParameter(key=key)
    rows = await session.scalars(sa.select(Parameter).where(Parameter.key == key).order_by(Parameter.effective_from))
    return list(rows.all())
