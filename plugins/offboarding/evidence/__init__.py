"""The evidence of a case: a hash-chained ledger of what happened, and the readable report.

No Airflow and no WeCom import here; everything is stored through :class:`offboarding.backup.BackupStore`
under ``<case_id>/evidence/``.

* :mod:`.ledger` — :class:`EvidenceLedger` (append, entries, verify_chain, has_action);
* :mod:`.report` — :func:`render_report` writes ``report.md`` and ``report.html``.
"""

from __future__ import annotations

from offboarding.evidence.entry import GENESIS_HASH, Entry
from offboarding.evidence.ledger import LEDGER_PATH, ChainReport, EvidenceLedger, LedgerError
from offboarding.evidence.report import REPORT_HTML_PATH, REPORT_MARKDOWN_PATH, render_report

__all__ = [
    "GENESIS_HASH",
    "LEDGER_PATH",
    "REPORT_HTML_PATH",
    "REPORT_MARKDOWN_PATH",
    "ChainReport",
    "Entry",
    "EvidenceLedger",
    "LedgerError",
    "render_report",
]
