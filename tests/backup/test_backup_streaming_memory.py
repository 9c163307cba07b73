"""Backups stream: a 200 MB file goes in and is read back without being held in memory."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboarding.backup import BackupStore, generate_key, key_from_text

CASE = "offboard-zhangsan"
MiB = 1024 * 1024
TOTAL_MIB = 200
PEAK_LIMIT = 16 * MiB  # a store holding the file would peak at 200 MB


def _generated_download(block: bytes) -> Iterator[bytes]:
    """200 MB in 256 KiB pieces, like an HTTP download; the pieces are views, nothing is allocated."""
    view = memoryview(block)
    for _ in range(TOTAL_MIB):
        for offset in range(0, MiB, 256 * 1024):
            yield view[offset : offset + 256 * 1024]


def _expected_sha256(block: bytes) -> str:
    digest = hashlib.sha256()
    for _ in range(TOTAL_MIB):
        digest.update(block)
    return digest.hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("encrypted", [False, True], ids=["plaintext", "encrypted"])
def test_200_mb_stream_in_and_out_with_bounded_memory(tmp_path: Path, encrypted: bool) -> None:
    block = os.urandom(MiB)
    store = BackupStore(str(tmp_path), key_from_text(generate_key()) if encrypted else None)
    path = tmp_path / CASE / "wedrive" / "big.bin"
    try:
        tracemalloc.start()
        try:
            entry = store.write_stream(CASE, "wedrive/big.bin", _generated_download(block))
            _, write_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            digest = store.digest_file(CASE, "wedrive/big.bin", encrypted=encrypted)
            _, read_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert entry.size == TOTAL_MIB * MiB
        assert entry.sha256 == _expected_sha256(block)
        assert digest.sha256 == entry.sha256 and digest.size == entry.size
        assert digest.stored_sha256 == entry.stored_sha256
        assert path.stat().st_size == digest.stored_size
        assert write_peak < PEAK_LIMIT, f"write peaked at {write_peak / MiB:.1f} MiB"
        assert read_peak < PEAK_LIMIT, f"read peaked at {read_peak / MiB:.1f} MiB"
    finally:
        path.unlink(missing_ok=True)  # do not leave 200 MB behind in pytest's tmp folders
