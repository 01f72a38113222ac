"""The relief service's configurable policy values (参数), with effective dates (shared.parameters).

`relief_eligible_statuses`: the poverty statuses whose members are entitled to temporary relief (measure 2). By
default 未脱贫, 已脱贫 and 返贫: lifted households keep their policies during the transition, those lifted
without policies do not. Civil affairs sets it (relief:standards), from a date on.
"""

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.relief.models import Parameter
from shared.parameters import ParameterSpec, ParameterStore, parameters_router
from shared.schemas.registry import PovertyStatus

ELIGIBLE_STATUSES = "relief_eligible_statuses"
DEFAULT_ELIGIBLE = [PovertyStatus.not_lifted.value, PovertyStatus.lifted.value, PovertyStatus.returned.value]


def _distinct_in_order(statuses: list[PovertyStatus]) -> list[PovertyStatus]:
    return [status for status in PovertyStatus if status in statuses]


PARAMETERS = ParameterStore(
    Parameter,
    {
        ELIGIBLE_STATUSES: ParameterSpec(
            "可享受临时救助的贫困状态（默认：未脱贫、已脱贫、返贫） Poverty statuses whose members are entitled to "
            "temporary relief (by default not lifted, lifted, returned to poverty)",
            DEFAULT_ELIGIBLE,
            Annotated[list[PovertyStatus], Field(min_length=1), AfterValidator(_distinct_in_order)],
        ),
    },
)


async def eligible_statuses(session: AsyncSession, on: date) -> frozenset[str]:
    """The statuses eligible on `on` (the diagnosis date)."""
    return frozenset(await PARAMETERS.value(session, ELIGIBLE_STATUSES, on))


router = parameters_router(
    service="relief",
    prefix="/api/v1/relief/parameters",
    tag="relief: parameters 参数",
    store=PARAMETERS,
    read_permission="relief:read",
    manage_permission="relief:standards",
)
