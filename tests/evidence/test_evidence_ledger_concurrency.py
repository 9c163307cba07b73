"""Two real processes appending to one case's ledger at the same time still produce one valid chain."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem

import offboarding.evidence.ledger as ledger_module
from offboarding.backup import BackupStore
from offboarding.evidence import LEDGER_OBJECTS_DIR, EvidenceLedger, LedgerError
from offboarding.evidence.keys import key_from_environment

CASE = "offboard-zhangsan"
PER_PROCESS = 200

APPENDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from offboarding.backup import BackupStore
    from offboarding.evidence import EvidenceLedger
    from offboarding.evidence.keys import key_from_environment

    root, actor, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    ledger = EvidenceLedger(BackupStore(root), "offboard-zhangsan", key=key_from_environment())
    while not go.exists():  # start together so the appends really interleave
        time.sleep(0.005)
    for n in range(count):
        ledger.append("handover.customer", actor=actor, step="hand_over_customers", key=f"{actor}-{n}",
                      request={"external_userid": f"wm{actor}{n}"}, result={"errcode": 0})
    """
)


def test_two_processes_appending_200_entries_each_make_a_valid_chain_of_400(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(root), actor, str(PER_PROCESS), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for actor in ("worker_a", "worker_b")
    ]
    time.sleep(0.5)  # let both interpreters start and wait at the line
    go.touch()
    for worker in workers:
        _, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0, stderr.decode()

    ledger = EvidenceLedger(BackupStore(str(root)), CASE, key=key_from_environment())
    report = ledger.verify_chain()
    entries = list(ledger.entries())

    assert report.ok, report.summary_text()
    assert report.entries == 2 * PER_PROCESS
    assert [entry.seq for entry in entries] == list(range(1, 2 * PER_PROCESS + 1))
    assert Counter(entry.actor for entry in entries) == {"worker_a": PER_PROCESS, "worker_b": PER_PROCESS}
    assert len({entry.key for entry in entries}) == 2 * PER_PROCESS  # nothing lost or written twice


# -- object storage: one object per entry, created only if absent --------------------------------


def _append_from_threads(root: str, threads: int, per_thread: int) -> None:
    def work(name: str) -> None:
        ledger = EvidenceLedger(BackupStore(root), CASE, key=key_from_environment())  # one per "host"
        for n in range(per_thread):
            ledger.append("handover.customer", actor=name, step="hand_over_customers", key=f"{name}-{n}")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(work, f"worker_{t}") for t in range(threads)]:
            future.result()


def _assert_complete_chain(root: str, threads: int, per_thread: int) -> None:
    ledger = EvidenceLedger(BackupStore(root), CASE, key=key_from_environment())
    report = ledger.verify_chain()
    entries = list(ledger.entries())
    assert report.ok, report.summary_text()
    assert [entry.seq for entry in entries] == list(range(1, threads * per_thread + 1))
    assert len({entry.key for entry in entries}) == threads * per_thread  # nothing lost or written twice


def test_threads_appending_on_object_storage_lose_no_entry() -> None:
    root = f"memory://ledger-threads-{uuid.uuid4().hex}/cases"
    _append_from_threads(root, threads=6, per_thread=25)
    _assert_complete_chain(root, threads=6, per_thread=25)
    names = BackupStore(root).list_files(CASE, LEDGER_OBJECTS_DIR)
    assert names[:2] == ["0000000001.json", "0000000002.json"] and len(names) == 150


def test_hosts_racing_for_the_same_seq_on_object_storage_lose_no_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No in-process lock (as between hosts): only the store's conditional create keeps the entries apart.

    The memory store stands in for S3: its create-if-absent is made atomic (as ``If-None-Match: *`` is)
    and slow, so concurrent appenders really collide on the same seq and must re-read and retry.
    """
    monkeypatch.setattr(ledger_module, "_process_lock", lambda root, case_id: contextlib.nullcontext())
    guard = threading.Lock()
    collisions = Counter[str]()
    original = MemoryFileSystem.pipe_file

    def atomic_create(
        self: MemoryFileSystem, path: str, value: bytes, mode: str = "overwrite", **kw: Any
    ) -> None:
        time.sleep(0.002)  # between reading the last entry and creating the next: the race window
        with guard:
            try:
                original(self, path, value, mode=mode, **kw)
            except FileExistsError:
                collisions["lost"] += 1
                raise

    monkeypatch.setattr(MemoryFileSystem, "pipe_file", atomic_create)
    root = f"memory://ledger-race-{uuid.uuid4().hex}/cases"

    _append_from_threads(root, threads=4, per_thread=15)

    _assert_complete_chain(root, threads=4, per_thread=15)
    assert collisions["lost"] > 0  # the hosts did collide, and the losers appended after the winners


def test_object_storage_without_conditional_create_is_refused(tmp_path: Path) -> None:
    store = BackupStore(f"dir::{tmp_path}")  # a file system fsspec wraps without an atomic create-if-absent
    if store.is_local:
        pytest.skip("fsspec resolved dir:: to the local file system")
    ledger = EvidenceLedger(store, CASE, key=key_from_environment())
    with pytest.raises(LedgerError, match="cannot create an object only when it is absent"):
        ledger.append("case.started", actor="ops_li", step=None)
