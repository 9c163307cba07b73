"""Removing secrets from text before it goes into a message, a repr or an evidence file."""

from __future__ import annotations

import re

REDACTED = "***"

# Compiled when first used (``re`` caches them), not when a DAG file that names a storage root is parsed.
_SECRET_WORDS = "secret|token|key|password|passwd"
_SECRET_PARAMETER = (
    rf"(?i)(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]*(?:{_SECRET_WORDS})[A-Za-z0-9_.-]*=)[^&#\s\"',;)]+"
)
_URL_USERINFO = r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@"


def redact_url(text: str) -> str:
    """Hide secret values in a URL or any text holding URL-style ``name=value`` pairs.

    ``access_token=…``, ``corpsecret=…``, ``key=…`` and any parameter whose name contains secret, token,
    key or password get ``***`` as value; a password in ``scheme://user:password@host`` is hidden too.
    """
    text = re.sub(_URL_USERINFO, rf"\1:{REDACTED}@", text)
    return re.sub(_SECRET_PARAMETER, rf"\1{REDACTED}", text)
