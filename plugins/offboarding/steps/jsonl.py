"""JSON Lines streaming for long lists (customers, groups, outcomes): only the current chunk in memory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

JSONL_CHUNK_BYTES = 256 * 1024
"""How many bytes of JSON Lines are gathered before they are handed to the backup store."""


@dataclass
class Tally:
    """Counts what went through a stream (records and their bytes) while it is being written."""

    records: int = 0
    bytes: int = 0


def jsonl_chunks(records: Iterable[Mapping[str, Any]], tally: Tally) -> Iterator[bytes]:
    """Encode ``records`` as UTF-8 JSON Lines, lazily, in chunks of about 256 KiB.

    Nothing but the current chunk is held: a member with 100,000 customers streams like one with ten.
    """
    pending: list[bytes] = []
    size = 0
    for record in records:
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        tally.records += 1
        tally.bytes += len(line)
        pending.append(line)
        size += len(line)
        if size >= JSONL_CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)
