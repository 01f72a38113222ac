"""Field types used by several services' contracts."""

import re
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared.pii import InvalidIdNumber, normalize_id_number, normalize_phone

ID_NUMBER_REASONS_ZH = {
    "shape": "应为17位数字加1位校验码",
    "province": "地址码的省份代码不存在",
    "birth_date": "出生日期无效",
    "checksum": "校验码错误",
}
_REGION_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")


def _id_number(value: str) -> str:
    try:
        return normalize_id_number(value)
    except InvalidIdNumber as exc:
        raise PydanticCustomError(
            "id_number_invalid",
            "invalid resident ID number: {reason}",
            {"reason": exc.reason, "reason_zh": ID_NUMBER_REASONS_ZH[exc.reason]},
        ) from exc


def _phone(value: str) -> str:
    try:
        return normalize_phone(value)
    except ValueError as exc:
        raise PydanticCustomError("phone_invalid", "invalid phone number") from exc


def _region_code(value: str) -> str:
    if not _REGION_CODE.match(value):
        raise PydanticCustomError("region_code_invalid", "region code must have 6, 9 or 12 digits")
    return value


IdNumber = Annotated[
    str,
    Field(description="居民身份证号码 Resident ID number (GB 11643)", examples=["11010519491231002X"]),
    AfterValidator(_id_number),
]
Phone = Annotated[str, Field(description="电话号码 Phone number", examples=["13812341234"]), AfterValidator(_phone)]
RegionCode = Annotated[
    str,
    Field(description="行政区划代码 Region code (GB/T 2260: 6, 9 or 12 digits)", examples=["500101001001"]),
    AfterValidator(_region_code),
]
VillageCode = Annotated[
    str,
    Field(
        pattern=r"^\d{12}$",
        description="村（社区）代码 Village or community code, 12 digits",
        examples=["500230100201"],
    ),
]


class Patch(BaseModel):
    """A partial update: fields left out stay as they are; `null` clears only the fields named in `clearable`."""

    model_config = ConfigDict(extra="forbid")
    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise PydanticCustomError("null_not_allowed", "this field cannot be cleared")
        return value
