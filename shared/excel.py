"""Excel workbooks for the exports officials hand on (the dashboard's tables, ledgers, watch lists).

openpyxl is imported when the first workbook is made: a service that is never asked for one does not carry it.
"""

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones: callers pass local (Asia/Shanghai) times
    if isinstance(value, (list, dict)):
        return str(value)
    if isinstance(value, date | int | float | str | bool) or value is None:
        return value
    return str(value)


def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """An .xlsx download; the file name may be Chinese (RFC 5987 encoding)."""
    return Response(
        workbook(title, headers, rows),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
