"""The storage roots a deployment allows backups in, and the one a case chose by name.

A case's ``backup_target`` is a *name*, never a path or a URL: the person who triggers a case picks one
of the roots the operator of the deployment declared, so nobody can send a person's data to
``ftp://anywhere/`` or write WeDrive files into the plugins folder.

``OFFBOARDING_BACKUP_ROOTS`` declares the named roots, either as ``name=url`` pairs separated by ``;``
(or new lines)::

    OFFBOARDING_BACKUP_ROOTS="archive=/mnt/archive/offboarding;oss=s3://corp-offboarding/backups"

or as a JSON object: ``{"archive": "/mnt/archive/offboarding", "oss": "s3://corp-offboarding/backups"}``.

* a name is 1-32 lower-case letters, digits, ``_`` or ``-``, starting with a letter
  (:data:`ROOT_NAME_PATTERN`);
* a root is an absolute local folder (``/mnt/archive``, ``file:///mnt/archive``) or an object-storage URL
  with a bucket (``s3://bucket/prefix``, ``gs://…``, ``az://…``); relative folders, ``..`` parts and
  chained fsspec URLs (``simplecache::s3://…``) are refused;
* an empty ``backup_target`` is the default root, ``$OFFBOARDING_DATA_DIR/cases`` (as before).

A mistake in the variable fails every case's first task with a message naming the variable; an unknown
name fails naming the field ``backup_target`` and the names allowed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import NamedTuple

from offboarding import settings
from offboarding.backup.errors import BackupConfigError, BackupLocationError
from offboarding.backup.redaction import redact_url

ROOT_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
"""What a root's name looks like (also the trigger form's ``backup_target`` pattern, plus empty)."""
DEFAULT_ROOT_NAME = ""
"""The name of the default root (``$OFFBOARDING_DATA_DIR/cases``): an empty ``backup_target``."""
_SCHEME = r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$"  # compiled when first used (``re`` caches it)


class BackupRoot(NamedTuple):
    """One storage root: its name (``""`` for the default) and where it is."""

    name: str
    url: str

    @property
    def scheme(self) -> str:
        """``file`` for a local folder, else the URL's scheme (``s3``, ``gs``…)."""
        match = re.match(_SCHEME, self.url, re.DOTALL)
        return match.group(1).lower() if match else "file"

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    @property
    def label(self) -> str:
        """How people see it: the name, or ``(default)``."""
        return self.name or "(default)"

    @property
    def shown(self) -> str:
        """The root for messages, with any secret in the URL hidden."""
        return redact_url(self.url)


def check_root_url(url: object, *, where: str) -> str:
    """Return ``url`` if it can be a storage root, else raise BackupConfigError naming ``where``."""
    if not isinstance(url, str) or not url.strip():
        raise BackupConfigError(f"{where}: a root must be an absolute folder or a storage URL, got {url!r}")
    url = url.strip()
    if "::" in url:
        raise BackupConfigError(f"{where}: chained storage URLs are not allowed, got {redact_url(url)!r}")
    match = re.match(_SCHEME, url, re.DOTALL)
    if match is None or match.group(1).lower() == "file":
        path = match.group(2) if match else url
        if not path.startswith("/"):
            raise BackupConfigError(f"{where}: a local root must be an absolute folder, got {url!r}")
        if any(part in (".", "..") for part in path.split("/")):
            raise BackupConfigError(f"{where}: a local root must not hold '.' or '..' parts, got {url!r}")
        return url
    rest = match.group(2)
    bucket = rest.split("/", 1)[0].split("@")[-1]
    if not bucket or any(part in (".", "..") for part in rest.split("?")[0].split("/")):
        raise BackupConfigError(
            f"{where}: a storage URL must name a bucket and hold no '.' or '..' parts, got {redact_url(url)!r}"
        )
    return url


def parse_backup_roots(text: str) -> dict[str, str]:
    """The named roots in ``OFFBOARDING_BACKUP_ROOTS`` (``name=url;…`` or a JSON object).

    Raises BackupConfigError naming the variable and what is wrong.
    """
    env = settings.BACKUP_ROOTS_ENV
    text = (text or "").strip()
    if not text:
        return {}
    pairs: list[tuple[object, object]]
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise BackupConfigError(f"{env} is not a valid JSON object: {err}") from None
        if not isinstance(data, Mapping):
            raise BackupConfigError(f"{env} must be a JSON object of name: root")
        pairs = list(data.items())
    else:
        pairs = []
        for item in re.split(r"[;\n]", text):
            if not item.strip():
                continue
            name, equals, url = item.partition("=")
            if not equals:
                raise BackupConfigError(f"{env}: expected name=root, got {redact_url(item.strip())!r}")
            pairs.append((name.strip(), url.strip()))
    roots: dict[str, str] = {}
    for name, url in pairs:
        if not isinstance(name, str) or not re.fullmatch(ROOT_NAME_PATTERN, name):
            raise BackupConfigError(
                f"{env}: root name {name!r} must be 1-32 lower-case letters, digits, '_' or '-' starting "
                "with a letter"
            )
        if name in roots:
            raise BackupConfigError(f"{env}: root name {name!r} is declared twice")
        roots[name] = check_root_url(url, where=f"{env} root {name!r}")
    return roots


def configured_roots() -> dict[str, BackupRoot]:
    """Every root this deployment allows, by name; ``""`` is the default root."""
    roots = {DEFAULT_ROOT_NAME: BackupRoot(DEFAULT_ROOT_NAME, settings.default_backup_root())}
    for name, url in parse_backup_roots(settings.backup_roots_text()).items():
        roots[name] = BackupRoot(name, url)
    return roots


def root_names() -> list[str]:
    """The names a ``backup_target`` may take here (``""`` first: the default root)."""
    return list(configured_roots())


def describe_allowed(roots: Mapping[str, BackupRoot]) -> str:
    named = [n for n in roots if n]
    choices = (
        ", ".join(repr(n) for n in named) if named else f"none are declared in {settings.BACKUP_ROOTS_ENV}"
    )
    return f"empty for the default root, or one of: {choices}"


def resolve_backup_root(name: object) -> BackupRoot:
    """The root a case's ``backup_target`` names (None or ``""``: the default root).

    Raises BackupLocationError naming the field ``backup_target`` and the allowed names when the
    deployment declares no such root (a path or a URL is never a name).
    """
    roots = configured_roots()
    key = DEFAULT_ROOT_NAME if name is None else name
    if isinstance(key, str) and key in roots:
        return roots[key]
    shown = redact_url(name) if isinstance(name, str) else repr(name)
    raise BackupLocationError(
        f"backup_target: {shown!r} is not a storage root of this deployment; use {describe_allowed(roots)} "
        f"(declared by the deployment's operator in {settings.BACKUP_ROOTS_ENV}, never a path or URL)"
    )


def backup_target_problem(value: object) -> str | None:
    """Why ``value`` is not a ``backup_target`` of this deployment, or None when it is one."""
    try:
        resolve_backup_root(value)
    except BackupConfigError as err:
        return str(err).removeprefix("backup_target: ")
    return None


def local_root_path(root: BackupRoot) -> str:
    """The local folder of a local root (``file://`` removed)."""
    match = _SCHEME.match(root.url)
    return os.path.abspath(match.group(2) if match else root.url)


__all__ = [
    "DEFAULT_ROOT_NAME",
    "ROOT_NAME_PATTERN",
    "BackupRoot",
    "backup_target_problem",
    "check_root_url",
    "configured_roots",
    "describe_allowed",
    "local_root_path",
    "parse_backup_roots",
    "resolve_backup_root",
    "root_names",
]
