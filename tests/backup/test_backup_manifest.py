"""The backup manifest: JSON round trip, retention, storage, and verification catching changes."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from offboarding.backup import (
    MANIFEST_PATH,
    BackupManifest,
    BackupStore,
    FileEntry,
    NotExported,
    generate_key,
    key_from_text,
    load_manifest,
    verify,
    write_manifest,
)

CASE = "offboard-zhangsan"
CREATED = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
CHAT = ("chat history", "message archive (会话内容存档) not enabled: chats cannot be exported by API", "")
WEDRIVE = ("personal WeDrive space", "not reachable by the app", "640008")


def _fixed_clock() -> datetime:
    return datetime(2026, 11, 24, 2, 0, 30, tzinfo=UTC)


def _backup(store: BackupStore) -> BackupManifest:
    manifest = BackupManifest.start(
        CASE, "zhangsan", retention=1095, encrypted=store.encrypted, created_at=CREATED
    )
    manifest.add(
        store.write_json(
            CASE, "profile/user.json", {"userid": "zhangsan", "name": "张三"}, source="api:user/get"
        )
    )
    manifest.add(
        store.write_stream(CASE, "wedrive/合同.pdf", [os.urandom(1_500_000)], source="wedrive:FILEID1")
    )
    manifest.add(store.write_bytes(CASE, "wedrive/empty.txt", b"", source="wedrive:FILEID2"))
    manifest.record_not_exported(*CHAT)
    manifest.record_not_exported(*WEDRIVE)
    write_manifest(store, manifest)
    return manifest


def test_retention_until_counts_days_from_the_china_date() -> None:
    late_evening_utc = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # already 2026-11-25 01:00 in Beijing
    manifest = BackupManifest.start(
        CASE, "zhangsan", retention=30, encrypted=False, created_at=late_evening_utc
    )
    assert manifest.retention_until == date(2026, 12, 25)
    by_delta = BackupManifest.start(
        CASE, "zhangsan", retention=timedelta(days=30), encrypted=False, created_at=CREATED
    )
    assert by_delta.retention_until == date(2026, 12, 24)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retention": 0}, "retention must be positive"),
        ({"retention": "3y"}, "retention must be a number of days"),
        ({"created_at": datetime(2026, 11, 24, 10, 0)}, "created_at must be a timezone-aware datetime"),
        ({"subject": " "}, "subject must be the userid or the company"),
        ({"case_id": "../x"}, "case_id must be"),
    ],
)
def test_bad_manifest_input_is_refused_naming_the_field(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "case_id": CASE,
        "subject": "zhangsan",
        "retention": 1095,
        "encrypted": False,
        "created_at": CREATED,
    }
    arguments.update(kwargs)
    case_id, subject = arguments.pop("case_id"), arguments.pop("subject")
    with pytest.raises(ValueError, match=message):
        BackupManifest.start(case_id, subject, **arguments)  # type: ignore[arg-type]


def test_json_round_trip_keeps_everything(tmp_path: Path) -> None:
    manifest = _backup(BackupStore(str(tmp_path)))
    again = BackupManifest.from_json(manifest.to_json())
    assert again == manifest
    assert again.retention_until == date(2029, 11, 23)
    assert again.not_exported == [NotExported(*CHAT), NotExported(*WEDRIVE)]
    assert [item.path for item in again.items] == [
        "profile/user.json",
        "wedrive/empty.txt",
        "wedrive/合同.pdf",
    ]
    assert again.total_bytes == sum(item.size for item in manifest.items)


def test_written_manifest_is_plain_readable_json_with_its_own_sha256(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path), key_from_text(generate_key()))
    manifest = _backup(store)
    raw = (tmp_path / CASE / MANIFEST_PATH).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == manifest.sha256
    data = json.loads(raw)  # readable without the key
    assert data["case_id"] == CASE and data["encrypted"] is True
    assert "会话内容存档" in raw.decode("utf-8")
    assert load_manifest(store, CASE) == manifest


def test_adding_a_file_again_replaces_its_entry(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    manifest = _backup(store)
    manifest.add(store.write_bytes(CASE, "wedrive/empty.txt", b"now filled", source="wedrive:FILEID2"))
    assert [item.size for item in manifest.items if item.path == "wedrive/empty.txt"] == [10]
    with pytest.raises(ValueError, match="reserved"):
        manifest.add(FileEntry("evidence/ledger.jsonl", 0, "0" * 64, "0" * 64))


def test_load_manifest_missing_and_malformed(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"no backup manifest for case {CASE}"):
        load_manifest(store, CASE)
    manifest = _backup(store)
    data = manifest.to_dict()
    data["items"][1]["sha256"] = "not-a-hash"
    store.write_json(CASE, MANIFEST_PATH, data)
    with pytest.raises(ValueError, match=r"manifest items\[1\]\.sha256 must be 64 lowercase hex"):
        load_manifest(store, CASE)
    data = manifest.to_dict()
    data["created_at"] = "2026-11-24T10:00:00"
    store.write_json(CASE, MANIFEST_PATH, data)
    with pytest.raises(ValueError, match="manifest created_at must be a timezone-aware"):
        load_manifest(store, CASE)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plaintext", "encrypted"])
def test_verify_reads_everything_back(tmp_path: Path, encrypted: bool) -> None:
    store = BackupStore(str(tmp_path), key_from_text(generate_key()) if encrypted else None)
    manifest = _backup(store)

    report = verify(store, load_manifest(store, CASE), clock=_fixed_clock)

    assert report.ok
    assert [item.status for item in report.items] == ["ok", "ok", "ok"]
    assert report.files == 3
    assert report.bytes == report.bytes_read == manifest.total_bytes
    assert report.seconds >= 0
    assert report.manifest_sha256 == manifest.sha256
    assert report.to_dict()["ok"] is True


def test_verify_catches_a_changed_and_a_missing_file(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    manifest = _backup(store)
    (tmp_path / CASE / "profile" / "user.json").write_text('{"name": "李四"}', encoding="utf-8")
    (tmp_path / CASE / "wedrive" / "合同.pdf").unlink()

    report = verify(store, manifest, clock=_fixed_clock)

    assert not report.ok
    by_path = {item.path: item for item in report.items}
    assert by_path["profile/user.json"].status == "mismatched"
    assert "sha256 differs" in by_path["profile/user.json"].detail
    assert by_path["wedrive/合同.pdf"].status == "missing"
    assert by_path["wedrive/empty.txt"].status == "ok"
    assert [item.path for item in report.missing] == ["wedrive/合同.pdf"]
    assert [item.path for item in report.mismatched] == ["profile/user.json"]


def test_verify_catches_a_tampered_encrypted_file(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path), key_from_text(generate_key()))
    manifest = _backup(store)
    path = tmp_path / CASE / "wedrive" / "合同.pdf"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))

    report = verify(store, manifest, clock=_fixed_clock)

    check = next(item for item in report.items if item.path == "wedrive/合同.pdf")
    assert check.status == "mismatched"
    assert "failed authentication at segment 1" in check.detail


def test_verify_refuses_encrypted_files_without_the_key(tmp_path: Path) -> None:
    manifest = _backup(BackupStore(str(tmp_path), key_from_text(generate_key())))
    with pytest.raises(ValueError, match="lists encrypted files but the BackupStore has no encryption key"):
        verify(BackupStore(str(tmp_path)), manifest)


def test_summary_text_for_the_approval_screen(tmp_path: Path) -> None:
    store = BackupStore(f"memory://manifest-tests/{uuid.uuid4().hex}")
    manifest = BackupManifest.start(CASE, "zhangsan", retention=1095, encrypted=False, created_at=CREATED)
    for n in range(12):
        manifest.add(store.write_bytes(CASE, f"wedrive/{n:02d}.bin", b"x" * 283_334))
    manifest.record_not_exported(*CHAT)
    manifest.record_not_exported(*WEDRIVE)

    report = verify(
        store, manifest, clock=lambda: datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    )

    assert report.summary_text() == (
        "12 files, 3.4 MB, all verified (sha256) at 2026-11-24 10:00 CST; 2 items not exportable: "
        "chat history (message archive (会话内容存档) not enabled: chats cannot be exported by API); "
        "personal WeDrive space (not reachable by the app)"
    )


def test_summary_text_names_failures(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    manifest = BackupManifest.start(CASE, "zhangsan", retention=10, encrypted=False, created_at=CREATED)
    manifest.add(store.write_bytes(CASE, "a.txt", b"a" * 600))
    manifest.add(store.write_bytes(CASE, "b.txt", b"b" * 600))
    (tmp_path / CASE / "a.txt").unlink()
    (tmp_path / CASE / "b.txt").write_bytes(b"changed")

    report = verify(store, manifest, clock=_fixed_clock)

    assert report.summary_text() == (
        "2 files, 1.2 kB, verification FAILED (sha256) at 2026-11-24 10:00 CST: 1 missing (a.txt), "
        "1 mismatched (b.txt); no items marked not exportable"
    )
