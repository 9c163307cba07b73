"""Removing secrets from text before it goes into a message, a repr or an evidence file."""

from __future__ import annotations

import re

REDACTED = "***"

_SECRET_WORDS = "secret|token|key|password|passwd"
_SECRET_PARAMETER = re.compile(
    rf"(?i)(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]*(?:{_SECRET_WORDS})[A-Za-z0-9_.-]*=)[^&#\s\"',;)]+"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@")


def redact_url(text: str) -> str:
    """Hide secret values in a URL or any text holding URL-style ``name=value`` pairs.

    ``access_token=…``, ``corpsecret=…``, ``key=…`` and any parameter whose name contains secret, token,
    key or password get ``***`` as value; a password in ``scheme://user:password@host`` is hidden too.
    """
    text = _URL_USERINFO.sub(rf"\1:{REDACTED}@", text)
    return _SECRET_PARAMETER.sub(rf"\1{REDACTED}", text)
