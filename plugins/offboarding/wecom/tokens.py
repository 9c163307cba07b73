"""``AccessTokens``: one access token per (CorpID, secret), fetched at most once per token lifetime.

The token lives (encrypted) in a shared :class:`~offboarding.wecom.token_cache.TokenCache`, so every
process of a deployment uses the same one. It is refreshed ahead of expiry (``refresh_margin`` seconds,
at most a quarter of its lifetime), under the cache's per-key lock: one caller fetches, the others wait
and read. WeCom answers a gettoken within a token's lifetime with the same token; then that token is
kept until its original expiry and the next gettoken happens once it has expired. When WeCom rejects a token (40014/42001) :meth:`AccessTokens.replace` drops it only if the cache
still holds that very token (another process may already have replaced it) and fetches once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from offboarding.wecom.token_cache import TokenCache
from offboarding.wecom.token_seal import CachedToken, TokenSeal

DEFAULT_REFRESH_MARGIN_SECONDS = 300.0
# How long to wait when WeCom still hands out the token that is expiring this very moment.
_SAME_TOKEN_PAUSE_SECONDS = 0.2

Fetch = Callable[[], tuple[str, float]]


class AccessTokens:
    """Hands out the current token for one (CorpID, secret); ``fetch`` calls gettoken -> (token, expires_in)."""

    def __init__(
        self,
        corpid: str,
        secret: str,
        cache: TokenCache,
        fetch: Fetch,
        *,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN_SECONDS,
        on_token: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._seal = TokenSeal(corpid, secret)
        self._cache = cache
        self._fetch = fetch
        self._refresh_margin = refresh_margin
        self._on_token = on_token
        self._clock = clock
        self._sleep = sleep
        self._held: CachedToken | None = None
        self._announced: str | None = None

    def __repr__(self) -> str:
        return f"AccessTokens(key={self._seal.key!r}, cache={self._cache!r})"

    @property
    def key(self) -> str:
        """The cache key (a hash of CorpID + secret)."""
        return self._seal.key

    def current(self) -> str:
        """A token that is not due for refresh, fetching one (once, under the lock) when needed."""
        held = self._held
        if held is not None and self._clock() < held.refresh_at:
            return held.token
        entry = self._read()
        if entry is not None and self._clock() < entry.refresh_at:
            return self._hold(entry)
        with self._cache.lock(self.key):
            entry = self._read()
            if entry is not None and self._clock() < entry.refresh_at:
                return self._hold(entry)
            return self._fetch_and_store(previous=entry)

    def replace(self, failed: str) -> str:
        """WeCom rejected ``failed``: return a newer token, fetching one only if the cache still has ``failed``."""
        self._held = None
        with self._cache.lock(self.key):
            entry = self._read()
            if entry is not None and entry.token != failed and self._clock() < entry.expires_at:
                return self._hold(entry)
            if entry is not None:
                self._cache.invalidate(self.key)
            return self._fetch_and_store(previous=None)

    def forget(self) -> None:
        """Drop this process' copy (the shared cache is left alone)."""
        self._held = None

    def _read(self) -> CachedToken | None:
        return self._seal.unseal(self._cache.get(self.key))

    def _fetch_and_store(self, previous: CachedToken | None) -> str:
        entry = self._fetch_entry(previous)
        if previous is not None and entry.token == previous.token and entry.expires_at <= self._clock():
            # WeCom hands out the same token until it expires, and that moment is now: wait it out
            # (a fraction of a second, once per lifetime) and fetch the next one.
            self._sleep(_SAME_TOKEN_PAUSE_SECONDS)
            entry = self._fetch_entry(previous)
        self._cache.set(self.key, self._seal.seal(entry), max(entry.expires_at - self._clock(), 1.0))
        return self._hold(entry)

    def _fetch_entry(self, previous: CachedToken | None) -> CachedToken:
        # The lifetime counts from before the request: WeCom issued the token after that instant.
        started = self._clock()
        token, expires_in = self._fetch()
        lifetime = max(float(expires_in), 1.0)
        expires_at = started + lifetime
        if previous is not None and token == previous.token:
            # A refresh within the token's lifetime returns the same token (WeCom documents this):
            # keep its original expiry and use it until then, without asking again.
            expires_at = min(expires_at, previous.expires_at)
            return CachedToken(token, expires_at, expires_at)
        return CachedToken(token, expires_at, expires_at - min(self._refresh_margin, lifetime / 4))

    def _hold(self, entry: CachedToken) -> str:
        self._held = entry
        if self._on_token is not None and entry.token != self._announced:
            self._announced = entry.token
            self._on_token(entry.token)
        return entry.token
