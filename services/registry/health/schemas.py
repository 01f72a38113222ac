"""Requests and answers of the monitoring routes: health events, isolation check-ins, care overdue, 返贫, dibao
referrals."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.registry.records.schemas import Temperature, unique
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


class Symptom(StrEnum):
    fever = "fever"  # 发热
    cough = "cough"  # 咳嗽
    fatigue = "fatigue"  # 乏力
    breathing = "breathing"  # 呼吸困难
    other = "other"  # 其他


# --- isolation check-ins (measure 7) ------------------------------------------------------------------------------


class IsolationCheckinCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "checked_on": "2020-02-14",
                    "temperature_c": 36.8,
                    "symptoms": [],
                    "living_needs": "需代购大米",
                    "counselling": True,
                    "stays_home": True,
                    "no_gatherings": True,
                    "temperature_taken": True,
                    "mask_worn": True,
                    "help_given": "已代购大米 25 公斤",
                }
            ]
        },
    )

    checked_on: date = Field(description="随访日期，每人每天一次 Date; one check-in per person and day")
    temperature_c: Temperature | None = None
    symptoms: Annotated[list[Symptom], AfterValidator(unique)] = Field(
        default_factory=list, max_length=5, description="症状 Symptoms"
    )
    living_needs: str | None = Field(None, max_length=2000, description="生活需求 Living needs")
    counselling: bool = Field(False, description="是否开展心理疏导 Counselling given")
    stays_home: bool = Field(description="不外出 Stays home")
    no_gatherings: bool = Field(description="不聚集 No gatherings")
    temperature_taken: bool = Field(description="量体温 Takes the temperature")
    mask_worn: bool = Field(description="戴口罩 Wears a mask")
    help_given: str | None = Field(None, max_length=2000, description="帮助解决的困难 Help given")


class IsolationCheckinOut(BaseModel):
    id: str
    person_id: str
    household_id: str
    checked_on: date
    temperature_c: float | None
    symptoms: list[Symptom]
    living_needs: str | None
    counselling: bool
    stays_home: bool
    no_gatherings: bool
    temperature_taken: bool
    mask_worn: bool
    rules_kept: bool = Field(description="四项措施均已落实 All four rules kept")
    help_given: str | None
    recorded_by: str
    created_at: datetime


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
