"""Keep credentials out of messages and logs: ``redact(text)`` and a log filter for urllib3.

WeCom puts credentials in URLs (``access_token=``, ``corpsecret=``, the robot's ``key=``) and requests'
exceptions and urllib3's debug lines repeat those URLs verbatim. Everything this package puts into an
exception or a log line goes through :func:`redact` first.
"""

from __future__ import annotations

import logging
import re

# Query parameters and JSON/dict fields whose values are credentials.
SECRET_NAMES = ("access_token", "corpsecret", "secret", "key", "cookie_value", "ticket")

_NAMES = "|".join(SECRET_NAMES)
_QUERY_VALUE = re.compile(rf"(?<![A-Za-z0-9_])({_NAMES})=([^&\s'\"#)]+)", re.IGNORECASE)
_MAPPING_VALUE = re.compile(rf"""(["']({_NAMES})["']\s*:\s*["'])([^"']+)(["'])""", re.IGNORECASE)

MASK = "***"


def redact(text: str) -> str:
    """Return ``text`` with every credential value (URL query or mapping field) replaced by ``***``."""
    text = _QUERY_VALUE.sub(lambda m: f"{m.group(1)}={MASK}", text)
    return _MAPPING_VALUE.sub(lambda m: f"{m.group(1)}{MASK}{m.group(4)}", text)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites a record's message with :func:`redact` (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix; leave the record alone
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# urllib3 logs every request line (with the query string) at DEBUG on this logger.
THIRD_PARTY_URL_LOGGERS = ("urllib3.connectionpool",)


def install_log_redaction() -> None:
    """Attach one :class:`RedactingFilter` to the third-party loggers that print request URLs."""
    for name in THIRD_PARTY_URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
