"""Read an HR export (CSV or XLSX) into rows numbered the way the user sees them in the sheet.

CSV: UTF-8 with or without BOM, falling back to GB18030 (a superset of GBK, what Excel on a Chinese
Windows writes); comma, semicolon or tab separated. XLSX: openpyxl in read-only mode, the first
(or the named) sheet, cell values as typed (dates arrive as ``datetime``). Row 1 is the header.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SheetError(ValueError):
    """The file cannot be read as a sheet of cases (missing, wrong type, no header...)."""


@dataclass(frozen=True)
class SheetRow:
    """One data row: its number in the sheet (header = row 1) and the cell under each header."""

    number: int
    cells: dict[str, Any] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return all(
            value is None or (isinstance(value, str) and not value.strip()) for value in self.cells.values()
        )


@dataclass(frozen=True)
class Sheet:
    """The header row and the non-empty data rows of one sheet."""

    path: Path
    headers: list[str]
    rows: list[SheetRow]


def _decode(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(f"{path}: not UTF-8 or GBK text; save the sheet as CSV UTF-8 or XLSX")


def _rows_to_sheet(path: Path, records: list[list[Any]]) -> Sheet:
    if not records or not any(str(c or "").strip() for c in records[0]):
        raise SheetError(f"{path}: row 1 must be the header row (the trigger-form field names)")
    headers = [str(c).strip() if c is not None else "" for c in records[0]]
    rows = []
    for number, record in enumerate(records[1:], start=2):
        cells = {h: (record[i] if i < len(record) else None) for i, h in enumerate(headers) if h}
        extra = [c for c in record[len(headers) :] if c not in (None, "")]
        if extra:
            cells["(no header)"] = extra
        row = SheetRow(number, cells)
        if not row.is_empty():
            rows.append(row)
    return Sheet(path=path, headers=[h for h in headers if h], rows=rows)


def read_csv(path: Path) -> Sheet:
    """Rows of a CSV file (see the module doc for encodings and separators)."""
    text = _decode(path.read_bytes(), path)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    records = [list(r) for r in csv.reader(io.StringIO(text, newline=""), dialect)]
    return _rows_to_sheet(path, records)


def read_xlsx(path: Path, sheet_name: str | None = None) -> Sheet:
    """Rows of one worksheet of an XLSX workbook (the first one unless ``sheet_name``)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken or foreign file
        raise SheetError(f"{path}: cannot open as an XLSX workbook ({type(exc).__name__})") from None
    try:
        if sheet_name is not None:
            if sheet_name not in workbook.sheetnames:
                raise SheetError(
                    f"--sheet: {path} has no sheet {sheet_name!r} (sheets: {', '.join(workbook.sheetnames)})"
                )
            worksheet = workbook[sheet_name]
        else:
            worksheet = workbook.worksheets[0]
        records = [list(r) for r in worksheet.iter_rows(min_row=1, values_only=True)]
    finally:
        workbook.close()
    return _rows_to_sheet(path, records)


def read_sheet(path: str | Path, sheet_name: str | None = None) -> Sheet:
    """Read a ``.csv`` or ``.xlsx`` file of cases."""
    file = Path(path)
    if not file.is_file():
        raise SheetError(f"{file}: no such file")
    suffix = file.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(file, sheet_name)
    if suffix in (".csv", ".txt", ".tsv"):
        if sheet_name is not None:
            raise SheetError("--sheet: only XLSX workbooks have sheets")
        return read_csv(file)
    raise SheetError(f"{file}: expected a .csv or .xlsx file (old .xls: save as .xlsx first)")
