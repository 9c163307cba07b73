"""The ``backup.verified`` entry the deletion gates trust: only for the manifest on disk now."""

from __future__ import annotations

from typing import Any

from offboarding.backup.manifest import BackupManifest, load_manifest, write_manifest
from offboarding.backup.verification import verify
from offboarding.steps.verified_backup import (
    VERIFIED_ACTION,
    manifest_sha256_on_disk,
    verified_backup_entry,
    verified_result,
)

CASE = "offboard-lisi"


def _verify_and_record(store: Any, ledger: Any) -> str:
    manifest = BackupManifest.start(CASE, "lisi", retention=30, encrypted=False)
    write_manifest(store, manifest)
    report = verify(store, load_manifest(store, CASE))
    ledger.append(
        VERIFIED_ACTION,
        actor="test",
        step="test",
        key=report.manifest_sha256,
        result=verified_result(report, manifest),
    )
    return report.manifest_sha256


def test_no_manifest_no_trust(store: Any, ledger: Any) -> None:
    assert manifest_sha256_on_disk(store, CASE) is None
    assert verified_backup_entry(store, ledger, CASE) is None


def test_the_entry_of_the_manifest_on_disk_is_trusted(store: Any, ledger: Any) -> None:
    sha256 = _verify_and_record(store, ledger)

    entry = verified_backup_entry(store, ledger, CASE)

    assert entry is not None and entry.key == sha256 == manifest_sha256_on_disk(store, CASE)
    assert entry.result["manifest_sha256"] == sha256
    assert entry.result["summary"]


def test_a_manifest_changed_after_verification_is_not_trusted(store: Any, ledger: Any) -> None:
    _verify_and_record(store, ledger)

    write_manifest(store, BackupManifest.start(CASE, "lisi (rewritten)", retention=30, encrypted=False))

    assert verified_backup_entry(store, ledger, CASE) is None
