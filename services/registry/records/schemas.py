"""What the records kept per household, person or cadre have in common: the earliest instant, notes, temperatures,
and the query parameters of their reports (region, as-of day)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import Field

T = TypeVar("T")
# Nothing in this registry happened before 2000; an earlier instant is a typing error (and year 1 cannot be stored).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def unique(values: list[T]) -> list[T]:
    return list(dict.fromkeys(values))


Notes = Annotated[str | None, Field(None, max_length=2000, description="备注 Notes")]
Temperature = Annotated[
    Decimal,
    Field(
        ge=34,
        le=43,
        decimal_places=1,
        description="体温（℃，一位小数） Temperature in °C, one decimal",
        examples=[36.8],
    ),
]

# --- query parameters of the reports --------------------------------------------------------------------------

Region = Annotated[
    str | None,
    Query(
        max_length=12, description="行政区划代码（含下级，万盛经开区为 wansheng） Region code, with everything below it"
    ),
]
AsOf = Annotated[
    date | None, Query(description="统计截止日（默认今天） Count up to this Asia/Shanghai date (today by default)")
]
