"""Requests and answers of the dibao standard routes (低保标准)."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.registry import AreaClass

UnitCode = Annotated[
    str,
    Field(
        min_length=6,
        max_length=9,
        description="标准适用单位：区县代码（GB/T 2260）或 wansheng（万盛经开区） A county code, or wansheng for "
        "万盛经开区",
        examples=["500230"],
    ),
]


class StandardCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"unit_code": "500230", "area_class": "rural", "monthly_fen": 49600, "effective_from": "2019-07-01"},
                {"unit_code": "wansheng", "area_class": "urban", "monthly_fen": 62000, "effective_from": "2019-07-01",
                 "note": "渝民发〔2019〕示例"},
            ]
        },
    )  # fmt: skip

    unit_code: UnitCode
    area_class: AreaClass = Field(description="农村或城市低保 Rural or urban standard")
    monthly_fen: int = Field(
        gt=0, le=10_000_000, description="每人每月标准，单位：分（不超过10万元） Monthly amount per person, in fen"
    )
    effective_from: date = Field(description="执行日期 In force from this date")
    note: str | None = Field(None, min_length=1, max_length=200, description="备注（如文件号） Note, e.g. the notice")


class StandardOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "0190...", "unit_code": "500230", "unit_name": "丰都县", "area_class": "rural",
                 "monthly_fen": 49600, "effective_from": "2019-07-01", "example": False, "note": None,
                 "created_by": "civil", "created_at": "2020-02-10T09:00:00+08:00"}
            ]
        }
    )  # fmt: skip

    id: str
    unit_code: str
    unit_name: str = Field(description="单位名称 Name of the county or 万盛经开区")
    area_class: AreaClass
    monthly_fen: int = Field(description="每人每月标准（分） Monthly amount, in fen")
    effective_from: date
    example: bool = Field(description="示例数据，非官方标准 Demo value, not an official figure")
    note: str | None
    created_by: str
    created_at: datetime
