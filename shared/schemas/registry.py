"""The registry's contract: regions, households, persons, cadres and pairings as other services see them."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.schemas.common import Phone

# Ids in one read of many (GET /health-histories, /household-details): the registry's limit, the client's chunk
IDS_PER_READ = 100


class PovertyStatus(StrEnum):
    """贫困状态"""

    not_lifted = "not_lifted"  # 未脱贫
    lifted = "lifted"  # 已脱贫（享受政策）
    returned = "returned"  # 返贫
    lifted_no_policy = "lifted_no_policy"  # 已脱贫（不再享受政策）


# The statuses as the offices write them (exports, ledger summaries, the import's column values)
POVERTY_STATUS_ZH = {
    PovertyStatus.not_lifted: "未脱贫",
    PovertyStatus.lifted: "已脱贫",
    PovertyStatus.returned: "返贫",
    PovertyStatus.lifted_no_policy: "已脱贫（不再享受政策）",
}


class HouseholdAttribute(StrEnum):
    """贫困户属性"""

    ordinary = "ordinary"  # 一般贫困户
    dibao = "dibao"  # 低保贫困户
    destitute = "destitute"  # 特困供养贫困户


class AreaClass(StrEnum):
    rural = "rural"  # 农村
    urban = "urban"  # 城镇


class Relation(StrEnum):
    """与户主关系"""

    head = "head"  # 户主
    spouse = "spouse"  # 配偶
    child = "child"  # 子女
    child_in_law = "child_in_law"  # 儿媳/女婿
    grandchild = "grandchild"  # 孙子女
    parent = "parent"  # 父母
    grandparent = "grandparent"  # 祖父母
    sibling = "sibling"  # 兄弟姐妹
    other = "other"  # 其他


class LabourCapacity(StrEnum):
    """劳动能力"""

    skilled = "skilled"  # 技能劳动力
    ordinary = "ordinary"  # 普通劳动力
    weak = "weak"  # 弱劳动力或半劳动力
    lost = "lost"  # 丧失劳动力
    none = "none"  # 无劳动力（儿童、在校生等）


class MigrantStatus(StrEnum):
    """务工状态"""

    not_working = "not_working"  # 未务工
    local = "local"  # 乡镇内务工
    in_county = "in_county"  # 县内乡外
    in_city = "in_city"  # 市内县外
    out_of_city = "out_of_city"  # 市外
    stranded = "stranded"  # 因疫情暂不能外出务工


class PersonBase(BaseModel):
    name: str = Field(min_length=1, max_length=50, description="姓名 Name", examples=["张秀华"])
    relation: Relation = Field(description="与户主关系 Relation to the head")
    labour_capacity: LabourCapacity = LabourCapacity.ordinary
    migrant_status: MigrantStatus = MigrantStatus.not_working
    phone: Phone | None = None


class PersonOut(PersonBase):
    id: str
    household_id: str
    id_number: str = Field(
        description="身份证号码，无 pii:read 权限时打码 Masked without pii:read", examples=["110105********002X"]
    )
    gender: str = Field(examples=["female"])
    birth_date: date
    phone: str | None = None
    updated_at: datetime


class HouseholdBase(BaseModel):
    status: PovertyStatus = Field(description="贫困状态 Poverty status")
    attribute: HouseholdAttribute = Field(description="贫困户属性 Household attribute")
    dibao: bool = Field(False, description="是否享受低保 Receives dibao")
    area_class: AreaClass = Field(AreaClass.rural, description="农村或城镇 Rural or urban")
    address: str | None = Field(None, max_length=200, description="住址 Address")


class HouseholdSummary(HouseholdBase):
    id: str
    household_no: str
    village_code: str
    township_code: str
    county_code: str
    head_name: str
    member_count: int
    phone: str | None = None
    created_at: datetime
    updated_at: datetime


class HouseholdOut(HouseholdSummary):
    members: list[PersonOut]


class CadreOut(BaseModel):
    id: str
    name: str
    unit: str
    position: str | None
    phone: str | None
    region_code: str
    county_code: str
    username: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


# --- health (the monitoring of measures 1 and 4): what relief reads of a person's health -------------------------


class HealthKind(StrEnum):
    """健康事件类型"""

    suspected = "suspected"  # 疑似
    confirmed = "confirmed"  # 确诊
    isolated = "isolated"  # 隔离
    released = "released"  # 解除隔离
    discharged = "discharged"  # 出院
    deceased = "deceased"  # 死亡
    cleared = "cleared"  # 排除疑似


class HealthStatus(StrEnum):
    """健康状态: the kind of the person's latest health event, `none` before the first."""

    none = "none"
    suspected = "suspected"
    confirmed = "confirmed"
    isolated = "isolated"
    released = "released"
    discharged = "discharged"
    deceased = "deceased"
    cleared = "cleared"


class IsolationPlace(StrEnum):
    home = "home"  # 居家隔离
    centralised = "centralised"  # 集中隔离


class IsolationReason(StrEnum):
    suspected = "suspected"  # 疑似病例
    close_contact = "close_contact"  # 密切接触者
    returned = "returned"  # 外地返回


class HealthEventOut(BaseModel):
    id: str
    person_id: str
    person_name: str
    household_id: str
    county_code: str
    township_code: str
    village_code: str
    kind: HealthKind
    occurred_on: date
    hospital: str | None
    hospitalised: bool | None
    isolation_place: IsolationPlace | None
    isolation_reason: IsolationReason | None
    notes: str | None
    recorded_by: str
    created_at: datetime


class PersonHealthOut(BaseModel):
    """一名人员的健康状态 A person's health state, kept by the health events."""

    person_id: str
    household_id: str
    name: str
    health_status: HealthStatus
    diagnosed_on: date | None = Field(description="确诊日期 Date of the latest confirmation")
    deceased_on: date | None
    key_monitoring: bool = Field(description="重点监测对象 Key monitoring object (every confirmed patient)")


class PersonHealthHistory(PersonHealthOut):
    events: list[HealthEventOut] = Field(description="健康事件，按时间先后 The person's events, oldest first")
