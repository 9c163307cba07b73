"""Reading HR exports: CSV encodings and separators, XLSX cells, row numbers as the user sees them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from offboarding.bulk import SheetError, read_sheet

HEADER = "工号,姓名,最后工作日\n"
ROWS = "zhangsan,张三,2026/12/01\nlisi,李四,2026-12-02\n"


def write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_or_gbk(tmp_path: Path, encoding: str) -> None:
    sheet = read_sheet(write(tmp_path / "people.csv", HEADER + ROWS, encoding))
    assert sheet.headers == ["工号", "姓名", "最后工作日"]
    assert [(r.number, r.cells["姓名"]) for r in sheet.rows] == [(2, "张三"), (3, "李四")]


@pytest.mark.parametrize("separator", [";", "\t"])
def test_csv_with_semicolons_or_tabs(tmp_path: Path, separator: str) -> None:
    text = (HEADER + ROWS).replace(",", separator)
    sheet = read_sheet(write(tmp_path / "people.csv", text, "utf-8"))
    assert sheet.rows[1].cells == {"工号": "lisi", "姓名": "李四", "最后工作日": "2026-12-02"}


def test_blank_rows_are_skipped_but_keep_the_numbering(tmp_path: Path) -> None:
    text = HEADER + "zhangsan,张三,2026-12-01\n,,\n\nwangwu,王五,2026-12-03\n"
    sheet = read_sheet(write(tmp_path / "people.csv", text, "utf-8"))
    assert [(r.number, r.cells["工号"]) for r in sheet.rows] == [(2, "zhangsan"), (5, "wangwu")]


def test_a_quoted_cell_with_a_line_break_is_one_row(tmp_path: Path) -> None:
    text = HEADER + '"zhangsan","张\n三",2026-12-01\nlisi,李四,2026-12-02\n'
    sheet = read_sheet(write(tmp_path / "people.csv", text, "utf-8"))
    assert [(r.number, r.cells["工号"]) for r in sheet.rows] == [(2, "zhangsan"), (3, "lisi")]


def test_xlsx_keeps_cell_types_and_row_numbers(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "离职名单"
    sheet.append(["工号", "姓名", "最后工作日", "注销账号"])
    sheet.append(["zhangsan", "张三", date(2026, 12, 1), True])
    sheet.append([None, None, None, None])
    sheet.append(["lisi", "李四", datetime(2026, 12, 2, 0, 0), "否"])
    path = tmp_path / "people.xlsx"
    workbook.save(path)
    read = read_sheet(path)
    assert [r.number for r in read.rows] == [2, 4]
    assert read.rows[0].cells["最后工作日"] == datetime(2026, 12, 1)
    assert read.rows[0].cells["注销账号"] is True
    assert read_sheet(path, "离职名单").rows[1].cells["工号"] == "lisi"
    with pytest.raises(SheetError, match="no sheet 'Sheet9'"):
        read_sheet(path, "Sheet9")


def test_unreadable_inputs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match="no such file"):
        read_sheet(tmp_path / "missing.csv")
    with pytest.raises(SheetError, match=r"expected a \.csv or \.xlsx"):
        read_sheet(write(tmp_path / "people.xls", "x", "utf-8"))
    with pytest.raises(SheetError, match="row 1 must be the header"):
        read_sheet(write(tmp_path / "empty.csv", "\n\n", "utf-8"))
    with pytest.raises(SheetError, match="cannot open as an XLSX"):
        read_sheet(write(tmp_path / "fake.xlsx", "not a zip", "utf-8"))
    with pytest.raises(SheetError, match="not UTF-8 or GBK"):
        (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81\xff" * 10)
        read_sheet(tmp_path / "binary.csv")
