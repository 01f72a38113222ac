"""Events between services and to departments' systems: one envelope, versioned payloads.

A payload's fields are only ever added (with defaults) within a version; a change that would break a consumer is a
new version, published beside the old one until every subscriber has moved.
"""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field


class EventEnvelope(BaseModel):
    """What a subscriber receives (HTTP POST, JSON), signed in the X-Fupin-Signature header."""

    id: str = Field(description="事件编号（UUIDv7），重复投递时不变 Event id; the same on every redelivery")
    type: str = Field(examples=["person.health_changed"])
    version: int = Field(examples=[1])
    source: str = Field(examples=["registry"])
    occurred_at: datetime
    household_id: str | None = None
    county_code: str | None = None
    data: dict[str, Any]


class PersonHealthChangedV1(BaseModel):
    """person.health_changed v1: a health event was recorded for a registered person."""

    person_id: str
    household_id: str
    county_code: str
    township_code: str
    village_code: str
    area_class: str = Field(description="rural | urban, for the dibao standard")
    household_status: str = Field(description="the household's poverty status when the event was recorded")
    kind: str = Field(examples=["confirmed"])
    occurred_on: date
    previous_status: str
    status: str
    hospitalised: bool | None = None
    hospital: str | None = None
    diagnosed_on: date | None = None
    health_event_id: str | None = Field(
        None, description="登记系统健康事件编号 The registry's health event (GET /persons/{person_id}/health-events)"
    )


class HouseholdStatusChangedV1(BaseModel):
    """household.status_changed v1"""

    household_id: str
    county_code: str
    from_status: str
    to_status: str
    changed_on: date
    reason: str


class HouseholdMonitoringChangedV1(BaseModel):
    """household.monitoring_changed v1: a member became (or stopped being) a key monitoring object."""

    household_id: str
    county_code: str
    person_id: str
    key_monitoring: bool
    reason: str


class VillageCaseFlagChangedV1(BaseModel):
    """village.case_flag_changed v1: a village or township with cases (no team entry), or no longer."""

    region_code: str
    level: str
    county_code: str
    flagged: bool
    active_cases: int
    manual: bool | None


class ContactRecordedV1(BaseModel):
    """contact.recorded v1"""

    contact_id: str
    household_id: str
    county_code: str
    cadre_id: str | None
    channel: str
    kind: str
    contacted_at: datetime


class ReliefCaseOpenedV1(BaseModel):
    """relief.case_opened v1: temporary relief (临时救助) at twice the dibao standard opened for a patient."""

    case_id: str
    person_id: str
    household_id: str
    county_code: str
    diagnosed_on: date
    monthly_fen: int = Field(description="2 × the dibao standard in force on the diagnosis date, in fen")
    opened_by: str = Field(description='"event" when opened from the registry\'s event, else the user')
    summary: str


class ReliefCaseClosedV1(BaseModel):
    """relief.case_closed v1: the case ended at a discharge or death date."""

    case_id: str
    person_id: str
    household_id: str
    county_code: str
    closed_on: date
    reason: str = Field(examples=["discharged"])
    periods: int = Field(description="the periods the case is entitled to")
    summary: str


class ReliefPeriodPaidV1(BaseModel):
    """relief.period_paid v1: the bank reported a relief line paid."""

    case_id: str
    person_id: str
    household_id: str
    county_code: str
    batch_id: str
    period_no: int
    period_start: date
    amount_fen: int
    kind: str = Field(description="period | adjustment")
    summary: str


class InsuranceClaimOpenedV1(BaseModel):
    """insurance.claim_opened v1: a claim under an exclusive insurance policy (measure 23)."""

    claim_id: str
    policy_id: str
    person_id: str
    household_id: str | None = None
    county_code: str
    kind: str = Field(examples=["hospitalisation"])
    amount_fen: int
    summary: str


class InsuranceClaimPaidV1(BaseModel):
    """insurance.claim_paid v1"""

    claim_id: str
    policy_id: str
    person_id: str
    household_id: str | None = None
    county_code: str
    kind: str
    amount_fen: int
    summary: str


EVENT_TYPES: dict[tuple[str, int], type[BaseModel]] = {
    ("person.health_changed", 1): PersonHealthChangedV1,
    ("household.status_changed", 1): HouseholdStatusChangedV1,
    ("household.monitoring_changed", 1): HouseholdMonitoringChangedV1,
    ("village.case_flag_changed", 1): VillageCaseFlagChangedV1,
    ("contact.recorded", 1): ContactRecordedV1,
    ("relief.case_opened", 1): ReliefCaseOpenedV1,
    ("relief.case_closed", 1): ReliefCaseClosedV1,
    ("relief.period_paid", 1): ReliefPeriodPaidV1,
    ("insurance.claim_opened", 1): InsuranceClaimOpenedV1,
    ("insurance.claim_paid", 1): InsuranceClaimPaidV1,
}
