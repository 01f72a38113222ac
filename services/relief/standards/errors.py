"""Refusals of the dibao standard routes, each with its stable code."""

from shared.errors import domain_error

UnknownUnit = domain_error(
    "UnknownUnit", 422, "unit_code_invalid", "标准适用单位应为重庆市区县代码或 wansheng（万盛经开区）",
    "The unit must be a Chongqing county code or wansheng (万盛经开区)",
)  # fmt: skip
StandardExists = domain_error(
    "StandardExists", 409, "standard_exists", "该单位该类别在此日期已有标准；调整标准请按新的执行日期新增",
    "This unit and class already have a standard from that date; a new amount is a new standard from its own date",
)  # fmt: skip
StandardNotFound = domain_error(
    "StandardNotFound", 404, "standard_not_found", "未找到该低保标准", "Dibao standard not found"
)
NoStandardInForce = domain_error(
    "NoStandardInForce",
    404,
    "standard_not_in_force",
    "该日期没有执行中的低保标准",
    "No standard is in force on that date",
)
