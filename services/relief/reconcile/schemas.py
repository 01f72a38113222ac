"""Answers of the reconciliation routes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ReconciliationOut(BaseModel):
    """对账 One comparison of relief's cases with the registry's confirmed, discharged and deceased people."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    trigger: str = Field(examples=["manual"], description="schedule（定时） | manual（人工）")
    started_by: str
    status: str = Field(examples=["done"], description="running | done | failed")
    persons: int = Field(description="比对人数 Persons compared")
    differences: int = Field(description="发现差异 Differences found")
    repaired: int = Field(description="已修复 Differences repaired")
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class FindingOut(BaseModel):
    """A difference between a person's cases and their registry timeline.

    kind: case_missing（缺少救助案件，已立案）, case_not_closed（应结案，已结案）, closed_on_differs /
    diagnosed_on_differs（日期不符，已更正；民政人工更正的保留）, closed_without_discharge（已结案但登记系统未出院）,
    case_without_confirmation（登记系统无确诊记录）, claim_missing（专属保险理赔补立案）.
    """

    model_config = ConfigDict(from_attributes=True)

    id: str
    person_id: str
    case_id: str | None
    county_code: str
    region_code: str
    kind: str = Field(examples=["case_not_closed"])
    repaired: bool
    detail: str
