"""Reading the spreadsheets officials and banks send: CSV (UTF-8, UTF-8 with a BOM, GB18030) or XLSX (first sheet),
as rows of cell text. What a file's rows mean, and how a problem is told to the user, is the caller's.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, BinaryIO


class SpreadsheetUnreadable(ValueError):
    """`code`: encoding_unknown (a CSV in neither UTF-8 nor GB18030) or file_unreadable (a damaged workbook)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def decode_text(data: bytes) -> str:
    """A CSV file's text: UTF-8 (a BOM dropped), else GB18030, which Excel on Chinese Windows writes."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetUnreadable("encoding_unknown")


def csv_records(data: bytes) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(decode_text(data), newline=""))


def xlsx_records(source: BinaryIO) -> Iterator[list[str]]:
    """The first sheet's rows as cell text (a formula as its last computed value). Read with calamine (Rust), which
    reads a sheet several times faster than openpyxl (bench/imports/readers.py); openpyxl still writes workbooks."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        rows = CalamineWorkbook.from_filelike(source).get_sheet_by_index(0).iter_rows()
    except (CalamineError, ValueError, IndexError) as exc:  # a damaged file, or a workbook without a sheet
        raise SpreadsheetUnreadable("file_unreadable") from exc
    for values in rows:
        yield [cell_text(v) for v in values]


def cell_text(value: Any) -> str:
    """A cell as the text its author typed: a 12-digit code or a bank reference typed as a number comes back
    without '.0', a date as ISO 8601 (a day without a time as the day alone), a boolean as 是 or 否."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
