"""The deployment's evidence key: what authenticates every ledger entry (HMAC-SHA256).

The key is a secret of the deployment, kept in the Airflow Connection named by
``OFFBOARDING_EVIDENCE_KEY_CONN_ID`` (default ``offboarding_evidence_key``; its password is the key).
Whoever can rewrite the case folder but does not hold the key cannot write an entry that verifies, so
rewriting the file and recomputing the plain sha256 hashes is detected.

The key is text of at least :data:`MIN_KEY_LENGTH` characters (``offboarding evidence generate-key``
prints a fresh one). It never appears in a repr, a log line, an error, an XCom or a file: only its
*key id* does (:attr:`EvidenceKey.key_id`, a one-way fingerprint), which the ledger records beside each
entry's HMAC so a verifier can tell "signed with another key" from "forged".

No Airflow import here: the ``offboarding evidence verify`` command runs without Airflow.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

MIN_KEY_LENGTH = 32
"""Fewest characters an evidence key may have (a generated key has 43)."""
KEY_ENV = "OFFBOARDING_EVIDENCE_KEY"
"""Environment variable the verifier command reads the key from (never the product)."""
_KEY_ID_LABEL = b"offboarding-evidence-key-id/v1"


class EvidenceKeyError(ValueError):
    """The evidence key is missing or unusable; the message says what to do (and never holds the key)."""


class EvidenceKey:
    """An HMAC-SHA256 key for ledger entries. Its repr and str show only the key id."""

    __slots__ = ("_key", "_key_id")

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes):
            raise TypeError(f"an evidence key is bytes, got {type(key).__name__}")
        if len(key) < MIN_KEY_LENGTH:
            raise EvidenceKeyError(
                f"the evidence key is too short ({len(key)} bytes, at least {MIN_KEY_LENGTH} needed): "
                "generate one with `offboarding evidence generate-key`"
            )
        self._key = key
        self._key_id = hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    @classmethod
    def from_text(cls, text: str | None, *, source: str = "the evidence key") -> EvidenceKey:
        """The key from its text form (surrounding whitespace and a trailing newline are ignored)."""
        if text is None or not isinstance(text, str) or not text.strip():
            raise EvidenceKeyError(f"{source} is empty")
        try:
            return cls(text.strip().encode("utf-8"))
        except EvidenceKeyError as err:
            raise EvidenceKeyError(f"{source}: {err}") from None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> EvidenceKey:
        """The key from a file holding only the key (e.g. an auditor's copy, mode 0600)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise EvidenceKeyError(
                f"cannot read the key file {os.fspath(path)}: {exc.__class__.__name__}"
            ) from None
        return cls.from_text(text, source=f"the key file {os.fspath(path)}")

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key (16 hex characters); says which key signed an entry."""
        return self._key_id

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` (hex)."""
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def check(self, data: bytes, mac: str) -> bool:
        """True when ``mac`` is this key's HMAC of ``data`` (constant-time comparison)."""
        return hmac.compare_digest(self.mac(data), mac)

    def __repr__(self) -> str:
        return f"EvidenceKey(key_id={self._key_id!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:  # never pickled into an XCom or a serialized task
        raise TypeError("an evidence key is not serialisable")

    def __copy__(self) -> EvidenceKey:  # immutable: copies (e.g. a deep copy of a task) share it
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> EvidenceKey:
        return self


def key_from_environment(environ: Mapping[str, str] | None = None) -> EvidenceKey | None:
    """The key in ``OFFBOARDING_EVIDENCE_KEY`` (the verifier's and the tests' source), None when unset."""
    text = (os.environ if environ is None else environ).get(KEY_ENV)
    if text is None or not text.strip():
        return None
    return EvidenceKey.from_text(text, source=f"the environment variable {KEY_ENV}")


def generate_evidence_key() -> str:
    """A fresh random key (256 bits, URL-safe text) for the ``offboarding_evidence_key`` connection."""
    return secrets.token_urlsafe(32)


__all__ = [
    "KEY_ENV",
    "MIN_KEY_LENGTH",
    "EvidenceKey",
    "EvidenceKeyError",
    "generate_evidence_key",
    "key_from_environment",
]
