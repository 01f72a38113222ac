"""The five ones (五个一, measure 6): per pairing or rolled up, and as an Excel workbook."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.registry.fiveones import service
from services.registry.fiveones.schemas import FiveOnesLevel, FiveOnesReport
from services.registry.records.schemas import AsOf, Region
from shared.context import context_for
from shared.excel import XLSX, xlsx_response
from shared.pagination import Paging

router = APIRouter(prefix="/api/v1/registry", tags=["registry: contacts 帮扶联系"])
Reader = context_for("registry:read")


@router.get("/five-ones", operation_id="registry_five_ones", response_model=FiveOnesReport)
async def five_ones(
    ctx: Reader,
    page: Paging,
    region: Region = None,
    as_of: AsOf = None,
    level: Annotated[
        FiveOnesLevel, Query(description="每个结对，或按干部、乡镇、区县、全市汇总 Per pairing, or rolled up")
    ] = FiveOnesLevel.pairing,
    complete: Annotated[
        bool | None, Query(description="仅列全部完成（true）或未完成（false）的结对 Pairings complete or not")
    ] = None,
):
    """The five ones: per pairing (paged) or rolled up per cadre, township, county or city “五个一”完成情况"""
    return await service.five_ones(ctx, page, level=level, region=region, as_of=as_of, complete=complete)


@router.get(
    "/five-ones.xlsx",
    operation_id="registry_five_ones_xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def five_ones_xlsx(ctx: Reader, region: Region = None, as_of: AsOf = None) -> Response:
    """A region's five-ones table as an Excel workbook, one row per pairing 导出“五个一”台账"""
    filename, headers, rows = await service.five_ones_table(ctx, region=region, as_of=as_of)
    return xlsx_response(filename, "五个一", headers, rows)
