"""A small JSON document shared by every process of a host (a locked file) or a deployment (Redis).

The robot queue keeps its window of sent messages and its outbox in one of these. A transaction
holds the lock, hands out the document as a dict, and saves it when the block ends without error:

    with state.transaction() as doc:
        doc["sent"] = [...]

Backends: :class:`FileSharedState` (``fcntl.flock`` on a lock file next to a 0600 JSON file, in a
0700 folder; a lock dies with its process) and :class:`RedisSharedState` (``SET NX PX`` lock released
by compare-and-delete, the document under one key with an expiry). :func:`robot_state_for` picks
Redis when ``OFFBOARDING_TOKEN_CACHE_URL`` is ``redis://`` or ``rediss://``, else a file under
``<data dir>/robot-queue/`` (the caller names its data dir: this package reads no setting of ours).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

TOKEN_CACHE_URL_ENV = "OFFBOARDING_TOKEN_CACHE_URL"
ROBOT_QUEUE_FOLDER = "robot-queue"
REDIS_PREFIX = "offboarding:robot-queue:"


class SharedStateError(RuntimeError):
    """The shared document could not be locked, read or written."""


class SharedState(Protocol):
    """One JSON object, changed only inside :meth:`transaction`."""

    def transaction(self) -> AbstractContextManager[dict[str, Any]]:
        """Hold the lock; yield the document; save it when the block ends without an exception."""
        ...


class FileSharedState:
    """The document in ``<folder>/<name>.json`` (0600), locked through ``<folder>/<name>.lock``."""

    def __init__(self, folder: str | os.PathLike[str], name: str) -> None:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"name must be a plain file name, got {name!r}")
        self.folder = Path(folder)
        self.path = self.folder / f"{name}.json"
        self._lock_path = self.folder / f"{name}.lock"
        self._thread_lock = threading.Lock()  # flock is per open file; threads of one process queue here

    def __repr__(self) -> str:
        return f"FileSharedState({str(self.path)!r})"

    @contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._thread_lock:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                document = self._read()
                yield document
                self._write(document)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        if not text.strip():
            return {}
        try:
            document = json.loads(text)
        except ValueError:
            raise SharedStateError(
                f"{self.path} is not valid JSON; delete it to start the robot queue afresh"
            ) from None
        return document if isinstance(document, dict) else {}

    def _write(self, document: dict[str, Any]) -> None:
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, json.dumps(document, ensure_ascii=False).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, self.path)


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class RedisSharedState:
    """The document under ``<prefix><name>`` in Redis; the lock under ``...:lock``."""

    def __init__(
        self,
        client: Any,
        name: str,
        *,
        prefix: str = REDIS_PREFIX,
        lock_seconds: float = 30.0,
        wait_seconds: float = 60.0,
        keep_seconds: int = 86400,
    ) -> None:
        self._redis = client
        self.key = f"{prefix}{name}"
        self._lock_key = f"{self.key}:lock"
        self.lock_seconds = lock_seconds
        self.wait_seconds = wait_seconds
        self.keep_seconds = keep_seconds

    def __repr__(self) -> str:
        return f"RedisSharedState(key={self.key!r})"

    @contextmanager
    def transaction(self) -> Iterator[dict[str, Any]]:
        token = secrets.token_hex(16)
        deadline = time.monotonic() + self.wait_seconds
        while not self._redis.set(self._lock_key, token, nx=True, px=int(self.lock_seconds * 1000)):
            if time.monotonic() > deadline:
                raise SharedStateError(f"could not lock {self.key} in Redis within {self.wait_seconds:g}s")
            time.sleep(0.01)
        try:
            raw = self._redis.get(self.key)
            document = json.loads(raw) if raw else {}
            if not isinstance(document, dict):
                document = {}
            yield document
            self._redis.set(self.key, json.dumps(document, ensure_ascii=False), ex=self.keep_seconds)
        finally:
            self._redis.eval(_RELEASE, 1, self._lock_key, token)


def robot_state_for(name: str, data_dir: str | os.PathLike[str]) -> SharedState:
    """The shared document of one robot (``name`` is a hash of its key, never the key itself).

    Redis when ``$OFFBOARDING_TOKEN_CACHE_URL`` is a Redis URL (the whole deployment shares it), else a
    file in ``<data_dir>/robot-queue/`` (the processes of one host share it).
    """
    url = os.environ.get(TOKEN_CACHE_URL_ENV, "").strip()
    if urlsplit(url).scheme in ("redis", "rediss"):
        from offboarding.wecom.redis_client import redis_from_url  # imports redis: only when configured

        return RedisSharedState(redis_from_url(url), name)
    return FileSharedState(Path(data_dir) / ROBOT_QUEUE_FOLDER, name)
