"""Seal access tokens for a shared cache: the cache key and the encryption both derive from the secret.

A cache file or Redis value never holds a usable token on its own: it is Fernet-encrypted with a key
derived (HKDF-SHA256) from the corp secret, and its name is a hash of CorpID + secret (the secret is
never a key or a file name). Anyone who can read the cache but does not know the secret learns nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_KEY_DOMAIN = b"offboarding.wecom token-cache key v1"
_SEAL_SALT = b"offboarding.wecom token-cache seal v1"


def cache_key(corpid: str, secret: str) -> str:
    """The cache entry name for one (CorpID, secret) pair: ``wecom-`` + 40 hex chars of a SHA-256."""
    digest = hashlib.sha256(_KEY_DOMAIN + b"\0" + corpid.encode() + b"\0" + secret.encode()).hexdigest()
    return f"wecom-{digest[:40]}"


@dataclass(frozen=True)
class CachedToken:
    """An access token and when to stop using it (``refresh_at``) and when WeCom expires it (epoch seconds)."""

    token: str = field(repr=False)
    expires_at: float
    refresh_at: float


class TokenSeal:
    """Encrypts and decrypts :class:`CachedToken` entries for one (CorpID, secret) pair."""

    def __init__(self, corpid: str, secret: str) -> None:
        self.key = cache_key(corpid, secret)
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SEAL_SALT, info=corpid.encode()).derive(
            secret.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def __repr__(self) -> str:
        return f"TokenSeal(key={self.key!r})"

    def seal(self, entry: CachedToken) -> bytes:
        """The encrypted form of ``entry`` to store in a cache."""
        payload = {"t": entry.token, "exp": entry.expires_at, "ref": entry.refresh_at}
        return self._fernet.encrypt(json.dumps(payload).encode())

    def unseal(self, blob: bytes | None) -> CachedToken | None:
        """The entry in ``blob``, or None when it is missing, corrupt or sealed with another secret."""
        if not blob:
            return None
        try:
            payload = json.loads(self._fernet.decrypt(blob))
            return CachedToken(str(payload["t"]), float(payload["exp"]), float(payload["ref"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None
