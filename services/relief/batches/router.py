"""Payee accounts, payment batches (maker–checker), bank files, the bank's results, reconciliation."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile as StarletteUploadFile

from services.relief.batches import accounts, bank, service
from services.relief.batches.bankfiles import (
    BANK_FILE_HEADERS,
    COLUMN_NAMES_ZH,
    LISTED_ERRORS,
    MAX_RESULT_FILE_BYTES,
    ResultFileRejected,
    bank_csv,
    bank_rows_for_xlsx,
    read_result_file,
    row_message,
)
from services.relief.batches.errors import ResultFileMissing, ResultFileTooLarge
from services.relief.batches.schemas import (
    BatchCreate,
    BatchCreated,
    BatchOut,
    BatchStatus,
    PayeeAccountOut,
    PayeeAccountSet,
    PaymentDetail,
    PaymentOut,
    PaymentStatus,
    Reconciliation,
    ResultsApplied,
)
from services.relief.batches.service import batch_number
from shared.context import context_for
from shared.errors import language, problem_response
from shared.excel import XLSX, xlsx_response
from shared.idempotency import IdempotencyDep
from shared.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/relief", tags=["relief: payments 发放"])
Reader = context_for("relief:read")
AccountKeeper = context_for("relief:accounts")
Maker = context_for("relief:pay")
Checker = context_for("relief:approve")
Banker = context_for("relief:bank")

_RESULT_FILE_INVALID = ("银行结果文件有误，未记录任何结果", "The result file has errors: nothing was recorded")


# --- payee accounts -------------------------------------------------------------------------------------------------


@router.put(
    "/persons/{person_id}/payee-account", operation_id="relief_set_payee_account", response_model=PayeeAccountOut
)
async def set_payee_account(
    person_id: str, body: PayeeAccountSet, request: Request, ctx: AccountKeeper, idem: IdempotencyDep
):
    """Register or replace a person's payee account (social-security card) 登记收款账户（社保卡/一卡通）"""
    registry = request.app.state.registry
    return await idem.run(ctx.principal, 200, lambda: accounts.set_account(ctx, registry, person_id, body))


@router.get(
    "/persons/{person_id}/payee-account", operation_id="relief_get_payee_account", response_model=PayeeAccountOut
)
async def get_payee_account(person_id: str, ctx: Reader) -> PayeeAccountOut:
    """A person's payee account, the number masked without pii:read 查看收款账户"""
    return await accounts.get_account(ctx, person_id)


# --- batches --------------------------------------------------------------------------------------------------------


@router.post("/batches", operation_id="relief_create_batch", response_model=BatchCreated, status_code=201)
async def create_batch(body: BatchCreate, ctx: Maker, idem: IdempotencyDep):
    """Make a batch of every due relief period of a county or 万盛经开区 up to a date (maker) 制作发放批次

    Cases without a payee account, and cases whose net amount due is not positive (overpaid), are left out and
    listed; 422 `nothing_due` when no case has anything to pay.
    """
    return await idem.run(ctx.principal, 201, lambda: service.create_batch(ctx, body))


@router.get("/batches", operation_id="relief_list_batches", response_model=Page[BatchOut])
async def list_batches(
    ctx: Reader,
    page: Paging,
    unit_code: Annotated[str | None, Query(max_length=9, description="区县代码或 wansheng Unit")] = None,
    status: BatchStatus | None = None,
) -> Page[BatchOut]:
    """Payment batches in scope, newest first 发放批次列表"""
    return await service.list_batches(ctx, page, unit_code=unit_code, status=status)


@router.get("/batches/{batch_id}", operation_id="relief_get_batch", response_model=BatchOut)
async def get_batch(batch_id: str, ctx: Reader) -> BatchOut:
    """A payment batch 查看发放批次"""
    return await service.get_batch(ctx, batch_id)


@router.post("/batches/{batch_id}/approve", operation_id="relief_approve_batch", response_model=BatchOut)
async def approve_batch(batch_id: str, ctx: Checker, idem: IdempotencyDep):
    """Approve a draft batch; the checker must not be its maker (checker) 复核发放批次"""
    return await idem.run(ctx.principal, 200, lambda: service.approve_batch(ctx, batch_id))


@router.post("/batches/{batch_id}/cancel", operation_id="relief_cancel_batch", response_model=BatchOut)
async def cancel_batch(batch_id: str, ctx: Maker, idem: IdempotencyDep):
    """Cancel a draft batch; its periods are due again 撤销发放批次"""
    return await idem.run(ctx.principal, 200, lambda: service.cancel_batch(ctx, batch_id))


@router.get("/batches/{batch_id}/payments", operation_id="relief_list_batch_payments", response_model=Page[PaymentOut])
async def list_batch_payments(
    batch_id: str, ctx: Reader, page: Paging, status: PaymentStatus | None = None
) -> Page[PaymentOut]:
    """A batch's payments in reference order, account numbers masked without pii:read 批次发放明细"""
    return await service.list_payments(ctx, batch_id, page, status=status)


@router.get("/payments/{payment_id}", operation_id="relief_get_payment", response_model=PaymentDetail)
async def get_payment(payment_id: str, ctx: Reader) -> PaymentDetail:
    """A payment with its relief periods 查看发放明细"""
    return await service.get_payment(ctx, payment_id)


@router.get("/batches/{batch_id}/reconciliation", operation_id="relief_reconcile_batch", response_model=Reconciliation)
async def reconcile_batch(batch_id: str, ctx: Reader) -> Reconciliation:
    """The batch's totals against its payments and lines: paid, failed, pending 批次对账"""
    return await service.reconcile(ctx, batch_id)


# --- the bank -------------------------------------------------------------------------------------------------------


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}


@router.get(
    "/batches/{batch_id}/bank-file.csv",
    operation_id="relief_bank_file_csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def bank_file_csv(batch_id: str, ctx: Banker) -> Response:
    """The bank file of an approved batch as CSV, full account numbers (needs pii:read; audited) 下载银行代发文件（CSV）"""
    batch, rows = await bank.bank_file(ctx, batch_id)
    await bank.record_bank_file(ctx, batch, "csv", len(rows))
    return Response(
        bank_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"银行代发文件_{batch_number(batch.id)}.csv"),
    )


@router.get(
    "/batches/{batch_id}/bank-file.xlsx",
    operation_id="relief_bank_file_xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
async def bank_file_xlsx(batch_id: str, ctx: Banker) -> Response:
    """The bank file of an approved batch as Excel, full account numbers (needs pii:read; audited) 下载银行代发文件（Excel）"""
    batch, rows = await bank.bank_file(ctx, batch_id)
    await bank.record_bank_file(ctx, batch, "xlsx", len(rows))
    number = batch_number(batch.id)
    return xlsx_response(f"银行代发文件_{number}.xlsx", "代发明细", BANK_FILE_HEADERS, bank_rows_for_xlsx(rows))


_RESULT_FILE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "银行回盘文件 XLSX 或 CSV：业务参考号、结果（成功/失败）、失败原因 The bank's "
                        "results: reference, result (paid/failed), reason",
                    }
                },
            }
        }
    },
}


@router.post(
    "/batches/{batch_id}/results",
    operation_id="relief_import_bank_results",
    response_model=ResultsApplied,
    responses={422: {"description": "文件有误：逐行列出 The file's problems by row and column; nothing recorded"}},
    openapi_extra={"requestBody": _RESULT_FILE_BODY},
    max_body_size=MAX_RESULT_FILE_BYTES + 1024 * 1024,  # the multipart envelope around a file at the limit
)
async def import_bank_results(batch_id: str, request: Request, ctx: Banker, idem: IdempotencyDep):
    """Record the bank's results of a batch from its result file, all rows or none 导入银行回盘结果

    The form is read by hand: the body is read (and kept) first, so the Idempotency-Key's hash can read it again.
    """
    await request.body()
    upload = (await request.form(max_files=1, max_fields=5)).get("file")
    if not isinstance(upload, StarletteUploadFile):
        raise ResultFileMissing(field="file")
    data = await upload.read(MAX_RESULT_FILE_BYTES + 1)
    if len(data) > MAX_RESULT_FILE_BYTES:
        raise ResultFileTooLarge(limit_mb=MAX_RESULT_FILE_BYTES // (1024 * 1024))
    try:
        return await idem.run(ctx.principal, 200, lambda: _apply(ctx, batch_id, data))
    except ResultFileRejected as exc:
        return _rejected(request, exc)


async def _apply(ctx, batch_id: str, data: bytes) -> ResultsApplied:
    return await bank.apply_results(ctx, batch_id, read_result_file(data))


def _rejected(request: Request, exc: ResultFileRejected) -> JSONResponse:
    lang = language(request.headers.get("accept-language"))
    errors = [
        {
            "row": error.row,
            "column": COLUMN_NAMES_ZH.get(error.column, "") if lang == "zh" else error.column,
            "field": f"rows.{error.row}.{error.column}" if error.column else f"rows.{error.row}",
            "code": error.code,
            "message": row_message(error, lang),
        }
        for error in exc.errors[:LISTED_ERRORS]
    ]
    zh, en = _RESULT_FILE_INVALID
    total = len(exc.errors)
    if lang == "en":
        detail = f"{total} errors" + (f", the first {len(errors)} listed" if total > len(errors) else "")
    else:
        detail = f"共 {total} 处错误" + (f"，列出前 {len(errors)} 处" if total > len(errors) else "")
    return problem_response(
        request,
        status=422,
        code="result_file_invalid",
        title=en if lang == "en" else zh,
        detail=detail,
        errors=errors,
    )
