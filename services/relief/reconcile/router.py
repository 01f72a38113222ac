"""Reconciliations of relief's cases with the registry's health timelines (对账): run one by hand, read the runs and
what they found."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.relief.reconcile import service
from services.relief.reconcile.schemas import FindingOut, ReconciliationOut
from services.relief.registry import Registry
from shared.context import context_for
from shared.db import sessions_of
from shared.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/relief/reconciliations", tags=["relief: cases 临时救助"])
Reader = context_for("relief:read")
CaseWorker = context_for("relief:cases")


@router.post("", operation_id="relief_run_reconciliation", response_model=ReconciliationOut, status_code=201)
async def run_reconciliation(request: Request, ctx: CaseWorker, registry: Registry) -> ReconciliationOut:
    """Compare every case with the registry now, repairing what differs 立即对账

    Runs to its end before it answers (each person in a transaction of its own); 503 registry_unavailable when the
    registry cannot be reached (the run is kept as failed)."""
    run = await service.reconcile(
        sessions_of(request.app), registry, trigger="manual", started_by=ctx.principal.subject,
        gauges=request.app.state.reconciliation_gauges,
    )  # fmt: skip
    return ReconciliationOut.model_validate(run)


@router.get("", operation_id="relief_list_reconciliations", response_model=Page[ReconciliationOut])
async def list_reconciliations(ctx: Reader, page: Paging) -> Page[ReconciliationOut]:
    """Reconciliations, newest first 对账记录"""
    return await service.list_runs(ctx, page)


@router.get("/{reconciliation_id}", operation_id="relief_get_reconciliation", response_model=ReconciliationOut)
async def get_reconciliation(reconciliation_id: str, ctx: Reader) -> ReconciliationOut:
    """One reconciliation 对账结果"""
    return await service.get_run(ctx, reconciliation_id)


@router.get(
    "/{reconciliation_id}/findings", operation_id="relief_reconciliation_findings", response_model=Page[FindingOut]
)
async def reconciliation_findings(
    reconciliation_id: str,
    ctx: Reader,
    page: Paging,
    kind: Annotated[str | None, Query(max_length=30, description="差异类型 Kind of difference")] = None,
) -> Page[FindingOut]:
    """What a reconciliation found and repaired, in the caller's scope, newest first 对账差异"""
    return await service.findings(ctx, reconciliation_id, page, kind=kind)
