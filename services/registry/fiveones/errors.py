"""Refusals of the five ones, each with its stable code."""

from shared.errors import domain_error

ExportTooLarge = domain_error(
    "ExportTooLarge",
    422,
    "export_too_large",
    "导出行数超过 {limit}，请选择更小的区域",
    "More than {limit} rows: choose a smaller region",
)
