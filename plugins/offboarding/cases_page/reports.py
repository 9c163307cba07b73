"""Serving a case's evidence report to the cases page: only from the deployment's own local roots.

A run's conf names its storage root (``backup_target``); the page never opens a path or a URL a run
names. It looks the name up among the roots the deployment declares (:mod:`offboarding.backup.roots`),
serves the report only from a local root (the api-server opens no connection to object storage for a
page view) and only when the file's real path stays inside the case folder. The report is served with
``Content-Security-Policy: sandbox`` (no script, no form, no same-origin access even if the report held
active content) and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from fastapi.responses import HTMLResponse, Response

REPORT_HEADERS: dict[str, str] = {
    # sandbox without allow-* tokens: no scripts, no forms, no popups, an opaque origin.
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Headers of every served report."""


def report_response(case_id: str, conf: Mapping[str, Any]) -> HTMLResponse:
    """The case's ``evidence/report.html`` with :data:`REPORT_HEADERS`, or HTTPException 404 saying why."""
    from offboarding.evidence.report import REPORT_HTML_PATH

    path = _report_path(case_id, conf, REPORT_HTML_PATH)
    if not path.is_file():
        raise HTTPException(
            404, f"no evidence report yet for {case_id}: it is written when the case closes ({path})"
        )
    return HTMLResponse(path.read_text(encoding="utf-8"), headers=REPORT_HEADERS)


def pdf_report_response(case_id: str, conf: Mapping[str, Any]) -> Response:
    """The case's ``evidence/report.pdf`` (same roots and checks as the HTML), or HTTPException 404 saying why."""
    from offboarding.evidence.report import REPORT_PDF_PATH

    path = _report_path(case_id, conf, REPORT_PDF_PATH)
    if not path.is_file():
        raise HTTPException(
            404,
            f"no PDF evidence report for {case_id} ({path}): it is written when the case closes on a "
            "machine with the report's font; an auditor makes one from the case folder with "
            "`offboarding evidence report <case folder> --pdf`",
        )
    headers = {**REPORT_HEADERS, "Content-Disposition": f'inline; filename="{case_id}-evidence-report.pdf"'}
    return Response(path.read_bytes(), media_type="application/pdf", headers=headers)


def _report_path(case_id: str, conf: Mapping[str, Any], relative: str) -> Path:
    """Where ``relative`` of the case is in a local root the deployment declares; 404 otherwise."""
    from offboarding.backup.errors import BackupConfigError
    from offboarding.backup.roots import resolve_backup_root
    from offboarding.backup.storage import BackupStore

    try:
        root = resolve_backup_root(conf.get("backup_target") or "")
    except BackupConfigError as err:
        raise HTTPException(404, f"the report of {case_id} is not served: {err}") from None
    if not root.is_local:
        raise HTTPException(
            404,
            f"the backup of {case_id} is in the storage root {root.label!r} ({root.shown}/{case_id}/); "
            "open the report there",
        )
    try:
        path = BackupStore(root.url).local_path(case_id, relative)
    except ValueError as err:  # a case id that names no case folder, or a symlink out of the case
        raise HTTPException(404, f"the report of {case_id} is not served: {err}") from None
    if path is None:
        raise HTTPException(404, f"the report of {case_id} is not served: its root is not a local folder")
    return path


__all__ = ["REPORT_HEADERS", "pdf_report_response", "report_response"]
