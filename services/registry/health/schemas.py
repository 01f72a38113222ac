"""Requests and answers of the monitoring routes: health events, care overdue, case flags, 返贫, dibao referrals."""

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.registry import HealthEventOut, HealthKind, IsolationPlace, IsolationReason, PersonHealthOut

# --- health events --------------------------------------------------------------------------------------------------


class HealthEventCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "confirmed", "occurred_on": "2020-02-03", "hospital": "重庆三峡中心医院", "hospitalised": True},
                {"kind": "isolated", "occurred_on": "2020-02-01", "isolation_place": "home",
                 "isolation_reason": "close_contact"},
                {"kind": "discharged", "occurred_on": "2020-02-20"},
            ]
        },
    )  # fmt: skip

    kind: HealthKind = Field(description="事件类型 Kind of event")
    occurred_on: date = Field(
        description="发生日期（确诊日期、隔离开始日期等，北京时间） Date of the event in Asia/Shanghai: the diagnosis "
        "date of a confirmation, the start of an isolation"
    )
    hospital: str | None = Field(
        None, min_length=1, max_length=100, description="确诊医院，仅确诊时填写 Diagnosing hospital (confirmed only)"
    )
    hospitalised: bool | None = Field(None, description="是否住院，仅确诊时填写 In hospital or not (confirmed only)")
    isolation_place: IsolationPlace | None = Field(
        None, description="居家或集中隔离，仅隔离时填写 Home or centralised (isolated only)"
    )
    isolation_reason: IsolationReason | None = Field(
        None, description="隔离原因，仅隔离时填写 Why isolated: suspected, close contact, returned (isolated only)"
    )
    notes: str | None = Field(None, max_length=2000, description="备注 Notes")


class HealthEventRecorded(BaseModel):
    event: HealthEventOut
    person: PersonHealthOut


# --- care overdue (measure 1) ---------------------------------------------------------------------------------------


class CareOverdueRow(BaseModel):
    """确诊后逾期未慰问 A confirmation whose household had no care or counselling contact in time."""

    health_event_id: str = Field(description="确诊事件 The confirmed event")
    household_id: str
    household_no: str
    head_name: str
    county_code: str
    township_code: str
    village_code: str
    village_name: str | None
    person_id: str
    person_name: str
    diagnosed_on: date
    due_on: date = Field(description="应慰问截止日 Diagnosis date + the care-overdue days in force on it")
    days_overdue: int = Field(description="逾期天数 as_of − due_on")


# --- case flags (measure 22) ----------------------------------------------------------------------------------------


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


# --- 返贫 and dibao referrals (measure 4) ---------------------------------------------------------------------------


class ReturnToPoverty(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"changed_on": "2020-03-01", "reason": "因病返贫"}]}
    )

    changed_on: date = Field(description="返贫日期 Date of the return to poverty")
    reason: str = Field(min_length=1, max_length=500, description="返贫原因 Reason")


class StatusChangeOut(BaseModel):
    id: str
    household_id: str
    from_status: str
    to_status: str
    changed_on: date
    reason: str
    recorded_by: str
    created_at: datetime


class DibaoDecision(StrEnum):
    pending = "pending"  # 待审
    approved = "approved"  # 同意纳入
    rejected = "rejected"  # 不予纳入


class DibaoReferralCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"referred_on": "2020-03-02", "reason": "户主确诊，家庭无劳动力"}]},
    )

    referred_on: date = Field(description="推荐日期 Date of the referral")
    reason: str = Field(min_length=1, max_length=500, description="推荐理由 Reason")


class DibaoDecisionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"decision": "approved", "decided_on": "2020-03-10", "note": "符合条件"}]},
    )

    decision: Literal["approved", "rejected"] = Field(description="同意纳入或不予纳入 Approved or rejected")
    decided_on: date = Field(description="民政部门决定日期 Date of the civil-affairs decision")
    note: str | None = Field(None, max_length=500, description="说明 Note")


class DibaoReferralOut(BaseModel):
    id: str
    household_id: str
    household_no: str
    head_name: str
    county_code: str
    township_code: str
    referred_on: date
    reason: str
    referred_by: str
    decision: DibaoDecision
    decided_on: date | None
    decision_note: str | None
    decided_by: str | None
    created_at: datetime
    updated_at: datetime
