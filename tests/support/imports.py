"""Ledger files for the import tests: rows of a 丰都 household by column key (`person`, `family`: a head and
children whose household columns are left blank, as ledgers often do), the sheet with its header (`grid`) and the
file's bytes as XLSX or CSV."""

import csv
import io
import itertools

import openpyxl

from services.registry.imports.columns import COLUMNS, HEADERS
from tests.support.registry import id_number

VILLAGE = "500230101201"  # a village of 虎威镇, 丰都县

_serial = itertools.count(1)


def household_no() -> str:
    return f"IMP{next(_serial):08d}"


def person(number: str, **values: str) -> dict[str, str]:
    """One ledger row, by column key (see services/registry/imports/columns.py); a head of a 丰都 household."""
    row = {
        "household_no": number,
        "village_code": VILLAGE,
        "name": "张秀华",
        "id_number": id_number("500230", "19700101"),
        "relation": "户主",
        "status": "未脱贫",
        "attribute": "低保贫困户",
        "dibao": "是",
        "area_class": "农村",
        "phone": "",
        "labour_capacity": "普通劳动力",
        "migrant_status": "未务工",
        "address": "虎威镇红岩村3组",
    }
    row.update(values)
    return row


def family(size: int = 2, **head: str) -> list[dict[str, str]]:
    """A head and `size - 1` children, the children's household columns left blank as ledgers often do."""
    number = household_no()
    rows = [person(number, **head)]
    for index in range(size - 1):
        rows.append(
            person(
                number,
                name=f"张{'一二三四五六七八九'[index]}",
                id_number=id_number("500230", "20050505"),
                relation="子女",
                village_code="",
                status="",
                attribute="",
                dibao="",
                area_class="",
                address="",
                labour_capacity="无劳动力",
            )
        )
    return rows


def grid(rows: list[dict[str, str]]) -> list[list[str]]:
    return [list(HEADERS), *[[row[c.key] for c in COLUMNS] for row in rows]]


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)
