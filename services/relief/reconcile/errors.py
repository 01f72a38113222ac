"""Refusals of the reconciliation routes."""

from shared.errors import domain_error

ReconciliationNotFound = domain_error(
    "ReconciliationNotFound", 404, "reconciliation_not_found", "未找到该对账记录", "Reconciliation not found"
)
