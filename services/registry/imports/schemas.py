"""What the import routes answer: a job with its progress and the first errors."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ImportMode(StrEnum):
    """all: any error and nothing is written (the default); valid_households: the households without errors are."""

    all = "all"
    valid_households = "valid_households"


class ImportStatus(StrEnum):
    queued = "queued"  # 排队中
    validating = "validating"  # 校验中
    importing = "importing"  # 写入中
    done = "done"  # 已完成
    failed = "failed"  # 失败（未写入任何数据）


FINISHED = frozenset({ImportStatus.done, ImportStatus.failed})


class ImportRowError(BaseModel):
    row: int = Field(description="行号，与文件中一致（表头为第1行） Row as numbered in the file", examples=[5])
    column: str = Field(description="列名 Column header", examples=["身份证号码"])
    value: str = Field(
        description="填写的值；身份证号码和电话打码 The value as typed, ID numbers and phones masked",
        examples=["500230********123X"],
    )
    code: str = Field(examples=["id_number_invalid"])
    message: str = Field(description="错误说明 What is wrong, in Chinese", examples=["校验码错误"])


_EXAMPLE = {
    "id": "019384c2-8f3a-7c41-9b2e-5d6f7a8b9c0d",
    "status": "importing",
    "mode": "all",
    "file_name": "虎威镇贫困户花名册.xlsx",
    "file_format": "xlsx",
    "file_size": 183_204,
    "rows_total": 1200,
    "rows_done": 600,
    "households_created": 0,
    "persons_created": 0,
    "error_count": 0,
    "message": None,
    "created_by": "fengdu",
    "county_code": "500230",
    "created_at": "2020-02-10T09:00:00Z",
    "started_at": "2020-02-10T09:00:01Z",
    "finished_at": None,
}


class ImportJobSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    status: ImportStatus = Field(
        description="queued 排队中, validating 校验中, importing 写入中, done 完成, failed 失败"
    )
    mode: ImportMode
    file_name: str
    file_format: str = Field(examples=["xlsx"])
    file_size: int = Field(description="字节数 Bytes")
    rows_total: int = Field(description="数据行数（不含表头和空行） Data rows in the file")
    rows_done: int = Field(
        description="当前阶段已处理的行数：校验时为已校验行数，写入时为已写入行数；结束时等于 rows_total "
        "Rows handled in the current phase (checked while validating, written while importing)"
    )
    households_created: int
    persons_created: int
    error_count: int = Field(description="错误总数 Errors found")
    message: str | None = Field(None, description="结果说明 What happened, in Chinese")
    created_by: str
    county_code: str | None = Field(None, description="导入人所辖区县（全市范围为空） The importer's county")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ImportJobOut(ImportJobSummary):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_EXAMPLE, "errors": []}]})

    errors: list[ImportRowError] = Field(description="前200条错误 The first 200 errors; the full report: errors.xlsx")
