"""One line of the evidence ledger, and how its hash is computed."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry of every ledger."""

ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
"""``family.verb`` in lower case, e.g. ``member.disabled``, ``approval.granted``, ``handover.customers``."""

_HASH = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = ("seq", "at", "actor", "action", "step", "key", "request", "result", "prev_hash")


def canonical_json(obj: Any) -> bytes:
    """The one byte form used for hashing and storing: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def entry_hash(body: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of an entry without its ``hash``."""
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class Entry:
    """What happened in a case, by whom, in which task, and the chain link to the entry before.

    ``actor`` is the Airflow user, ``system`` or ``wecom``; ``step`` the task id (None outside a task);
    ``key`` what the action was about (e.g. a userid), for :meth:`EvidenceLedger.has_action`;
    ``request`` a summary of what was asked (secrets hidden); ``result`` what WeCom reported back.
    """

    seq: int
    at: str
    actor: str
    action: str
    step: str | None
    key: str | None
    request: Any
    result: Any
    prev_hash: str
    hash: str

    @property
    def family(self) -> str:
        """The part of the action before the first dot: ``member`` for ``member.disabled``."""
        return self.action.split(".", 1)[0]

    @property
    def verb(self) -> str:
        """The part of the action after the first dot: ``disabled`` for ``member.disabled``."""
        return self.action.split(".", 1)[1]

    @property
    def at_datetime(self) -> datetime:
        """``at`` as an aware datetime (UTC)."""
        return datetime.fromisoformat(self.at)

    def body(self) -> dict[str, Any]:
        """Every field but ``hash``: what ``hash`` is computed over."""
        return {name: getattr(self, name) for name in _FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored on one ledger line."""
        return {**self.body(), "hash": self.hash}

    def to_line(self) -> bytes:
        """The ledger line (canonical JSON and a newline)."""
        return canonical_json(self.to_dict()) + b"\n"

    def computed_hash(self) -> str:
        """The hash this entry's content should have."""
        return entry_hash(self.body())

    @classmethod
    def from_dict(cls, data: Any) -> Entry:
        """Read a ledger line's object, raising ValueError naming the bad field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"entry must be a JSON object, got {type(data).__name__}")
        missing = [name for name in (*_FIELDS, "hash") if name not in data]
        if missing:
            raise ValueError(f"entry lacks field(s) {', '.join(missing)}")
        extra = sorted(set(data) - {*_FIELDS, "hash"})
        if extra:
            raise ValueError(f"entry has unknown field(s) {', '.join(extra)}")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError(f"entry seq must be a positive integer, got {seq!r}")
        for name in ("at", "actor", "action"):
            if not isinstance(data[name], str):
                raise ValueError(f"entry {name} must be a string, got {data[name]!r}")
        for name in ("step", "key"):
            if data[name] is not None and not isinstance(data[name], str):
                raise ValueError(f"entry {name} must be a string or null, got {data[name]!r}")
        for name in ("prev_hash", "hash"):
            if not isinstance(data[name], str) or not _HASH.fullmatch(data[name]):
                raise ValueError(f"entry {name} must be 64 lowercase hex characters, got {data[name]!r}")
        return cls(**{name: data[name] for name in (*_FIELDS, "hash")})

    @classmethod
    def from_line(cls, line: bytes | str) -> Entry:
        """Parse one ledger line (ValueError when it is not a ledger entry)."""
        try:
            data = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
        return cls.from_dict(data)
