"""The retention purge on real files: expired backups go, the evidence stays, each purge is in the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from offboarding.backup import BackupManifest, BackupStore, generate_key, key_from_text, write_manifest
from offboarding.backup.retention import (
    ALREADY_PURGED,
    FAILED,
    NO_MANIFEST,
    NOT_DUE,
    PURGED,
    PURGED_ACTION,
    WOULD_PURGE,
    purge_expired_backups,
)
from offboarding.backup.roots import BackupRoot
from offboarding.evidence import EvidenceLedger
from offboarding.evidence.keys import key_from_environment

TODAY = date(2029, 6, 1)
CREATED = datetime(2026, 5, 1, 4, 0, tzinfo=UTC)


def _ledger(store: BackupStore, case_id: str) -> EvidenceLedger:
    """The case's ledger with the deployment's evidence key (the tests' key, tests/conftest.py)."""
    return EvidenceLedger(store, case_id, key=key_from_environment())


def _case(store: BackupStore, case_id: str, *, retention_days: int) -> BackupManifest:
    """A verified-looking case: backup files, manifest, case.json, a ledger entry and a report."""
    manifest = BackupManifest.start(
        case_id, "lisi", retention=retention_days, encrypted=store.encrypted, created_at=CREATED
    )
    manifest.add(store.write_bytes(case_id, "profile/user.json", b'{"userid": "lisi"}'))
    manifest.add(store.write_bytes(case_id, "wedrive/space/合同.pdf", b"%PDF" * 100))
    store.write_bytes(case_id, "case.json", b'{"case_id": "x"}', encrypt=False)
    store.write_bytes(case_id, "evidence/report.html", b"<h1>report</h1>", encrypt=False)
    write_manifest(store, manifest)
    _ledger(store, case_id).append("backup.verified", actor="airflow:t", step="t", key=manifest.sha256)
    return manifest


def _files(folder: Path) -> list[str]:
    return sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and ".lock" not in p.name
    )


def _purge(root: Path, *, dry_run: bool = False, today: date = TODAY) -> object:
    return purge_expired_backups(
        [BackupRoot("", str(root))],
        today=today,
        dry_run=dry_run,
        actor="airflow:backup_retention",
        key=key_from_environment(),
        step="purge",
    )


def test_an_expired_backup_is_purged_and_the_evidence_kept(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    expired = _case(store, "offboard-lisi", retention_days=365)  # until 2027-05-01
    _case(store, "offboard-wangwu", retention_days=1095 + 365)  # until 2030: not due

    summary = _purge(tmp_path)

    outcomes = {c.case_id: c.outcome for c in summary.cases}
    assert outcomes == {"offboard-lisi": PURGED, "offboard-wangwu": NOT_DUE}
    assert _files(tmp_path / "offboard-lisi") == [
        "case.json",
        "evidence/ledger.jsonl",
        "evidence/report.html",
    ]
    assert not (tmp_path / "offboard-lisi" / "wedrive").exists()  # emptied folders go too
    assert "manifest.json" in _files(tmp_path / "offboard-wangwu")
    assert "profile/user.json" in _files(tmp_path / "offboard-wangwu")

    ledger = _ledger(store, "offboard-lisi")
    entries = list(ledger.entries())
    assert [e.action for e in entries] == ["backup.verified", PURGED_ACTION]
    purge = entries[-1]
    assert purge.key == expired.sha256
    assert purge.result["files_removed"] == 3 and purge.result["bytes_removed"] == 18 + 400
    assert purge.request == {"retention_until": "2027-05-01", "today": "2029-06-01"}
    assert "合同" not in str(purge.to_dict())  # no file name of the person in the evidence
    assert ledger.verify_chain().ok

    record = summary.to_dict()
    assert record["counts"][PURGED] == 1 and record["counts"][NOT_DUE] == 1


def test_the_retention_day_itself_is_still_kept(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    manifest = _case(store, "offboard-lisi", retention_days=30)
    assert [c.outcome for c in _purge(tmp_path, today=manifest.retention_until).cases] == [NOT_DUE]
    next_day = manifest.retention_until + timedelta(days=1)
    assert [c.outcome for c in _purge(tmp_path, today=next_day).cases] == [PURGED]


def test_a_dry_run_changes_nothing(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    _case(store, "offboard-lisi", retention_days=30)
    before = {p: (tmp_path / p).read_bytes() for p in _files(tmp_path)}

    summary = _purge(tmp_path, dry_run=True)

    assert [(c.outcome, c.files) for c in summary.cases] == [(WOULD_PURGE, 3)]
    assert {p: (tmp_path / p).read_bytes() for p in _files(tmp_path)} == before


def test_a_second_round_finds_nothing_more_to_do(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    _case(store, "offboard-lisi", retention_days=30)
    _purge(tmp_path)
    again = _purge(tmp_path)
    assert [c.outcome for c in again.cases] == [ALREADY_PURGED]
    assert [e.action for e in _ledger(store, "offboard-lisi").entries()].count(PURGED_ACTION) == 1


def test_an_interrupted_purge_is_finished_without_a_second_entry(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    manifest = _case(store, "offboard-lisi", retention_days=30)
    _ledger(store, "offboard-lisi").append(
        PURGED_ACTION, actor="airflow:backup_retention", step="purge", key=manifest.sha256
    )  # as if the last round stopped after its ledger entry
    assert [c.outcome for c in _purge(tmp_path).cases] == [PURGED]
    assert [e.action for e in _ledger(store, "offboard-lisi").entries()].count(PURGED_ACTION) == 1
    assert not (tmp_path / "offboard-lisi" / "manifest.json").exists()


def test_a_case_without_a_manifest_is_left_alone_and_reported(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    store.write_bytes("offboard-lisi", "profile/user.json", b"{}")
    (tmp_path / "not-a-case!").mkdir()
    summary = _purge(tmp_path)
    assert [(c.case_id, c.outcome) for c in summary.cases] == [("offboard-lisi", NO_MANIFEST)]
    assert (tmp_path / "offboard-lisi" / "profile" / "user.json").exists()
    assert summary.to_dict()["cases"][0]["outcome"] == NO_MANIFEST


def test_encrypted_backups_are_purged_without_the_key(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path), key_from_text(generate_key()))
    _case(store, "offboard-lisi", retention_days=30)
    assert [c.outcome for c in _purge(tmp_path).cases] == [PURGED]
    assert _files(tmp_path / "offboard-lisi") == [
        "case.json",
        "evidence/ledger.jsonl",
        "evidence/report.html",
    ]


def test_a_symlink_in_a_case_is_removed_not_its_target(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not ours")
    store = BackupStore(str(root))
    _case(store, "offboard-lisi", retention_days=30)
    (root / "offboard-lisi" / "wedrive" / "link").symlink_to(outside, target_is_directory=True)
    assert [c.outcome for c in _purge(root).cases] == [PURGED]
    assert (outside / "keep.txt").read_text() == "not ours"
    assert not (root / "offboard-lisi" / "wedrive").exists()


def test_one_broken_case_does_not_stop_the_others(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    _case(store, "offboard-lisi", retention_days=30)
    store.write_bytes("offboard-broken", "manifest.json", b"{not json", encrypt=False)
    summary = _purge(tmp_path)
    outcomes = {c.case_id: c.outcome for c in summary.cases}
    assert outcomes == {"offboard-broken": FAILED, "offboard-lisi": PURGED}
    assert "not valid JSON" in next(c.detail for c in summary.cases if c.outcome == FAILED)


def test_object_storage_roots_are_purged_too() -> None:
    url = f"memory://retention-tests/{uuid.uuid4().hex}"
    store = BackupStore(url)
    _case(store, "offboard-lisi", retention_days=30)
    summary = purge_expired_backups(
        [BackupRoot("oss", url)], today=TODAY, dry_run=False, actor="airflow:t", key=key_from_environment()
    )
    assert [(c.root, c.outcome) for c in summary.cases] == [("oss", PURGED)]
    # on object storage the ledger is one object per entry (evidence/ledger/<seq>.json): both are kept
    assert store.files("offboard-lisi") == [
        "case.json",
        "evidence/ledger/0000000001.json",
        "evidence/ledger/0000000002.json",
        "evidence/report.html",
    ]
    ledger = _ledger(store, "offboard-lisi")
    assert [e.action for e in ledger.entries()] == ["backup.verified", PURGED_ACTION]
    assert ledger.verify_chain().ok


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_empty_or_missing_root_is_fine(tmp_path: Path, dry_run: bool) -> None:
    assert _purge(tmp_path / "missing", dry_run=dry_run).cases == []
