"""The daily retention task over the deployment's roots: purges, dry runs, and a broken variable."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup import BackupManifest, BackupStore, write_manifest
from offboarding.operators.retention import PurgeExpiredBackupsOperator


def _expired_case(root: Path, case_id: str) -> None:
    store = BackupStore(str(root))
    manifest = BackupManifest.start(
        case_id, "lisi", retention=1, encrypted=False, created_at=datetime(2020, 1, 1, tzinfo=UTC)
    )
    manifest.add(store.write_bytes(case_id, "profile/user.json", b"{}"))
    write_manifest(store, manifest)


def _run(dry_run: bool) -> dict[str, Any]:
    op = PurgeExpiredBackupsOperator(task_id="purge_expired_backups")
    return op.execute({"params": {"dry_run": dry_run}})  # type: ignore[arg-type]


def test_every_root_is_purged_and_a_dry_run_first_changes_nothing(tmp_path: Path) -> None:
    default, archive = tmp_path / "data" / "cases", tmp_path / "backups"  # conftest: test=tmp_path/backups
    _expired_case(default, "offboard-lisi")
    _expired_case(archive, "offboard-wangwu")

    planned = _run(dry_run=True)
    assert planned["counts"]["would_purge"] == 2 and planned["dry_run"] is True
    assert (default / "offboard-lisi" / "profile" / "user.json").exists()

    done = _run(dry_run=False)
    assert done["counts"]["purged"] == 2
    assert {(c["root"], c["case_id"]) for c in done["cases"]} == {
        ("(default)", "offboard-lisi"),
        ("test", "offboard-wangwu"),
    }
    assert not (default / "offboard-lisi" / "profile").exists()
    assert not (archive / "offboard-wangwu" / "manifest.json").exists()
    assert (archive / "offboard-wangwu" / "evidence" / "ledger.jsonl").exists()


def test_a_broken_roots_variable_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_BACKUP_ROOTS", "archive")
    with pytest.raises(AirflowFailException, match="OFFBOARDING_BACKUP_ROOTS"):
        _run(dry_run=False)


def test_a_case_that_cannot_be_purged_fails_the_task_after_the_others(tmp_path: Path) -> None:
    default = tmp_path / "data" / "cases"
    _expired_case(default, "offboard-lisi")
    BackupStore(str(default)).write_bytes("offboard-broken", "manifest.json", b"{", encrypt=False)
    with pytest.raises(RuntimeError, match="offboard-broken"):
        _run(dry_run=False)
    assert not (default / "offboard-lisi" / "manifest.json").exists()


def test_without_the_evidence_key_nothing_is_purged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each purge is an authenticated ledger entry: without the deployment's key the task stops first."""
    default = tmp_path / "data" / "cases"
    _expired_case(default, "offboard-lisi")
    monkeypatch.delenv("AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY")
    with pytest.raises(AirflowFailException, match="no evidence key"):
        _run(dry_run=False)
    assert (default / "offboard-lisi" / "profile" / "user.json").exists()
    assert (default / "offboard-lisi" / "manifest.json").exists()
