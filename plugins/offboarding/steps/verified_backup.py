"""The ``backup.verified`` entry: what the verification writes and what the deletion gates trust.

A backup is trusted only if the ledger holds a ``backup.verified`` entry whose ``key`` and
``result["manifest_sha256"]`` both equal the sha256 of the case's ``manifest.json`` on disk *now*
(:func:`verified_backup_entry`). The person's verification and the company's summary write that entry
with :func:`verified_result`; a failed verification writes ``backup.verification_failed``
(:func:`failed_verification_result`), never ``backup.verified``. Contract: :mod:`offboarding.operators.backup`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from offboarding.backup.manifest import MANIFEST_PATH, BackupManifest
from offboarding.backup.storage import BackupStore
from offboarding.backup.verification import VerificationReport
from offboarding.evidence.entry import Entry
from offboarding.evidence.ledger import EvidenceLedger

VERIFIED_ACTION = "backup.verified"
FAILED_ACTION = "backup.verification_failed"


def verified_result(report: VerificationReport, manifest: BackupManifest) -> dict[str, Any]:
    """The ``result`` of a ``backup.verified`` entry (its ``key`` is ``report.manifest_sha256``)."""
    return {
        "manifest_path": MANIFEST_PATH,
        "manifest_sha256": report.manifest_sha256,
        "files": report.files,
        "bytes": report.bytes,
        "not_exported": len(report.not_exported),
        "retention_until": manifest.retention_until.isoformat(),
        "verified_at": report.verified_at.isoformat(),
        "encrypted": manifest.encrypted,
        "summary": report.summary_text(),
    }


def failed_verification_result(report: VerificationReport, problems: list[str]) -> dict[str, Any]:
    """The ``result`` of a ``backup.verification_failed`` entry."""
    return {"manifest_sha256": report.manifest_sha256, "problems": problems, "summary": report.summary_text()}


def manifest_sha256_on_disk(store: BackupStore, case_id: str) -> str | None:
    """sha256 (hex) of the case's ``manifest.json`` as stored now, or None when there is none."""
    if not store.exists(case_id, MANIFEST_PATH):
        return None
    digest = hashlib.sha256()
    for chunk in store.read_stored_stream(case_id, MANIFEST_PATH):
        digest.update(chunk)
    return digest.hexdigest()


def verified_backup_entry(store: BackupStore, ledger: EvidenceLedger, case_id: str) -> Entry | None:
    """The ledger's ``backup.verified`` entry for the manifest on disk now, or None.

    None when there is no manifest, no such entry, or the manifest changed after it was verified.
    """
    sha256 = manifest_sha256_on_disk(store, case_id)
    if sha256 is None:
        return None
    found = None
    for entry in ledger.entries():
        result = entry.result if isinstance(entry.result, Mapping) else {}
        if (
            entry.action == VERIFIED_ACTION
            and entry.key == sha256
            and result.get("manifest_sha256") == sha256
        ):
            found = entry
    return found
