"""The evidence of a case: a hash-chained ledger of what happened, and the readable report.

No Airflow and no WeCom import here; everything is stored through :class:`offboarding.backup.BackupStore`
under ``<case_id>/evidence/``.

* :mod:`.ledger` — :class:`EvidenceLedger` (append, entries, verify_chain, has_action);
* :mod:`.report` — :func:`render_report` writes ``report.md`` and ``report.html``.
"""

from __future__ import annotations

from offboarding.lazy_exports import lazy_exports

# Names are loaded on first use: the operators' modules import the ledger while DAG files are parsed,
# the report (HTML and markdown rendering) is needed only when a case is closed.
_EXPORTS = {
    "GENESIS_HASH": "offboarding.evidence.entry",
    "Entry": "offboarding.evidence.entry",
    "LEDGER_PATH": "offboarding.evidence.ledger",
    "ChainReport": "offboarding.evidence.ledger",
    "EvidenceLedger": "offboarding.evidence.ledger",
    "LedgerError": "offboarding.evidence.ledger",
    "REPORT_HTML_PATH": "offboarding.evidence.report",
    "REPORT_MARKDOWN_PATH": "offboarding.evidence.report",
    "render_report": "offboarding.evidence.report",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


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
