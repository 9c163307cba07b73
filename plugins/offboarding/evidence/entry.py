"""One line of the evidence ledger, and how its hash and its HMAC are computed.

``hash`` is the sha256 of the canonical JSON of the entry's *body* (every field but ``hash`` and
``mac``; the body holds ``seq``, ``prev_hash`` and ``key_id``), so the entries form a chain. ``mac`` is the
HMAC-SHA256 of the same bytes under the deployment's evidence key (see :mod:`.keys`): without the key
nobody can write an entry that verifies, even one whose plain hashes were all recomputed.
Entries written before entries were authenticated have neither ``key_id`` nor ``mac``; they are read
but never verify as authenticated.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from offboarding.evidence.keys import EvidenceKey

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry of every ledger."""

ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
"""``family.verb`` in lower case, e.g. ``member.disabled``, ``approval.granted``, ``handover.customers``."""

_HASH = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")
_FIELDS = ("seq", "at", "actor", "action", "step", "key", "request", "result", "prev_hash")
_OPTIONAL = ("key_id", "mac")


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
    key_id: str | None = None
    mac: str | None = None

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
        """Every field but ``hash`` and ``mac``: what both are computed over."""
        body = {name: getattr(self, name) for name in _FIELDS}
        if self.key_id is not None:
            body["key_id"] = self.key_id
        return body

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored on one ledger line."""
        stored = {**self.body(), "hash": self.hash}
        if self.mac is not None:
            stored["mac"] = self.mac
        return stored

    def to_line(self) -> bytes:
        """The ledger line (canonical JSON and a newline)."""
        return canonical_json(self.to_dict()) + b"\n"

    def computed_hash(self) -> str:
        """The hash this entry's content should have."""
        return entry_hash(self.body())

    def mac_matches(self, key: EvidenceKey) -> bool:
        """True when ``mac`` is ``key``'s HMAC of this entry's body."""
        return self.mac is not None and key.check(canonical_json(self.body()), self.mac)

    @classmethod
    def signed(cls, body: Mapping[str, Any], key: EvidenceKey) -> Entry:
        """A new entry from ``body`` (every field but hash, key_id and mac), hashed and authenticated."""
        full = {**body, "key_id": key.key_id}
        data = canonical_json(full)
        return cls(**full, hash=hashlib.sha256(data).hexdigest(), mac=key.mac(data))

    @classmethod
    def from_dict(cls, data: Any) -> Entry:
        """Read a ledger line's object, raising ValueError naming the bad field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"entry must be a JSON object, got {type(data).__name__}")
        missing = [name for name in (*_FIELDS, "hash") if name not in data]
        if missing:
            raise ValueError(f"entry lacks field(s) {', '.join(missing)}")
        extra = sorted(set(data) - {*_FIELDS, "hash", *_OPTIONAL})
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
        if ("key_id" in data) != ("mac" in data):
            raise ValueError("entry has one of key_id and mac without the other")
        if "mac" in data:
            if not isinstance(data["key_id"], str) or not _KEY_ID.fullmatch(data["key_id"]):
                raise ValueError(f"entry key_id must be 16 lowercase hex characters, got {data['key_id']!r}")
            if not isinstance(data["mac"], str) or not _HASH.fullmatch(data["mac"]):
                raise ValueError(f"entry mac must be 64 lowercase hex characters, got {data['mac']!r}")
        return cls(**{name: data[name] for name in (*_FIELDS, "hash", *_OPTIONAL) if name in data})

    @classmethod
    def from_line(cls, line: bytes | str) -> Entry:
        """Parse one ledger line (ValueError when it is not a ledger entry)."""
        try:
            data = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not valid JSON ({exc})") from None
        return cls.from_dict(data)
