"""Requests and answers of the relief case routes (临时救助): cases, corrections and the schedule of periods."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.registry import AreaClass

RegistryId = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        description="监测登记中的编号（UUID） The registry's id (UUID)",
        examples=["0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"],
    ),
]


class CaseStatus(StrEnum):
    open = "open"  # 在册
    closed = "closed"  # 已结案


class CloseReason(StrEnum):
    discharged = "discharged"  # 出院
    deceased = "deceased"  # 死亡


class CorrectableDate(StrEnum):
    diagnosed_on = "diagnosed_on"  # 确诊日期
    closed_on = "closed_on"  # 出院（死亡）日期


class CaseCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"person_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "household_id":
                 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a00", "diagnosed_on": "2020-02-03",
                 "reason": "确诊信息由医院补报，监测系统未推送"},
                {"person_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "household_id":
                 "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a00", "diagnosed_on": "2020-02-03", "closed_on": "2020-02-25",
                 "close_reason": "discharged", "reason": "补录已出院患者"},
            ]
        },
    )  # fmt: skip

    person_id: RegistryId = Field(description="患者（监测登记人员编号） The patient, as the registry knows them")
    household_id: RegistryId = Field(description="所在贫困户 The patient's household")
    diagnosed_on: date = Field(description="确诊日期 Diagnosis date")
    closed_on: date | None = Field(None, description="出院或死亡日期（已出院时填写） Discharge or death date, if past")
    close_reason: CloseReason | None = Field(None, description="结案原因，与结案日期同时填写 With closed_on")
    reason: str = Field(min_length=1, max_length=300, description="人工立案原因 Why the case is opened by hand")


class CaseCorrectionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"field": "diagnosed_on", "value": "2020-02-01", "reason": "医院确诊证明日期为2月1日"},
                {"field": "closed_on", "value": "2020-03-02", "reason": "出院小结日期更正"},
            ]
        },
    )

    field: CorrectableDate = Field(description="更正哪个日期 Which date to correct")
    value: date = Field(description="更正后的日期 The correct date")
    reason: str = Field(min_length=1, max_length=300, description="更正原因 Why")


class CorrectionOut(BaseModel):
    id: str
    field: CorrectableDate
    old_value: date | None
    new_value: date | None
    reason: str
    corrected_by: str
    corrected_at: datetime


class CaseOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "0190...", "person_id": "0190...", "household_id": "0190...", "county_code": "500230",
                 "township_code": "500230101", "village_code": "500230101201", "unit_code": "500230",
                 "area_class": "rural", "payee_name": "张秀华", "payee_id_masked": "500230********123X",
                 "diagnosed_on": "2020-02-03", "closed_on": None, "close_reason": None, "status": "open",
                 "opened_by": "event", "open_reason": None, "source_event_id": "0190...",
                 "created_at": "2020-02-03T10:00:00+08:00", "updated_at": "2020-02-03T10:00:00+08:00"}
            ]
        }
    )  # fmt: skip

    id: str
    person_id: str
    household_id: str
    county_code: str
    township_code: str
    village_code: str
    unit_code: str = Field(description="适用低保标准的单位（区县代码或 wansheng） Whose dibao standard applies")
    area_class: AreaClass = Field(description="农村或城市低保标准 Rural or urban standard")
    payee_name: str = Field(description="领款人（患者本人） Payee: the patient")
    payee_id_masked: str | None = Field(description="领款人身份证号（打码） Payee's ID number, masked")
    diagnosed_on: date = Field(description="确诊日期 Diagnosis date")
    closed_on: date | None = Field(description="出院或死亡日期 Discharge or death date")
    close_reason: CloseReason | None
    status: CaseStatus
    opened_by: str = Field(description='"event"：由监测登记事件立案；否则为立案人 "event", or the user')
    open_reason: str | None = Field(description="人工立案原因 Why opened by hand")
    source_event_id: str | None = Field(description="立案事件编号 The registry event that opened it")
    created_at: datetime
    updated_at: datetime


class CaseDetail(CaseOut):
    corrections: list[CorrectionOut] = Field(description="日期更正记录，按时间先后 Date corrections, oldest first")


# --- the schedule of periods ----------------------------------------------------------------------------------------


class PeriodStatus(StrEnum):
    no_standard = "no_standard"  # 期初无执行中的低保标准，暂不发放
    due = "due"  # 应发（或应退）未发
    pending = "pending"  # 发放中
    paid = "paid"  # 已发清
    not_entitled = "not_entitled"  # 不再应享受，且无应发应退（已退回或从未发放成功）


class StandardApplied(BaseModel):
    effective_from: date
    monthly_fen: int = Field(description="低保标准（分/月） The dibao standard, fen a month")


class LineOut(BaseModel):
    """发放明细 A payment line of the case: a period, or an adjustment of a period paid before."""

    id: str
    batch_id: str
    payment_id: str
    period_start: date = Field(description="发放时的期初（更正日期后不变） The period's start when the line was made")
    kind: str = Field(examples=["period"], description="period | adjustment")
    amount_fen: int
    status: str = Field(examples=["paid"], description="pending | paid | failed")
    created_at: datetime


class DueOut(BaseModel):
    """应发明细 What a payment batch would pay now for one period (negative: owed back)."""

    period_no: int
    period_start: date
    kind: str = Field(examples=["period"], description="period | adjustment")
    amount_fen: int


class SchedulePeriod(BaseModel):
    number: int = Field(description="第几期 Period k, from 1")
    start: date = Field(description="期初 First day: diagnosis date + (k−1) months")
    end: date = Field(description="下期期初（不含） First day of the next period, not covered")
    entitled: bool = Field(
        description="截至查询日应享受；false：日期更正后不再应享受但已发放的期 Entitled as of the day; false for a "
        "period paid before a correction took it away"
    )
    standard: StandardApplied | None = Field(description="期初执行的低保标准 The standard in force on the start")
    amount_fen: int | None = Field(
        description="应发金额：低保标准×2；无标准或不再应享受时为空 2 × the standard; null without one, or when not "
        "entitled"
    )
    paid_fen: int = Field(description="已发 Paid")
    pending_fen: int = Field(description="发放中 On its way")
    due_fen: int = Field(description="应发未发（负数为应退） Still due (negative: owed back)")
    status: PeriodStatus
    lines: list[LineOut]


class ScheduleTotals(BaseModel):
    periods: int = Field(description="应享受期数 Periods entitled")
    periods_without_standard: int = Field(description="无标准暂不能发放的期数 Entitled periods without a standard")
    entitled_fen: int = Field(description="应发合计（不含无标准的期） Entitled amount, periods with a standard")
    paid_fen: int
    pending_fen: int
    due_fen: int


class Schedule(BaseModel):
    """临时救助发放计划 The case's periods as of a day: entitlement, what was paid or is pending, what is due."""

    case_id: str
    as_of: date
    diagnosed_on: date
    closed_on: date | None
    status: CaseStatus
    unit_code: str
    area_class: AreaClass
    periods: list[SchedulePeriod]
    due: list[DueOut] = Field(description="应发明细（发放批次据此生成） The lines a payment batch would take")
    totals: ScheduleTotals
