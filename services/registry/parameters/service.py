"""The registry's configurable policy values with effective dates (shared.parameters): the care-overdue days and
the five-ones window."""

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.models import Parameter
from shared.parameters import ParameterSpec, ParameterStore


class Window(BaseModel):
    start: date
    end: date | None = None

    @model_validator(mode="after")
    def _end_not_before_start(self) -> "Window":
        if self.end is not None and self.end < self.start:
            raise PydanticCustomError("window_order", "end before start")
        return self


PARAMETERS = ParameterStore(
    Parameter,
    {
        "care_overdue_days": ParameterSpec(
            "确诊后未慰问即列为逾期的天数（通知未定，默认 3） Days after diagnosis without a care contact before a "
            "household is overdue (the notice sets none; 3 by default)",
            3,
            Annotated[int, Field(ge=0, le=60)],
        ),
        "five_ones_window": ParameterSpec(
            "\u201c五个一\u201d统计的活动期（默认自 2020-02-09 通知之日起） Campaign window of the five ones "
            "(from the notice's date, 2020-02-09, by default)",
            {"start": "2020-02-09", "end": None},
            Window,
        ),
    },
)


async def five_ones_window(session: AsyncSession, on: date) -> Window:
    return Window.model_validate(await PARAMETERS.value(session, "five_ones_window", on))


async def care_overdue_days(session: AsyncSession, on: date) -> int:
    return int(await PARAMETERS.value(session, "care_overdue_days", on))
