"""``BackupStore.create_new``: a file created only when none exists, the one write several hosts may race for."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest

from offboarding.backup import BackupStore

CASE = "offboard-zhangsan"


def test_local_create_new_is_exclusive_private_and_leaves_no_temporary(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    store.create_new(CASE, "evidence/ledger/0000000001.json", b"first\n")
    with pytest.raises(FileExistsError):
        store.create_new(CASE, "evidence/ledger/0000000001.json", b"second\n")

    created = tmp_path / CASE / "evidence" / "ledger" / "0000000001.json"
    assert created.read_bytes() == b"first\n"
    assert stat.S_IMODE(created.stat().st_mode) == 0o600
    assert sorted(p.name for p in created.parent.iterdir()) == ["0000000001.json"]
    assert store.list_files(CASE, "evidence/ledger") == ["0000000001.json"]
    assert store.list_files(CASE, "evidence/nothing-here") == []


def test_object_store_create_new_is_exclusive() -> None:
    store = BackupStore(f"memory://create-new-{uuid.uuid4().hex}/cases")
    store.create_new(CASE, "evidence/ledger/0000000001.json", b"first\n")
    with pytest.raises(FileExistsError):
        store.create_new(CASE, "evidence/ledger/0000000001.json", b"second\n")
    assert store.read_bytes(CASE, "evidence/ledger/0000000001.json") == b"first\n"
    assert store.list_files(CASE, "evidence/ledger") == ["0000000001.json"]
    assert store.protocol == "memory"
