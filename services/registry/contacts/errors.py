"""Refusals of the contact log, the five ones and the care records, each with its stable code."""

from shared.errors import domain_error

VisitRefused = domain_error(
    "VisitRefused",
    409,
    "visit_refused_case_village",
    "该村（社区）或所在乡镇有疫情，扶贫工作队暂不进驻，请改用电话、短信、QQ、微信或书信联系",
    "The village or its township has cases (no team entry): no in-person visits; use phone, SMS, QQ, WeChat "
    "or a letter",
)
CheckinExists = domain_error(
    "CheckinExists",
    409,
    "checkin_exists",
    "该人员当日已有随访记录",
    "This person has a check-in for that day already",
)
ExportTooLarge = domain_error(
    "ExportTooLarge",
    422,
    "export_too_large",
    "导出行数超过 {limit}，请选择更小的区域",
    "More than {limit} rows: choose a smaller region",
)
