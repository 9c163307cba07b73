"""One backed-up file as the manifest records it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from offboarding.backup.names import check_relpath

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MD5 = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class FileEntry:
    """A file in a case's backup: where it is, how big, and its checksums.

    ``sha256`` and ``size`` describe the PLAINTEXT (what the person's file really was);
    ``stored_sha256`` describes the bytes in storage (equal to ``sha256`` unless ``encrypted``).
    ``source`` says where it came from, e.g. ``wedrive:FILEID`` or ``api:user/get``; ``md5`` is the
    checksum the source announced, when it announced one and it was checked.
    """

    path: str
    size: int
    sha256: str
    stored_sha256: str
    source: str = ""
    md5: str | None = None
    encrypted: bool = False

    def with_source(self, source: str) -> FileEntry:
        """The same entry with another ``source``."""
        return replace(self, source=source)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``md5`` left out when absent)."""
        data: dict[str, Any] = {
            "path": self.path,
            "size": self.size,
            "sha256": self.sha256,
            "stored_sha256": self.stored_sha256,
            "source": self.source,
            "encrypted": self.encrypted,
        }
        if self.md5 is not None:
            data["md5"] = self.md5
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, field: str = "item") -> FileEntry:
        """Read an entry back, raising ValueError that names the bad field (e.g. ``items[3].sha256``)."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{field} must be an object, got {type(data).__name__}")
        path = check_relpath(data.get("path"), field=f"{field}.path")
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{field}.size must be a non-negative integer, got {size!r}")
        sha256 = _hex(data, "sha256", _SHA256, field, "64")
        stored_sha256 = _hex(data, "stored_sha256", _SHA256, field, "64")
        source = data.get("source", "")
        if not isinstance(source, str):
            raise ValueError(f"{field}.source must be a string, got {source!r}")
        md5 = data.get("md5")
        if md5 is not None:
            md5 = _hex(data, "md5", _MD5, field, "32")
        encrypted = data.get("encrypted", False)
        if not isinstance(encrypted, bool):
            raise ValueError(f"{field}.encrypted must be true or false, got {encrypted!r}")
        return cls(path, size, sha256, stored_sha256, source, md5, encrypted)


def _hex(data: Mapping[str, Any], key: str, pattern: re.Pattern[str], field: str, length: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{field}.{key} must be {length} lowercase hex characters, got {value!r}")
    return value
