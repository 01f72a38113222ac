"""Requests and answers of the exclusive insurance (专属保险, measure 23): policies, enrolments, claims."""

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.common import Patch

# A sanity bound on a benefit (1亿元), so an absurd figure is a 422 and never overflows the column.
MAX_BENEFIT_FEN = 10_000_000_000
RegistryId = Annotated[
    str,
    Field(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$", description="监测登记服务中的编号 A registry id"),
]


class InsuredGroup(StrEnum):
    """参保群体"""

    resident_cadre = "resident_cadre"  # 驻乡驻村干部
    first_secretary = "first_secretary"  # 第一书记
    poor_household = "poor_household"  # 建档立卡贫困户


class InsuredKind(StrEnum):
    """参保人类别: a registered poor person, or a cadre (registry ids)."""

    person = "person"  # 贫困人口
    cadre = "cadre"  # 帮扶干部


class ClaimKind(StrEnum):
    """理赔项目"""

    hospitalisation = "hospitalisation"  # 新冠肺炎住院
    death = "death"  # 身故


class ClaimStatus(StrEnum):
    """理赔状态: opened → approved → paid, or opened → rejected."""

    opened = "opened"  # 已立案
    approved = "approved"  # 审核通过
    paid = "paid"  # 已赔付
    rejected = "rejected"  # 拒赔


GROUP_LABELS = {"resident_cadre": "驻乡驻村干部", "first_secretary": "第一书记", "poor_household": "建档立卡贫困户"}
KIND_LABELS = {"person": "贫困人口", "cadre": "帮扶干部"}
CLAIM_LABELS = {"hospitalisation": "住院", "death": "身故"}

Benefit = Annotated[int, Field(ge=0, le=MAX_BENEFIT_FEN)]
_POLICY_EXAMPLE = {
    "name": "2020年驻村干部新冠肺炎专属保险",
    "insurer": "中国人寿重庆市分公司",
    "insured_group": "resident_cadre",
    "hospitalisation_fen": 1000000,
    "death_fen": 50000000,
    "cover_from": "2020-01-24",
    "cover_to": "2020-12-31",
}


# --- policies -------------------------------------------------------------------------------------------------------


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, json_schema_extra={"examples": [_POLICY_EXAMPLE]})

    name: str = Field(min_length=1, max_length=100, description="保单名称 Policy name")
    insurer: str = Field(min_length=1, max_length=100, description="承保机构 Insurer")
    insured_group: InsuredGroup = Field(description="参保群体 Insured group")
    hospitalisation_fen: Benefit = Field(
        description="新冠肺炎住院保险金（分），0 表示不保 Hospitalisation benefit in fen"
    )
    death_fen: Benefit = Field(description="身故保险金（分），0 表示不保 Death benefit in fen; 0: not covered")
    cover_from: date = Field(description="保障期起 First day of cover")
    cover_to: date = Field(description="保障期止（含） Last day of cover, inclusive")


class PolicyUpdate(Patch):
    model_config = ConfigDict(
        use_enum_values=True, json_schema_extra={"examples": [{"cover_to": "2021-03-31", "death_fen": 60000000}]}
    )

    name: str | None = Field(None, min_length=1, max_length=100)
    insurer: str | None = Field(None, min_length=1, max_length=100)
    insured_group: InsuredGroup | None = Field(None, description="有参保人员后不能改变 Fixed once anyone is enrolled")
    hospitalisation_fen: Benefit | None = Field(None, description="只影响此后立案的理赔 Applies to claims opened later")
    death_fen: Benefit | None = Field(None, description="只影响此后立案的理赔 Applies to claims opened later")
    cover_from: date | None = None
    cover_to: date | None = None


class PolicyOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id": "0193a2b4-...", **_POLICY_EXAMPLE}]})

    id: str
    name: str
    insurer: str
    insured_group: InsuredGroup
    hospitalisation_fen: int
    death_fen: int
    cover_from: date
    cover_to: date
    created_by: str
    created_at: datetime
    updated_at: datetime


# --- enrolments -----------------------------------------------------------------------------------------------------


class PersonEnrolmentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"household_id": "0193a2b4-..."}, {"household_id": "0193a2b4-...",
                                                                          "person_ids": ["0193a2b5-..."]}]},
    )  # fmt: skip

    household_id: RegistryId = Field(description="贫困户 The registered poor household")
    person_ids: list[RegistryId] | None = Field(
        None,
        min_length=1,
        max_length=30,
        description="参保的家庭成员，不填为全部成员 The members to insure; every member when left out",
    )


class CadreEnrolmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"cadre_id": "0193a2b4-..."}]})

    cadre_id: RegistryId = Field(description="帮扶干部（驻乡驻村干部、第一书记） The cadre")


_ENROLMENT_EXAMPLE = {
    "id": "0193a2c0-...", "policy_id": "0193a2b4-...", "insured_kind": "person", "insured_id": "0193a2b5-...",
    "household_id": "0193a2b4-...", "county_code": "500230", "name": "张秀华", "enrolled_by": "civil",
    "created_at": "2020-02-10T09:00:00+08:00", "updated_at": "2020-02-10T09:00:00+08:00",
}  # fmt: skip


class EnrolmentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENROLMENT_EXAMPLE]})

    id: str
    policy_id: str
    insured_kind: InsuredKind
    insured_id: str = Field(description="人员编号或干部编号 Registry person id or cadre id")
    household_id: str | None
    county_code: str
    name: str
    enrolled_by: str
    created_at: datetime
    updated_at: datetime


class EnrolmentResult(BaseModel):
    """参保结果: who was enrolled now, and who was enrolled under this policy already (nothing changes for them)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"enrolled": [_ENROLMENT_EXAMPLE], "already_enrolled": []}]}
    )

    enrolled: list[EnrolmentOut] = Field(description="本次新参保 Enrolled by this request")
    already_enrolled: list[EnrolmentOut] = Field(
        description="此前已参保，未重复参保 Enrolled before; left as they were"
    )


# --- claims ---------------------------------------------------------------------------------------------------------

Reason = Annotated[str, Field(min_length=1, max_length=300)]


class ClaimCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"insured_kind": "cadre", "insured_id": "0193a2b4-...", "kind": "hospitalisation",
                 "occurred_on": "2020-02-12", "reason": "驻村期间确诊住院，县卫健委通报"}
            ]
        },
    )  # fmt: skip

    insured_kind: InsuredKind = Field(description="参保人类别 Person or cadre")
    insured_id: RegistryId = Field(description="人员编号或干部编号 Registry person id or cadre id")
    kind: ClaimKind = Field(description="理赔项目 Hospitalisation or death")
    occurred_on: date = Field(description="住院或身故日期（北京时间） Date of the hospitalisation or death")
    reason: Reason = Field(description="人工立案原因 Why the claim is opened by hand")


class ClaimReject(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"reason": "经核实非新冠肺炎住院"}]}
    )

    reason: Reason = Field(description="拒赔原因 Why the claim is rejected")


class ClaimOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "0193a2d0-...", "policy_id": "0193a2b4-...", "enrolment_id": "0193a2c0-...",
                 "insured_kind": "person", "insured_id": "0193a2b5-...", "insured_name": "张秀华",
                 "household_id": "0193a2b4-...", "county_code": "500230", "kind": "hospitalisation",
                 "occurred_on": "2020-02-03", "amount_fen": 1000000, "status": "opened", "opened_by": "event",
                 "open_reason": None, "source_event_id": "0193a2a0-...", "decided_by": None, "decided_at": None,
                 "reject_reason": None, "paid_by": None, "paid_at": None,
                 "created_at": "2020-02-03T10:00:00+08:00", "updated_at": "2020-02-03T10:00:00+08:00"}
            ]
        }
    )  # fmt: skip

    id: str
    policy_id: str
    enrolment_id: str
    insured_kind: InsuredKind
    insured_id: str
    insured_name: str
    household_id: str | None
    county_code: str
    kind: ClaimKind
    occurred_on: date
    amount_fen: int = Field(
        description="赔付金额（分），立案时按保单确定 Amount in fen, fixed from the policy at opening"
    )
    status: ClaimStatus
    opened_by: str = Field(description="event（按健康事件自动立案）或立案人 'event', or who opened it by hand")
    open_reason: str | None
    source_event_id: str | None
    decided_by: str | None = Field(description="审核（通过或拒赔）人 Who approved or rejected it")
    decided_at: datetime | None
    reject_reason: str | None
    paid_by: str | None
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime
