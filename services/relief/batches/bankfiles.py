"""Bank files (银行代发文件) of an approved batch, and reading the bank's result file (回盘文件).

The bank file lists one payment a row: payee name, masked ID number (for the officials' eyes), bank and full account
number (the bank needs it: the download needs pii:read and is audited), the amount in yuan with two decimals (from
the fen, by integer arithmetic) and the reference the bank answers by.

The result file is CSV (UTF-8, UTF-8 with BOM, GB18030) or XLSX (first sheet), with a header row among its first ten
naming at least the reference and the result (成功/失败, paid/failed), optionally the failure reason and the
amount (checked against the payment when present). Rows are numbered as the file shows them.
"""

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from services.relief.batches.errors import ResultFileUnsupported
from services.relief.batches.schemas import PaymentStatus
from shared.money import yuan
from shared.spreadsheets import SpreadsheetUnreadable, csv_records, xlsx_records

BANK_FILE_HEADERS = (
    "序号",
    "收款人姓名",
    "身份证号码（脱敏）",
    "开户银行",
    "银行账号",
    "金额（元）",
    "业务参考号",
    "摘要",
)
HEADER_SEARCH_ROWS = 10
MAX_RESULT_FILE_BYTES = 20 * 1024 * 1024
LISTED_ERRORS = 200


@dataclass(frozen=True)
class BankFileRow:
    payee_name: str
    payee_id_masked: str | None
    bank_name: str
    account_number: str
    amount_fen: int
    reference: str
    summary: str

    def cells(self, number: int) -> list[str]:
        return [
            str(number), self.payee_name, self.payee_id_masked or "", self.bank_name, self.account_number,
            yuan(self.amount_fen), self.reference, self.summary,
        ]  # fmt: skip


def bank_csv(rows: Iterable[BankFileRow]) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Chinese); every value text, the account number never a number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(BANK_FILE_HEADERS)
    for number, row in enumerate(rows, start=1):
        writer.writerow(row.cells(number))
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def bank_rows_for_xlsx(rows: Iterable[BankFileRow]) -> Iterator[list[str]]:
    """Cells as text: an account number of 19 digits would lose its last ones as an Excel number, and amounts stay
    exactly the two decimals written."""
    for number, row in enumerate(rows, start=1):
        yield row.cells(number)


# --- reading the bank's result file ---------------------------------------------------------------------------------

REFERENCE, RESULT, REASON, AMOUNT = "reference", "result", "reason", "amount"
COLUMN_NAMES_ZH = {REFERENCE: "业务参考号", RESULT: "结果", REASON: "失败原因", AMOUNT: "金额（元）"}
_HEADER_ALIASES = {
    REFERENCE: ("业务参考号", "参考号", "交易参考号", "reference", "ref"),
    RESULT: ("结果", "处理结果", "交易结果", "发放结果", "状态", "result", "status"),
    REASON: ("失败原因", "原因", "备注", "reason", "failure_reason", "failurereason"),
    AMOUNT: ("金额", "金额(元)", "交易金额", "amount", "amount_yuan"),
}
_RESULT_VALUES = {
    PaymentStatus.paid: ("成功", "已发放", "发放成功", "支付成功", "paid", "success", "succeeded", "ok"),
    PaymentStatus.failed: ("失败", "发放失败", "支付失败", "退回", "failed", "fail", "failure", "returned"),
}


def _canonical(text: str) -> str:
    """Headers and result words compared without width, case or spaces: '金额（元）' is '金额(元)'."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower().lstrip("\ufeff")


HEADERS = {_canonical(alias): column for column, aliases in _HEADER_ALIASES.items() for alias in aliases}
RESULTS = {_canonical(word): status for status, words in _RESULT_VALUES.items() for word in words}


@dataclass(frozen=True)
class RowError:
    """A problem with a row (or the file: the header's row), the column it is in, its code and what to show."""

    row: int
    column: str  # reference | result | reason | amount, or "" for the file as a whole
    code: str
    params: dict[str, Any] = field(default_factory=dict)


ROW_MESSAGES = {
    "reference_missing": ("未填写业务参考号", "The reference is blank"),
    "reference_unknown": ("本批次没有业务参考号为 {value} 的发放", "No payment of this batch has the reference {value}"),
    "result_invalid": ("结果应为“成功”或“失败”（paid / failed），而不是“{value}”",
                       "The result must be 成功 or 失败 (paid / failed), not '{value}'"),
    "reason_required": ("发放失败须填写失败原因", "A failed payment needs the reason"),
    "reason_too_long": ("失败原因不能超过200字", "The reason is longer than 200 characters"),
    "amount_invalid": ("金额应为以元为单位、最多两位小数的数字，而不是“{value}”",
                       "The amount must be yuan with at most two decimals, not '{value}'"),
    "amount_mismatch": ("金额 {value} 元与该笔发放的 {expected} 元不符",
                        "The amount {value} yuan differs from the payment's {expected} yuan"),
    "result_contradicts_row": ("与第 {other} 行对同一业务参考号的结果矛盾",
                               "Contradicts row {other}, which gives another result for this reference"),
    "result_contradicts_recorded": ("该笔已记录为“{recorded}”，不能改为“{value}”",
                                    "This payment is recorded as {recorded}; it cannot become {value}"),
    "column_missing": ("缺少“{value}”列", "The column '{value}' is missing"),
    "header_missing": ("未找到表头：前10行中没有包含“业务参考号”的一行",
                       "No header: none of the first 10 rows names the reference (业务参考号)"),
    "no_rows": ("文件中没有数据行", "The file has no data rows"),
    "encoding_unknown": ("无法识别文件编码，CSV 文件请保存为 UTF-8 或 GB18030 编码",
                         "Unknown encoding: save the CSV file as UTF-8 or GB18030"),
    "file_unreadable": ("无法读取该 XLSX 文件，请检查文件是否损坏", "The XLSX file cannot be read: is it damaged?"),
}  # fmt: skip


def row_message(error: RowError, lang: str) -> str:
    zh, en = ROW_MESSAGES[error.code]
    return (en if lang == "en" else zh).format(**error.params)


class ResultFileRejected(Exception):
    """The file cannot be applied: every error found, by row and column; nothing was written."""

    def __init__(self, errors: list[RowError]):
        super().__init__(errors[0].code)
        self.errors = errors


@dataclass(frozen=True)
class ResultRow:
    row: int
    reference: str
    result: str  # as written
    reason: str
    amount: str | None  # as written; None when the file has no amount column


def read_result_file(data: bytes) -> list[ResultRow]:
    """The data rows of a result file; ResultFileUnsupported when it is no spreadsheet, ResultFileRejected when it
    lacks its header, a required column or rows."""
    try:
        if data.startswith(b"PK\x03\x04"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    if "xl/workbook.xml" not in archive.namelist():
                        raise ResultFileUnsupported()
            except zipfile.BadZipFile as exc:
                raise ResultFileUnsupported() from exc
            return _rows(xlsx_records(io.BytesIO(data)))
        if not data or b"\x00" in data[:65536]:
            raise ResultFileUnsupported()
        return _rows(csv_records(data))
    except SpreadsheetUnreadable as exc:
        raise ResultFileRejected([RowError(1, "", exc.code)]) from exc


def _header(records: Iterator[list[str]]) -> tuple[int, dict[str, int]]:
    for number, record in enumerate(records, start=1):
        if number > HEADER_SEARCH_ROWS:
            break
        positions: dict[str, int] = {}
        for position, cell in enumerate(record):
            column = HEADERS.get(_canonical(cell or ""))
            if column is not None:
                positions.setdefault(column, position)
        if REFERENCE not in positions:
            continue
        if RESULT not in positions:
            raise ResultFileRejected([RowError(number, RESULT, "column_missing", {"value": COLUMN_NAMES_ZH[RESULT]})])
        return number, positions
    raise ResultFileRejected([RowError(1, "", "header_missing")])


def _rows(records: Iterable[list[str]]) -> list[ResultRow]:
    iterator = iter(records)
    header_row, positions = _header(iterator)

    def cell(record: Sequence[str], column: str) -> str:
        position = positions.get(column)
        if position is None or position >= len(record):
            return ""
        return (record[position] or "").strip()

    has_amount = AMOUNT in positions
    rows = []
    for number, record in enumerate(iterator, start=header_row + 1):
        if not any((value or "").strip() for value in record):
            continue
        rows.append(
            ResultRow(
                row=number, reference=cell(record, REFERENCE), result=cell(record, RESULT),
                reason=cell(record, REASON), amount=cell(record, AMOUNT) if has_amount else None,
            )
        )  # fmt: skip
    if not rows:
        raise ResultFileRejected([RowError(header_row + 1, "", "no_rows")])
    return rows


def result_status(text: str) -> PaymentStatus | None:
    return RESULTS.get(_canonical(text))


def amount_fen(text: str) -> int | None:
    """Yuan as written ('1,234.50', '¥600') in fen, exactly; None when it is not an amount of whole fen."""
    cleaned = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    fen = value * 100
    if fen != fen.to_integral_value():
        return None
    return int(fen)
