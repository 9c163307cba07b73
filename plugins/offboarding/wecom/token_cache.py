"""Where access tokens are kept between calls and processes: the :class:`TokenCache` protocol.

A backend stores opaque, already-encrypted bytes (see :mod:`offboarding.wecom.token_seal`) under a key,
and offers a per-key lock so exactly one caller fetches a new token while the others wait and then read
it. Backends: :class:`MemoryTokenCache` (one process), ``FileTokenCache`` (one machine, fcntl locks),
``RedisTokenCache`` (every worker of a deployment). Pick one by URL with :func:`token_cache_from_url`;
:func:`default_token_cache` reads ``OFFBOARDING_TOKEN_CACHE_URL``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

ENV_URL = "OFFBOARDING_TOKEN_CACHE_URL"


@runtime_checkable
class TokenCache(Protocol):
    """Opaque bytes per key, plus a lock per key held while a new token is fetched."""

    def get(self, key: str) -> bytes | None:
        """The stored value, or None."""
        ...

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        """Store ``value``; a backend may drop it after ``ttl_seconds``."""
        ...

    def invalidate(self, key: str) -> None:
        """Forget the value."""
        ...

    def lock(self, key: str) -> AbstractContextManager[None]:
        """Hold the key's lock (across processes when the backend is shared)."""
        ...


class MemoryTokenCache:
    """Tokens kept in this process only (one lock per key); the default when nothing is shared."""

    def __init__(self) -> None:
        self._values: dict[str, bytes] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryTokenCache(entries={len(self._values)})"

    def get(self, key: str) -> bytes | None:
        return self._values.get(key)

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._values[key] = value

    def invalidate(self, key: str) -> None:
        self._values.pop(key, None)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with self._guard:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            yield


_SHARED: dict[str, TokenCache] = {}
_SHARED_GUARD = threading.Lock()


def token_cache_from_url(url: str) -> TokenCache:
    """The cache for ``memory://``, ``file:///abs/dir`` or ``redis://host:port/db[?prefix=...]``.

    One instance per URL per process, so every client of a process shares tokens and locks.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("memory", "file", "redis", "rediss", "unix"):
        raise ValueError(
            f"{ENV_URL}: unknown token cache scheme {scheme or '(none)'!r}; "
            "use memory://, file:///absolute/dir or redis://host:port/db"
        )
    if scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        raise ValueError(f"{ENV_URL}: a file token cache needs an absolute path, e.g. file:///var/lib/x")
    with _SHARED_GUARD:
        cache = _SHARED.get(url)
        if cache is None:
            cache = _build(scheme, url, unquote(parts.path))
            _SHARED[url] = cache
        return cache


def _build(scheme: str, url: str, path: str) -> TokenCache:
    if scheme == "memory":
        return MemoryTokenCache()
    if scheme == "file":
        from offboarding.wecom.file_token_cache import FileTokenCache

        return FileTokenCache(path)
    from offboarding.wecom.redis_token_cache import RedisTokenCache

    return RedisTokenCache(url)


def default_token_cache_url() -> str:
    """``$OFFBOARDING_TOKEN_CACHE_URL``, else a file cache under ``$AIRFLOW_HOME`` or ``~/.cache``."""
    configured = os.environ.get(ENV_URL, "").strip()
    if configured:
        return configured
    airflow_home = os.environ.get("AIRFLOW_HOME", "").strip()
    if airflow_home:
        directory = Path(airflow_home).expanduser().resolve() / "offboarding" / "token-cache"
    else:
        directory = Path.home() / ".cache" / "wecom-offboarding" / "token-cache"
    return directory.as_uri()


def default_token_cache() -> TokenCache:
    """The deployment's shared token cache (see :func:`default_token_cache_url`)."""
    return token_cache_from_url(default_token_cache_url())
