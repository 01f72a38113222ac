"""Reading an uploaded workbook: the service's reader (python-calamine, shared.spreadsheets.xlsx_records) beside
openpyxl's read-only mode, on the same XLSX of --rows rows shaped like an office's ledger (13 columns of Chinese text
and digit strings, written by openpyxl). Prints rows per second of each, best of --repeat, and checks that both read
the same cell text.
"""

import argparse
import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository, for shared
from shared.spreadsheets import cell_text, xlsx_records


def ledger(rows: int, seed: int = 2020) -> bytes:
    from openpyxl import Workbook

    rng = random.Random(seed)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("导入模板")
    sheet.append(["户编号", "村代码", "姓名", "身份证号", "与户主关系", "贫困状态", "贫困户属性", "低保", "城乡",
                  "联系电话", "劳动能力", "务工状态", "住址"])  # fmt: skip
    for n in range(rows):
        sheet.append([
            f"500230101201{n // 3:06d}", "500230101201", rng.choice(("张秀华", "李明", "王建国")),
            f"50023019{rng.randrange(50, 99)}0101{n % 1000:03d}X", "户主" if n % 3 == 0 else "配偶",
            "未脱贫", "一般贫困户", "是", "农村", f"138{n:08d}", "普通劳动力", "未务工", "虎威镇红岩村3组12号",
        ])  # fmt: skip
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def openpyxl_records(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [[cell_text(v) for v in values] for values in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def timed(read, data: bytes, repeat: int) -> tuple[float, list[list[str]]]:
    best, rows = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = read(data)
        best = min(best, time.perf_counter() - started)
    return best, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = ledger(args.rows)
    print(f"an XLSX of {args.rows:,} rows × 13 columns, {len(data) / 1e6:.1f} MB; best of {args.repeat}")
    calamine_s, by_calamine = timed(lambda d: list(xlsx_records(io.BytesIO(d))), data, args.repeat)
    openpyxl_s, by_openpyxl = timed(openpyxl_records, data, args.repeat)
    assert by_calamine == by_openpyxl, "the two readers read different cell text"
    for name, seconds in (("python-calamine (the service's)", calamine_s), ("openpyxl, read-only", openpyxl_s)):
        print(f"  {name:<32} {seconds:6.2f} s   {(args.rows + 1) / seconds:>9,.0f} rows/s")
    print(f"  calamine is {openpyxl_s / calamine_s:.1f}× as fast; both read the same {len(by_calamine):,} rows")


if __name__ == "__main__":
    main()
