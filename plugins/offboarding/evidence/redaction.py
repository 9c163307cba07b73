"""Making a request or a WeCom read-back safe to record: secrets hidden, values plain JSON."""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from offboarding.backup.redaction import REDACTED, redact_url

SECRET_NAME_PARTS = ("secret", "token", "key", "password", "passwd")
"""A mapping key containing any of these (any case) has its value replaced by ``***``."""


def is_secret_name(name: str) -> bool:
    """True for names like ``corpsecret``, ``access_token``, ``webhook_key``, ``db_password``."""
    lowered = name.lower()
    return any(part in lowered for part in SECRET_NAME_PARTS)


def redact_for_evidence(value: Any, *, field: str) -> Any:
    """Return ``value`` as plain JSON with secrets hidden; raise TypeError naming the field otherwise.

    Mapping values under secret-looking keys become ``***``; ``name=value`` secrets inside strings
    (URLs with ``access_token=``, ``corpsecret=``, ``key=``) are hidden; datetimes and dates become ISO
    text, tuples and lists become lists, enums their value, paths text. Bytes, sets, NaN and other
    objects are refused: record a checksum, a size or a summary instead.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"{field}: {value!r} cannot be recorded as JSON")
        return value
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, enum.Enum):
        return redact_for_evidence(value.value, field=field)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return redact_url(os.fspath(value))
    if isinstance(value, Mapping):
        safe: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{field}: keys must be strings, got {key!r}")
            safe[key] = REDACTED if is_secret_name(key) else redact_for_evidence(item, field=f"{field}.{key}")
        return safe
    if isinstance(value, list | tuple):
        return [redact_for_evidence(item, field=f"{field}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"{field}: bytes cannot be recorded as evidence; record a sha256 or a size instead")
    raise TypeError(f"{field}: a {type(value).__name__} cannot be recorded as JSON evidence")
