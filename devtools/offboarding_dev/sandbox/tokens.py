"""Access tokens: issued by gettoken per secret, scoped by the kind of secret, expiring after the TTL.

As WeCom documents, a gettoken within a token's lifetime returns the same token ("有效期内重复获取返回相同
结果"); expires_in is its remaining lifetime. The TTL is wall time (not scaled): it is a technical
duration clients configure their caches by.
"""

from __future__ import annotations

import math
import secrets
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class IssuedToken:
    value: str
    scopes: frozenset[str]
    expires_at: float


class TokenStore:
    """Tokens by value, and the current token per secret."""

    def __init__(self, ttl_seconds: int) -> None:
        self.ttl_seconds = ttl_seconds
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._by_value: dict[str, IssuedToken] = {}
            self._current: dict[str, IssuedToken] = {}

    def issue(self, secret: str, scopes: frozenset[str], now: float) -> tuple[str, int]:
        """The token for ``secret`` (a new one when none is valid) and its remaining seconds."""
        with self._lock:
            token = self._current.get(secret)
            if token is None or token.expires_at <= now:
                token = IssuedToken(secrets.token_urlsafe(48), scopes, now + self.ttl_seconds)
                self._current[secret] = token
                self._by_value[token.value] = token
            return token.value, max(1, math.ceil(token.expires_at - now))

    def lookup(self, value: str) -> IssuedToken | None:
        return self._by_value.get(value)
