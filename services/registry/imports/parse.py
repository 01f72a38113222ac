"""Reading an uploaded ledger: XLSX (first sheet) or CSV (UTF-8, UTF-8 with BOM, GB18030) into rows of text.

Rows are numbered as the file shows them (the header is row 1 when it is the first row). A title row above the
header, as many ledgers have, is allowed: the header is the first of the first ten rows naming 身份证号码.
"""

import codecs
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

from services.registry.imports.columns import HEADERS, REQUIRED_HEADERS, canonical_header
from shared.spreadsheets import SpreadsheetUnreadable, csv_records, xlsx_records

HEADER_SEARCH_ROWS = 10
SNIFF_BYTES = 64 * 1024
_KEY_HEADER = "身份证号码"


class UnsupportedFile(ValueError):
    """Not an XLSX workbook nor a CSV file with the ledger's header."""


@dataclass(frozen=True)
class FileError:
    """A problem with the file as a whole, reported like a row's: where, which column, what."""

    row: int
    column: str
    code: str
    message: str


class UnreadableFile(ValueError):
    def __init__(self, errors: list[FileError]):
        super().__init__(errors[0].message)
        self.errors = errors


# The data rows: (row number, the values in COLUMNS order, '' where blank or where the file lacks the column).
Rows = list[tuple[int, tuple[str, ...]]]


def sniff(head: bytes, path: Path) -> str:
    """'xlsx' or 'csv' from the file's first bytes, or UnsupportedFile."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise UnsupportedFile("zip archive that is not an XLSX workbook")
    if not head or b"\x00" in head:
        raise UnsupportedFile("empty or binary")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        if any(_KEY_HEADER in canonical_header(line) for line in text.splitlines()[:HEADER_SEARCH_ROWS]):
            return "csv"
    raise UnsupportedFile("no ledger header in the first lines")


_UNREADABLE = {
    "encoding_unknown": "无法识别文件编码，CSV 文件请保存为 UTF-8 或 GB18030 编码",
    "file_unreadable": "无法读取该 XLSX 文件，请检查文件是否损坏",
}


def read_rows(path: Path, file_format: str) -> Rows:
    """All data rows of the file; UnreadableFile when it cannot be read or lacks a required column."""
    try:
        if file_format == "xlsx":
            with path.open("rb") as handle:  # a file object: openpyxl would refuse a path without an .xlsx suffix
                return _rows(xlsx_records(handle))
        return _rows(csv_records(path.read_bytes()))
    except SpreadsheetUnreadable as exc:
        raise UnreadableFile([FileError(1, "", exc.code, _UNREADABLE[exc.code])]) from exc


def _header_positions(records: Iterator[list[str]]) -> tuple[int, list[int | None]]:
    """The header's row number and, for each column of COLUMNS, its position in the file (None: absent)."""
    for number, record in enumerate(records, start=1):
        if number > HEADER_SEARCH_ROWS:
            break
        names = [canonical_header(cell or "") for cell in record]
        if _KEY_HEADER not in names:
            continue
        found: dict[str, int] = {}
        for position, name in enumerate(names):
            found.setdefault(name, position)
        missing = [h for h in REQUIRED_HEADERS if h not in found]
        if missing:
            raise UnreadableFile([FileError(number, h, "column_missing", f"缺少“{h}”列") for h in missing])
        return number, [found.get(h) for h in HEADERS]
    raise UnreadableFile(
        [FileError(1, "", "header_missing", f"未找到表头：前{HEADER_SEARCH_ROWS}行中没有包含“{_KEY_HEADER}”的一行")]
    )


def _rows(records: Iterable[list[str]]) -> Rows:
    iterator = iter(records)
    header_row, positions = _header_positions(iterator)
    width = max(p for p in positions if p is not None) + 1
    # Absent columns read the blank appended after the widest column: one itemgetter call per row, no branching.
    pick = itemgetter(*[width if p is None else p for p in positions])
    padding = [""] * width
    strip = str.strip
    rows = []
    for number, record in enumerate(iterator, start=header_row + 1):
        cells = record[:width]
        if len(cells) < width:
            cells += padding[: width - len(cells)]
        cells.append("")
        values = tuple(map(strip, pick(cells)))
        if any(values):
            rows.append((number, values))
    if not rows:
        raise UnreadableFile([FileError(header_row + 1, "", "no_rows", "文件中没有数据行")])
    return rows
