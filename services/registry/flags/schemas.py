"""Requests and answers of the case flags (measure 22)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CaseFlagSet(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"flagged": True, "reason": "外地确诊病例曾在本村居住"},
                {"flagged": None, "reason": "恢复按登记病例判断"},
            ]
        },
    )

    flagged: bool | None = Field(
        description="人工标记：true 标记、false 取消标记、null 清除人工标记（按登记病例判断） Manual flag: on, off, or "
        "null to clear the override and follow the registered cases"
    )
    reason: str | None = Field(
        None, min_length=1, max_length=200, description="原因（设置标记时必填） Reason, required to set on or off"
    )


class CaseFlagOut(BaseModel):
    region_code: str
    region_name: str | None
    level: str = Field(examples=["village"])
    county_code: str
    active_cases: int = Field(description="在管病例数（疑似、确诊、疑似隔离） Members now suspected, confirmed, "
                              "or isolated as suspected")  # fmt: skip
    manual: bool | None = Field(description="人工标记 Manual override, null when none")
    manual_reason: str | None
    manual_by: str | None
    flagged: bool = Field(description="有疫情（人工标记优先，否则按在管病例） Effective flag")
    no_team_entry: bool = Field(
        description="禁止工作队入户：本村或所在乡镇有疫情 The region or its township is flagged"
    )
    updated_at: datetime | None
