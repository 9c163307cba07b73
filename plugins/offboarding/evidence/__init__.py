"""The evidence of a case: a hash-chained ledger of what happened, and the readable report.

No Airflow and no WeCom import here; everything is stored through :class:`offboarding.backup.BackupStore`
under ``<case_id>/evidence/``.

* :mod:`.keys` — :class:`EvidenceKey`, the deployment's key that authenticates every entry (HMAC-SHA256);
* :mod:`.ledger` — :class:`EvidenceLedger` (append, entries, verify_chain, has_action, head) and
  :class:`Anchor`, the head kept outside the case folder;
* :mod:`.verify_command` — ``offboarding evidence verify`` and ``report [--pdf]``, the auditor's tools
  without Airflow;
* :mod:`.report` — :func:`render_report` writes ``report.md``, ``report.html`` and ``report.pdf``
  (:mod:`.report_pdf`, with the phases picture of :mod:`.phases_picture`).
"""

from __future__ import annotations

from offboarding.lazy_exports import lazy_exports

# Names are loaded on first use: the operators' modules import the ledger while DAG files are parsed,
# the report (HTML and markdown rendering) is needed only when a case is closed.
_EXPORTS = {
    "GENESIS_HASH": "offboarding.evidence.entry",
    "Entry": "offboarding.evidence.entry",
    "LEDGER_PATH": "offboarding.evidence.ledger",
    "LEDGER_OBJECTS_DIR": "offboarding.evidence.ledger",
    "ANCHOR_XCOM_KEY": "offboarding.evidence.ledger",
    "Anchor": "offboarding.evidence.ledger",
    "EvidenceKey": "offboarding.evidence.keys",
    "EvidenceKeyError": "offboarding.evidence.keys",
    "generate_evidence_key": "offboarding.evidence.keys",
    "ChainReport": "offboarding.evidence.ledger",
    "EvidenceLedger": "offboarding.evidence.ledger",
    "LedgerError": "offboarding.evidence.ledger",
    "REPORT_HTML_PATH": "offboarding.evidence.report",
    "REPORT_MARKDOWN_PATH": "offboarding.evidence.report",
    "render_report": "offboarding.evidence.report",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "ANCHOR_XCOM_KEY",
    "GENESIS_HASH",
    "LEDGER_OBJECTS_DIR",
    "LEDGER_PATH",
    "REPORT_HTML_PATH",
    "REPORT_MARKDOWN_PATH",
    "Anchor",
    "ChainReport",
    "Entry",
    "EvidenceKey",
    "EvidenceKeyError",
    "EvidenceLedger",
    "LedgerError",
    "generate_evidence_key",
    "render_report",
]
