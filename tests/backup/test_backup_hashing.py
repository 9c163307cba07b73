"""Hashing a stream beside the thread that writes it: same digests, bounded memory, errors not lost."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from offboarding.backup import BackupStore
from offboarding.backup import storage as storage_module
from offboarding.backup.errors import BackupError
from offboarding.backup.hashing import PARALLEL_AFTER, StreamHashes

MiB = 1024 * 1024


def _threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "backup-hash")


def test_a_big_stream_is_hashed_in_threads_to_the_same_digests() -> None:
    block = os.urandom(MiB)
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with StreamHashes(md5, sha) as hashes:
        for _ in range(PARALLEL_AFTER // MiB + 8):
            hashes.update(block)
        assert len(hashes.workers) == 2 and _threads() >= 2
    expected = block * (PARALLEL_AFTER // MiB + 8)
    assert md5.hexdigest() == hashlib.md5(expected, usedforsecurity=False).hexdigest()
    assert sha.hexdigest() == hashlib.sha256(expected).hexdigest()
    assert _threads() == 0


def test_a_small_stream_never_starts_a_thread() -> None:
    sha = hashlib.sha256()
    with StreamHashes(sha) as hashes:
        hashes.update(b"profiles")
        assert hashes.workers == []
    assert sha.hexdigest() == hashlib.sha256(b"profiles").hexdigest()


def test_a_buffer_the_caller_reuses_is_hashed_as_it_was_given() -> None:
    buffer = bytearray(os.urandom(MiB))
    given = []
    sha = hashlib.sha256()
    with StreamHashes(sha) as hashes:
        for n in range(PARALLEL_AFTER // MiB + 4):
            buffer[:8] = n.to_bytes(8, "big")
            given.append(bytes(buffer))
            hashes.update(buffer)
    assert sha.hexdigest() == hashlib.sha256(b"".join(given)).hexdigest()


class _Broken:
    def update(self, data: Any) -> None:
        raise ValueError("hash failed")


def test_what_a_hash_raised_in_its_thread_is_raised_by_close() -> None:
    hashes = StreamHashes(_Broken())
    hashes.hashed_inline = PARALLEL_AFTER  # straight to the threads
    for _ in range(10):  # the queue is drained after the failure: the caller never blocks
        hashes.update(b"x" * 4096)
    with pytest.raises(ValueError, match="hash failed"):
        hashes.close()
    with pytest.raises(BackupError, match="after close"):
        hashes.update(b"late")


def test_a_big_file_starts_its_disk_writes_while_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised: list[tuple[int, int]] = []
    real_fadvise = os.posix_fadvise

    def record(fd: int, offset: int, length: int, advice: int) -> None:
        advised.append((offset, length))
        real_fadvise(fd, offset, length, advice)

    monkeypatch.setattr(storage_module, "WRITEBACK_EVERY", 4 * MiB)
    monkeypatch.setattr(os, "posix_fadvise", record)
    block = os.urandom(MiB)
    store = BackupStore(str(tmp_path))

    entry = store.write_stream("offboard-lisi", "wedrive/big.bin", (block for _ in range(10)))

    assert advised == [(0, 4 * MiB), (4 * MiB, 4 * MiB)]
    assert entry.size == 10 * MiB
    assert entry.sha256 == entry.stored_sha256 == hashlib.sha256(block * 10).hexdigest()
    assert (tmp_path / "offboard-lisi" / "wedrive" / "big.bin").read_bytes() == block * 10
