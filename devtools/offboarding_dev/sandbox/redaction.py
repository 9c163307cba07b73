"""Redaction of credentials (access_token, corpsecret, key) from URLs before anything is logged."""

from __future__ import annotations

import re

_SECRET_QUERY = re.compile(r"(?i)\b(access_token|corpsecret|key)=[^&\s\"']*")


def redact_url(text: str) -> str:
    """``text`` with the values of access_token=, corpsecret= and key= replaced by ``***``."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", text)
