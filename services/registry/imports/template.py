"""The import template: the ledger's headers and one example row; the XLSX also explains every column."""

import csv
import io

from services.registry.imports.columns import COLUMNS, HEADERS, REQUIRED
from shared.pii import check_character

_EXAMPLE_ID = "50023019700101123" + check_character("50023019700101123")
EXAMPLE_ROW = (
    "500230101201000001", "500230101201", "张秀华", _EXAMPLE_ID, "户主", "未脱贫", "低保贫困户", "是", "农村",
    "13812341234", "普通劳动力", "未务工", "虎威镇红岩村3组12号",
)  # fmt: skip
TEXT_COLUMNS = ("household_no", "village_code", "id_number", "phone")  # digits Excel would otherwise turn into numbers
DROPDOWN_ROWS = 5000
NOTES = (
    "每行填写一名家庭成员；同一户的各行填写相同的户编号，且有且只有一行的“与户主关系”为“户主”。",
    "“每户至少一行填写”的列是户的信息：可只在户主行填写，其他行留空；若填写，须与该户其他行一致。",
    "第2行是示例，导入前请删除或改为实际数据。身份证号码、户编号、村（社区）代码、联系电话请保持文本格式。",
    "默认全部校验通过才导入（有任何错误则不导入）；可选择只导入没有错误的户。错误报告列出行号、列名、填写的值和原因。",
    "CSV 文件请使用 UTF-8 或 GB18030 编码，第一行为表头，列名与本模板一致。",
)


def template_xlsx() -> bytes:
    from openpyxl import Workbook  # only when the template is asked for (shared.excel)
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "导入模板"
    sheet.append(HEADERS)
    sheet.append(EXAMPLE_ROW)
    sheet.freeze_panes = "A2"
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True, color="C00000" if column.need == REQUIRED else "000000")
        cell.fill = header_fill
        sheet.column_dimensions[letter].width = max(
            12, len(column.header) * 2 + 4, 20 if column.key in TEXT_COLUMNS else 0
        )
        if column.key in TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
            sheet.cell(row=2, column=index).number_format = "@"
        if column.choices:
            allowed = ",".join(column.allowed.split("、"))
            rule = DataValidation(type="list", formula1=f'"{allowed}"', allow_blank=True, showErrorMessage=False)
            rule.add(f"{letter}2:{letter}{DROPDOWN_ROWS + 1}")
            sheet.add_data_validation(rule)

    guide = book.create_sheet("填写说明")
    guide.append(("列名", "填写要求", "说明", "可填写的值"))
    for column in COLUMNS:
        guide.append((column.header, column.need, column.note, column.allowed if column.choices else ""))
    guide.append(())
    for note in NOTES:
        guide.append((note,))
    for cell in guide[1]:
        cell.font = Font(bold=True)
        cell.fill = header_fill
    for letter, width in zip("ABCD", (16, 18, 60, 70), strict=True):
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese headers correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerow(EXAMPLE_ROW)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
