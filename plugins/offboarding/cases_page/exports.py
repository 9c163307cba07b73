"""The cases list as CSV and XLSX for HR reports: the same cases as the page, one row each.

Every text cell goes through :func:`offboarding.backup.spreadsheet.spreadsheet_safe` (a cell starting
like a formula — ``=``, ``+``, ``-``, ``@`` … — gets a leading ``'``), for the XLSX too: openpyxl would
otherwise store ``=…`` as a formula. The CSV is written by :func:`offboarding.backup.spreadsheet.csv_chunks`
(UTF-8 with a BOM, so spreadsheets show Chinese names).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from offboarding.backup.spreadsheet import csv_chunks, spreadsheet_safe
from offboarding.cases_page.cases import CaseView

COLUMNS = (
    "case_id",
    "kind",
    "who",
    "run_state",
    "phase",
    "current_steps",
    "waiting_until_asia_shanghai",
    "stalled",
    "stalled_for",
    "owners",
    "triggered_by",
    "queued_at_asia_shanghai",
    "members",
    "members_done",
    "members_failed",
    "members_remaining",
    "dag_id",
    "run_id",
)


def case_row(case: CaseView) -> dict[str, Any]:
    """One case as an export row (plain values; neutralised when written)."""
    progress = case.progress or {}
    owners = sorted({o for s in case.steps for o in s.owners})
    return {
        "case_id": case.case_id,
        "kind": case.kind,
        "who": case.who,
        "run_state": case.state,
        "phase": case.phase,
        "current_steps": "; ".join(f"{s.task_id} ({s.state})" for s in case.steps),
        "waiting_until_asia_shanghai": "; ".join(
            s.waiting_until_local for s in case.steps if s.waiting_until_local
        ),
        "stalled": case.stalled,
        "stalled_for": case.stalled_for or "",
        "owners": ", ".join(owners),
        "triggered_by": case.triggered_by or "",
        "queued_at_asia_shanghai": case.queued_at_local or "",
        "members": progress.get("members"),
        "members_done": progress.get("done"),
        "members_failed": progress.get("failed"),
        "members_remaining": progress.get("remaining"),
        "dag_id": case.dag_id,
        "run_id": case.run_id,
    }


def csv_export(cases: Iterable[CaseView]) -> Iterator[bytes]:
    """The cases as CSV bytes (chunks)."""
    return csv_chunks((case_row(c) for c in cases), COLUMNS)


def xlsx_export(cases: Sequence[CaseView], *, title: str = "cases") -> bytes:
    """The cases as an XLSX workbook (one sheet, a header row, one row per case)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(list(COLUMNS))
    for case in cases:
        row = case_row(case)
        sheet.append([spreadsheet_safe(row[c]) for c in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = ["COLUMNS", "case_row", "csv_export", "xlsx_export"]
