"""Rehearsal time: compress the waiting, never the legal answers.

In a rehearsal against the WeCom sandbox, a case can run with ``time_scale`` F > 1. Every legal
deadline D is still computed exactly (the same day, the same 24:00); only the wall-clock moment the
run wakes up is brought forward: a deadline D whose clock started at the real instant A is reached
at wall time ``A + (D - A) / F``. With F = 86400 a 45-day notice period passes in 45 seconds.

Compressed time is refused against anything but a sandbox on loopback, so a production case can
never skip a legal wait.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import re
from urllib.parse import urlsplit

import pendulum

from offboarding.legal_time.clock import require_aware

_SECRET_QUERY = re.compile(r"(?i)\b(access_token|corpsecret|key)=[^&#\s]*")


def redact_url(url: str) -> str:
    """``url`` with the values of ``access_token=``, ``corpsecret=`` and ``key=`` replaced by ``***``."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", url)


def validate_time_scale(scale: object) -> float:
    """``scale`` as a float ≥ 1; a clear ValueError naming ``time_scale`` otherwise."""
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise ValueError(f"time_scale must be a number >= 1, got {scale!r}")
    value = float(scale)
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"time_scale must be a number >= 1 (1 = real time), got {scale!r}")
    return value


def _scale_text(scale: float) -> str:
    return str(int(scale)) if scale.is_integer() else repr(scale)


def is_loopback_url(base_url: str) -> bool:
    """True when ``base_url``'s host is 127.0.0.0/8, ::1 or localhost."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def check_time_scale(scale: float, base_url: str, *, conn_id: str = "wecom_default") -> None:
    """Refuse compressed time unless the WeCom connection points at a sandbox on loopback.

    ``time_scale`` 1 is always allowed; any other value (≥ 1) only when ``base_url``'s host is
    loopback. ``conn_id`` names the connection in the error message.
    """
    value = validate_time_scale(scale)
    if value == 1:
        return
    if not isinstance(base_url, str) or not urlsplit(base_url).hostname:
        raise ValueError(f"base_url must be a URL like http://127.0.0.1:8000, got {base_url!r}")
    if not is_loopback_url(base_url):
        raise ValueError(
            f"time_scale={_scale_text(value)} compresses legal waits and is only allowed against the "
            f"WeCom sandbox on loopback; connection {conn_id} points at {redact_url(base_url)}"
        )


def wall_time_for(deadline: dt.datetime, anchor: dt.datetime, scale: float) -> pendulum.DateTime:
    """The wall-clock instant (UTC) at which a rehearsal reaches the legal instant ``deadline``.

    ``anchor`` is the real instant the legal clock started. With ``scale`` 1 this is ``deadline``.
    """
    legal = require_aware(deadline, "deadline")
    start = require_aware(anchor, "anchor")
    value = validate_time_scale(scale)
    if value == 1:
        return legal.in_timezone("UTC")
    return (start + (legal - start) / value).in_timezone("UTC")
