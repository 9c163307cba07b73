"""Backup file names for WeDrive files: safe on any file system, unique, and the same on every rerun.

WeDrive allows names a backup folder cannot hold as they are (slashes, control characters, ``..``,
very long names) and two files of the same name in one folder. :func:`safe_name` makes one name safe;
:class:`UniquePaths` hands out backup paths, giving a name that is already taken (also by a folder, or
differing only in letter case) a suffix derived from the WeDrive fileid, so a rerun picks the same path.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
"""Characters replaced by ``_``: separators, control characters and what Windows refuses."""
MAX_NAME_BYTES = 150
"""Longest name kept (UTF-8 bytes); the backup store accepts 200, the suffix needs the rest."""
MAX_EXTENSION_CHARS = 16


def safe_name(name: str) -> str:
    """``name`` as one safe path part: NFC, unsafe characters as ``_``, no trailing dots or spaces,
    never empty, ``.`` or ``..``, at most 150 UTF-8 bytes (the extension kept)."""
    text = UNSAFE_CHARACTERS.sub("_", unicodedata.normalize("NFC", str(name)))
    text = text.strip(" ").rstrip(". ")
    if text in ("", ".", ".."):
        text = "_"
    if len(text.encode()) <= MAX_NAME_BYTES:
        return text
    stem, extension = split_extension(text)
    budget = MAX_NAME_BYTES - len(extension.encode())
    return _cut(stem, budget) + extension


def split_extension(name: str) -> tuple[str, str]:
    """``"报价单.csv"`` -> ``("报价单", ".csv")``; no extension for dot files or long "extensions"."""
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > MAX_EXTENSION_CHARS:
        return name, ""
    return name[:dot], name[dot:]


def _cut(text: str, budget: int) -> str:
    """The longest prefix of ``text`` that fits in ``budget`` UTF-8 bytes (never half a character)."""
    data = text.encode()[:budget]
    return data.decode("utf-8", errors="ignore") or "_"


class UniquePaths:
    """Hands out distinct backup paths under fixed parents; ``reserve`` keeps paths for other files."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def reserve(self, path: str) -> None:
        """Mark ``path`` as used (e.g. the index file), so no WeDrive file or folder is given it."""
        self._taken.add(path.casefold())

    def claim(self, parent: str, name: str, unique_id: str) -> str:
        """A free path ``<parent>/<safe name>``; when taken, ``<stem>~<8 hex of unique_id><ext>``."""
        wanted = safe_name(name)
        path = f"{parent}/{wanted}"
        if path.casefold() in self._taken:
            stem, extension = split_extension(wanted)
            tag = hashlib.sha256(unique_id.encode()).hexdigest()[:8]
            base = _cut(stem, MAX_NAME_BYTES - len(extension.encode()) - 10)
            path = f"{parent}/{base}~{tag}{extension}"
            number = 2
            while path.casefold() in self._taken:
                path = f"{parent}/{base}~{tag}-{number}{extension}"
                number += 1
        self._taken.add(path.casefold())
        return path
