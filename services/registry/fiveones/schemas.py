"""Requests and answers of the five ones (五个一, measure 6)."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field


class FiveOnesItem(StrEnum):
    """“五个一”帮扶事项"""

    phone_call = "phone_call"  # 打一个电话
    prevention_education = "prevention_education"  # 进行一次疫情防控知识宣传
    supplies_help = "supplies_help"  # 帮助购买或赠送防护用品
    needs_survey = "needs_survey"  # 开展一次脱贫需求调查
    income_plan = "income_plan"  # 制定一个脱贫增收计划


class FiveOnesLevel(StrEnum):
    pairing = "pairing"
    cadre = "cadre"
    township = "township"
    county = "county"
    city = "city"


class WindowOut(BaseModel):
    start: date
    end: date | None = Field(description="为空表示未结束 Null while the campaign is open")


class FiveOnesPairing(BaseModel):
    """One pairing's five items: which are done in the window and which are missing."""

    pairing_id: str
    cadre_id: str
    cadre_name: str
    household_id: str
    household_no: str
    head_name: str
    village_code: str
    household_status: str = Field(description="贫困状态；帮购防护物资优先未脱贫户 Poverty status (not_lifted first)")
    done: list[FiveOnesItem]
    missing: list[FiveOnesItem]
    complete: bool


class FiveOnesCounts(BaseModel):
    pairings: int = Field(description="结对数 Active pairings")
    pairings_complete: int = Field(description="五项全部完成的结对数 Pairings with all five items done")
    pairings_complete_pct: float | None = Field(description="完成率（%，一位小数） Share complete, %, one decimal")
    items_due: int = Field(description="应完成事项数（结对数×5） Items due, five per pairing")
    items_done: int
    items_done_pct: float | None
    by_item: dict[FiveOnesItem, int] = Field(description="各事项已完成的结对数 Pairings with each item done")


class FiveOnesRow(FiveOnesCounts):
    code: str = Field(description="干部编号或行政区划代码 Cadre id or region code", examples=["500230"])
    name: str | None = Field(examples=["丰都县"])


class FiveOnesPairings(BaseModel):
    level: Literal["pairing"]
    as_of: date
    window: WindowOut
    items: list[FiveOnesPairing]
    next_cursor: str | None = None


class FiveOnesRollup(BaseModel):
    level: Literal["cadre", "township", "county", "city"]
    as_of: date
    window: WindowOut
    total: FiveOnesCounts
    items: list[FiveOnesRow]


FiveOnesReport = Annotated[FiveOnesPairings | FiveOnesRollup, Field(discriminator="level")]
