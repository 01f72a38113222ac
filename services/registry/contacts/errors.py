"""Refusals of the contact log, each with its stable code."""

from shared.errors import domain_error

VisitRefused = domain_error(
    "VisitRefused",
    409,
    "visit_refused_case_village",
    "该村（社区）或所在乡镇有疫情，扶贫工作队暂不进驻，请改用电话、短信、QQ、微信或书信联系",
    "The village or its township has cases (no team entry): no in-person visits; use phone, SMS, QQ, WeChat "
    "or a letter",
)
