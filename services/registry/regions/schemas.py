"""Regions as the registry's own API reads and writes them."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.common import VillageCode


class RegionLevel(StrEnum):
    city = "city"
    county = "county"
    reporting_unit = "reporting_unit"  # 万盛经开区: a unit of its own over ten townships of 500110
    township = "township"
    village = "village"


class RegionOut(BaseModel):
    code: str = Field(examples=["500230"])
    name: str = Field(examples=["丰都县"])
    level: RegionLevel
    parent_code: str | None = Field(None, examples=["500000"])


class VillageCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "500230100201", "name": "新建村"}]}
    )

    code: VillageCode
    name: str = Field(min_length=1, max_length=100)
