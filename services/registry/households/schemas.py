"""What the registry's API takes to register and change households and persons (what other services read of them is
shared.schemas.registry)."""

from pydantic import ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from shared.schemas.common import IdNumber, Patch, Phone, VillageCode
from shared.schemas.registry import (
    AreaClass,
    HouseholdAttribute,
    HouseholdBase,
    LabourCapacity,
    MigrantStatus,
    PersonBase,
    PovertyStatus,
    Relation,
)


class PersonCreate(PersonBase):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "张秀华", "id_number": "11010519491231002X", "relation": "head"}]},
    )

    id_number: IdNumber


class PersonUpdate(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"migrant_status": "stranded"}]})
    clearable = frozenset({"phone"})

    name: str | None = Field(None, min_length=1, max_length=50)
    relation: Relation | None = None
    labour_capacity: LabourCapacity | None = None
    migrant_status: MigrantStatus | None = None
    phone: Phone | None = None


_HOUSEHOLD_EXAMPLE = {
    "household_no": "500230100201000123",
    "village_code": "500230100201",
    "status": "not_lifted",
    "attribute": "dibao",
    "dibao": True,
    "area_class": "rural",
    "phone": "13812341234",
    "members": [{"name": "张秀华", "id_number": "11010519491231002X", "relation": "head"}],
}


class HouseholdCreate(HouseholdBase):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_HOUSEHOLD_EXAMPLE]})

    household_no: str = Field(pattern=r"^[0-9A-Za-z-]{6,32}$", description="户编号 Household number")
    village_code: VillageCode
    phone: Phone | None = None
    members: list[PersonCreate] = Field(min_length=1, max_length=30, description="家庭成员 Members, one head")

    @field_validator("members")
    @classmethod
    def _one_head(cls, members: list[PersonCreate]) -> list[PersonCreate]:
        if sum(1 for m in members if m.relation == Relation.head) != 1:
            raise PydanticCustomError("one_head_required", "exactly one member must be the head (relation=head)")
        return members


class HouseholdUpdate(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "lifted"}]})
    clearable = frozenset({"address", "phone"})

    status: PovertyStatus | None = None
    status_reason: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="状态变更原因（改变状态时必填） Why the status changes (required then)",
    )
    attribute: HouseholdAttribute | None = None
    dibao: bool | None = None
    area_class: AreaClass | None = None
    address: str | None = Field(None, max_length=200)
    phone: Phone | None = None
