"""``RedisTokenCache``: tokens shared by every worker of a deployment through Redis.

Values are the encrypted blobs from :mod:`offboarding.wecom.token_seal`, stored with an expiry.
The per-key lock is Redis' ``SET NX PX`` lock (released by a compare-and-delete script), with an
expiry so a crashed fetcher frees it after ``lock_seconds``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis

from offboarding.wecom.redis_client import redis_from_url, split_prefix, where

DEFAULT_PREFIX = "offboarding:wecom-token:"


class RedisTokenCache:
    """Token blobs under ``prefix + key`` in the Redis at ``url`` (``redis://host:port/db[?prefix=...]``)."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str | None = None,
        lock_seconds: float = 60.0,
        wait_seconds: float = 120.0,
        client: redis.Redis | None = None,
    ) -> None:
        clean_url, url_prefix = split_prefix(url)
        self.prefix = prefix if prefix is not None else (url_prefix or DEFAULT_PREFIX)
        self.lock_seconds = lock_seconds
        self.wait_seconds = wait_seconds
        self._redis = client if client is not None else redis_from_url(clean_url)
        self._where = where(clean_url)

    def __repr__(self) -> str:
        # The URL may carry a password: show only host, port and db.
        return f"RedisTokenCache({self._where!r}, prefix={self.prefix!r})"

    def get(self, key: str) -> bytes | None:
        value = self._redis.get(self.prefix + key)
        return bytes(value) if value else None  # type: ignore[arg-type]

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._redis.set(self.prefix + key, value, px=max(1, int(ttl_seconds * 1000)))

    def invalidate(self, key: str) -> None:
        self._redis.delete(self.prefix + key)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        lock = self._redis.lock(
            f"{self.prefix}{key}:lock",
            timeout=self.lock_seconds,
            blocking_timeout=self.wait_seconds,
            sleep=0.02,
        )
        if not lock.acquire():
            raise TimeoutError(
                f"could not take the token lock in Redis {self._where} within {self.wait_seconds:.0f}s; "
                "another worker may be stuck fetching a WeCom token"
            )
        try:
            yield
        finally:
            # LockError: it expired while we held it; another worker may own it now.
            with suppress(redis.exceptions.LockError):
                lock.release()
