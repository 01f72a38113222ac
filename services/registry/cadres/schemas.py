"""What the registry's API takes and gives for cadres and their pairings (a cadre as other services read one is
shared.schemas.registry.CadreOut)."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from services.registry.fiveones.schemas import FiveOnesPairing, WindowOut
from services.registry.records.schemas import Notes, Temperature
from shared.schemas.common import Patch, Phone, RegionCode


class CadreCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"name": "李明", "unit": "丰都县扶贫办", "region_code": "500230100", "username": "cadre"}]
        },
    )

    name: str = Field(min_length=1, max_length=50, description="姓名 Name")
    unit: str = Field(min_length=1, max_length=100, description="工作单位 Work unit")
    position: str | None = Field(None, max_length=50, description="职务 Position, e.g. 第一书记")
    phone: Phone | None = None
    region_code: RegionCode = Field(description="所在区县/乡镇/村 Where the cadre works")
    username: str | None = Field(None, max_length=100, description="登录名（村干部账号） Gateway login, if any")


class CadreUpdate(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"position": "驻村工作队员"}]})
    clearable = frozenset({"position", "phone"})

    unit: str | None = Field(None, min_length=1, max_length=100)
    position: str | None = Field(None, max_length=50)
    phone: Phone | None = None
    active: bool | None = None


class PairingCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"cadre_id": "0193...", "household_id": "0193...", "start_date": "2020-02-09"}]
        },
    )

    cadre_id: str
    household_id: str
    start_date: date


class PairingEnd(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"end_date": "2020-12-31"}]})

    end_date: date


class PairingOut(BaseModel):
    id: str
    cadre_id: str
    cadre_name: str
    household_id: str
    household_no: str
    county_code: str
    start_date: date
    end_date: date | None
    active: bool
    updated_at: datetime


# --- a cadre's to-do list (measure 6) ----------------------------------------------------------------------------


class CadreTodo(BaseModel):
    """A cadre's to-do list: each paired household with its missing items, unfinished ones first."""

    cadre_id: str
    cadre_name: str
    as_of: date
    window: WindowOut
    households: list[FiveOnesPairing]


# --- cadre health checks (measure 21) -----------------------------------------------------------------------------


class HealthCheckCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"checked_on": "2020-02-14", "temperature_c": 36.5, "healthy": True}]},
    )

    checked_on: date = Field(description="检查日期 Date")
    temperature_c: Temperature | None = None
    healthy: bool = Field(description="身体状况正常 Healthy")
    notes: Notes


class HealthCheckOut(BaseModel):
    id: str
    cadre_id: str
    checked_on: date
    temperature_c: float | None
    healthy: bool
    notes: str | None
    recorded_by: str
    created_at: datetime
