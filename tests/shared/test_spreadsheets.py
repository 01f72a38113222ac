"""Reading officials' and banks' spreadsheets (shared/spreadsheets.py), and how each reader tells its problems."""

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.registry.imports.parse import UnreadableFile, read_rows
from services.relief.batches.bankfiles import ResultFileRejected, read_result_file
from shared.spreadsheets import SpreadsheetUnreadable, cell_text, csv_records, decode_text, xlsx_records

TEXT = "业务参考号,结果\nRB1-000001,成功\n"


@pytest.mark.parametrize("data", [TEXT.encode("utf-8"), b"\xef\xbb\xbf" + TEXT.encode("utf-8"), TEXT.encode("gb18030")])
def test_csv_in_utf8_with_or_without_bom_or_gb18030_reads_the_same(data):
    assert decode_text(data) == TEXT
    assert list(csv_records(data)) == [["业务参考号", "结果"], ["RB1-000001", "成功"]]


def test_bytes_in_no_known_encoding_are_refused():
    with pytest.raises(SpreadsheetUnreadable) as refused:
        decode_text(b"\x81\x30\xff\xfe\x81")
    assert refused.value.code == "encoding_unknown"


def test_a_workbook_reads_as_text_cells():
    book = Workbook()
    book.active.append(
        ["户编号", 500230101201, 12.0, 12.5, True, None, date(2020, 2, 3), datetime(2020, 2, 3, 8, 30), "=1+2"]
    )
    book.active.append(["第二行"])
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    # a day typed without a time reads as the day; a formula never computed (no cached value) reads as nothing
    assert list(xlsx_records(buffer)) == [
        ["户编号", "500230101201", "12", "12.5", "是", "", "2020-02-03", "2020-02-03T08:30:00"],
        ["第二行", "", "", "", "", "", "", ""],
    ]


def test_an_empty_workbook_has_no_rows():
    buffer = io.BytesIO()
    Workbook().save(buffer)
    buffer.seek(0)
    assert list(xlsx_records(buffer)) == []


def test_a_damaged_workbook_is_unreadable():
    with pytest.raises(SpreadsheetUnreadable) as refused:
        list(xlsx_records(io.BytesIO(b"PK\x03\x04 not really a workbook")))
    assert refused.value.code == "file_unreadable"


def test_cell_text_of_a_datetime_is_iso():
    assert cell_text(datetime(2020, 2, 3, 8, 30)) == "2020-02-03T08:30:00"


def test_the_import_tells_an_unknown_encoding_as_a_file_error(tmp_path: Path):
    path = tmp_path / "ledger.csv"
    path.write_bytes(b"\x81\x30\xff\xfe\x81")
    with pytest.raises(UnreadableFile) as refused:
        read_rows(path, "csv")
    assert (refused.value.errors[0].row, refused.value.errors[0].code) == (1, "encoding_unknown")


def test_the_bank_result_reader_tells_an_unknown_encoding_as_row_1():
    with pytest.raises(ResultFileRejected) as refused:
        read_result_file(b"\x81\x30\xff\xfe\x81")
    assert refused.value.errors[0].row == 1
    assert refused.value.errors[0].code == "encoding_unknown"


def test_the_bank_result_reader_takes_a_gb18030_file():
    rows = read_result_file(TEXT.encode("gb18030"))
    assert [(r.reference, r.result) for r in rows] == [("RB1-000001", "成功")]
