"""The household ledger (台账)."""

from fastapi import APIRouter
from fastapi.responses import Response

from services.registry.ledger import service
from services.registry.ledger.schemas import LedgerEntryOut
from shared.context import context_for
from shared.excel import xlsx_response
from shared.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/registry", tags=["registry: ledger 台账"])
Reader = context_for("registry:read")


@router.get(
    "/households/{household_id}/ledger", operation_id="registry_household_ledger", response_model=Page[LedgerEntryOut]
)
async def household_ledger(household_id: str, ctx: Reader, page: Paging) -> Page[LedgerEntryOut]:
    """Every event about a household, from every service, oldest first 贫困户台账"""
    return await service.ledger_page(ctx, household_id, page)


@router.get(
    "/households/{household_id}/ledger.xlsx",
    operation_id="registry_household_ledger_xlsx",
    response_class=Response,
    responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
async def household_ledger_xlsx(household_id: str, ctx: Reader) -> Response:
    """The household ledger as an Excel workbook 导出贫困户台账"""
    household_no, rows = await service.ledger_rows(ctx, household_id)
    return xlsx_response(
        f"台账_{household_no}.xlsx",
        "台账",
        ["时间 Time", "来源 Source", "事件 Event", "摘要 Summary", "详情 Details"],
        rows,
    )
