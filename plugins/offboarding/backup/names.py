"""Checks for the names that make up a backup location: the case id and a file's path inside the case."""

from __future__ import annotations

import re

CASE_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~+-]{0,199}$")
"""A case id is one safe path component: it names the case folder under the backup root.

Besides letters, digits, ``.``, ``_`` and ``-`` it may hold ``~`` and ``+``: the person case id spells a
userid's ``@`` as ``~`` and puts ``+`` between consecutive dots (see :mod:`offboarding.cases.case_ids`),
so ``offboard-zhang.san~corp`` is the case of ``zhang.san@corp``. It starts with a letter or digit and
holds no ``..``, so it is never ``.``/``..``, never a hidden folder and never a path."""


def check_case_id(case_id: object) -> str:
    """Return ``case_id`` if it can name a case folder, else raise ValueError naming the field."""
    if not isinstance(case_id, str) or not CASE_ID_PATTERN.fullmatch(case_id) or ".." in case_id:
        raise ValueError(
            "case_id must be 1-200 characters of letters, digits, '.', '_', '~', '+' or '-' starting with "
            f"a letter or digit, without '..', got {case_id!r}"
        )
    return case_id


def check_relpath(relpath: object, *, field: str = "relpath") -> str:
    """Return ``relpath`` if it is a safe relative path inside a case folder, else raise ValueError.

    Forward slashes separate folders; absolute paths, ``.``/``..`` parts, empty parts, backslashes and
    control characters are refused so that no write can escape the case folder.
    """
    if not isinstance(relpath, str) or not relpath:
        raise ValueError(
            f"{field} must be a non-empty relative path like 'wedrive/report.pdf', got {relpath!r}"
        )
    if relpath.startswith("/"):
        raise ValueError(f"{field} must be relative to the case folder, got absolute path {relpath!r}")
    if "\\" in relpath or any(ord(ch) < 32 or ord(ch) == 127 for ch in relpath):
        raise ValueError(f"{field} must not contain backslashes or control characters, got {relpath!r}")
    for part in relpath.split("/"):
        if part in ("", ".", ".."):
            raise ValueError(f"{field} must not contain empty, '.' or '..' parts, got {relpath!r}")
        if len(part.encode("utf-8")) > 200:
            raise ValueError(f"{field} has a part longer than 200 bytes: {part[:40]!r}…")
    return relpath
