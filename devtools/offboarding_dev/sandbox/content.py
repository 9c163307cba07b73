"""Deterministic WeDrive file content generated from (fileid, offset), so a 1 GB file costs no memory.

The stream is made of 1 MiB blocks; block ``i`` is the block number followed by a window into a 1 MiB
pseudo-random pattern derived from the fileid, rotated by ``i``. Every block differs, any byte range can be
produced without producing what comes before it, and the md5/sha1 are computed once when a file is made.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from functools import lru_cache

BLOCK_SIZE = 1 << 20
_ROTATIONS = 4093  # prime, so rotations spread over the pattern


@lru_cache(maxsize=8)
def _pattern(fileid: str) -> bytes:
    seed = int.from_bytes(hashlib.sha256(fileid.encode()).digest()[:8], "big")
    base = random.Random(seed).randbytes(BLOCK_SIZE)
    return base + base[:_ROTATIONS]


def _block(fileid: str, index: int) -> bytes:
    pattern = _pattern(fileid)
    shift = (index * 2654435761) % _ROTATIONS
    return index.to_bytes(8, "big") + pattern[shift : shift + BLOCK_SIZE - 8]


def generated_bytes(fileid: str, size: int, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """The bytes ``[start, end)`` of the generated file ``fileid`` of ``size`` bytes, in chunks ≤ 1 MiB."""
    end = size if end is None else min(end, size)
    position = start
    while position < end:
        index, offset = divmod(position, BLOCK_SIZE)
        block = _block(fileid, index)
        take = min(BLOCK_SIZE - offset, end - position)
        yield block[offset : offset + take]
        position += take


def generated_digests(fileid: str, size: int) -> tuple[str, str]:
    """The md5 and sha1 hex digests of the generated file (one pass; hashing releases the GIL)."""
    md5, sha1 = hashlib.md5(), hashlib.sha1()
    for chunk in generated_bytes(fileid, size):
        md5.update(chunk)
        sha1.update(chunk)
    return md5.hexdigest(), sha1.hexdigest()
