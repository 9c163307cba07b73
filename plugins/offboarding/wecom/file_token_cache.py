"""``FileTokenCache``: tokens shared by every process of one machine, in a private directory.

Each key has a value file (``<key>.token``, mode 0600) and a lock file (``<key>.lock``) locked with
``fcntl.flock``: exactly one process fetches a token while the others wait, then read what it stored.
A lock dies with its process, so a crashed fetcher never blocks the others. The directory is 0700.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class FileTokenCache:
    """Encrypted token blobs in ``directory`` (created 0700), one file per key."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory).expanduser()
        if not self.directory.is_absolute():
            raise ValueError(f"FileTokenCache directory must be an absolute path, got {str(directory)!r}")
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def __repr__(self) -> str:
        return f"FileTokenCache({str(self.directory)!r})"

    def _path(self, key: str, suffix: str) -> Path:
        if not _KEY.match(key) or key.startswith("."):
            raise ValueError(f"token cache key {key!r} is not a plain file name")
        return self.directory / f"{key}{suffix}"

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key, ".token").read_bytes() or None
        except FileNotFoundError:
            return None

    def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        target = self._path(key, ".token")
        temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, value)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)

    def invalidate(self, key: str) -> None:
        self._path(key, ".token").unlink(missing_ok=True)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        fd = os.open(self._path(key, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
