"""The errors a WeCom call can end with, one class per thing the caller should do about it.

* :class:`WeComConfigError` — the deployment is misconfigured (secret, CorpID, trusted IP, visible range,
  app rights). Raised on the first call, never retried; the message says what to fix.
* :class:`WeComTransientError` — WeCom was busy, a concurrent change conflicted, HTTP 5xx, a timeout or a
  dropped connection. The client retries these with backoff before raising.
* :class:`WeComRateLimited` — WeCom's frequency limit (45009). The client waits out the block first.
* :class:`WeComDataError` — the data is wrong for this call (unknown userid, invalid list, ...): carries
  the item (userid, chat id) when known. Never retried.
* :class:`WeComTokenError` — WeCom rejected a freshly fetched access token as well.

No message ever holds a secret, an access token or a full URL: only the API path and WeCom's errmsg.
"""

from __future__ import annotations

from typing import Any

from offboarding.wecom.errcodes import (
    CONFIG_ERRCODES,
    CREATOR_ERRCODE,
    RATE_LIMITED_ERRCODE,
    TOKEN_ERRCODES,
    TRANSIENT_ERRCODES,
    hint_for,
)
from offboarding.wecom.redact import redact


class WeComError(Exception):
    """A WeCom call failed. ``errcode`` is WeCom's (None when WeCom never answered), ``path`` the API path."""

    def __init__(
        self,
        errcode: int | None,
        errmsg: str,
        path: str,
        *,
        hint: str = "",
        item: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.errcode = errcode
        self.errmsg = redact(errmsg or "")
        self.path = path.split("?", 1)[0]
        self.hint = hint
        self.item = item
        self.http_status = http_status
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """What went wrong and what to do, e.g. ``WeCom rejected the corp secret (40001): check ...``."""
        code = f"{self.errcode}" if self.errcode is not None else f"HTTP {self.http_status or 'error'}"
        hint = self.hint or "WeCom call failed"
        head, sep, tail = hint.partition(": ")
        text = f"{head} ({code}): {tail}" if sep else f"{hint} ({code})"
        if self.item is not None:
            text += f" [item {self.item}]"
        detail = f"{self.errmsg} " if self.errmsg else ""
        return f"{text} — {detail}on {self.path}"

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields survive pickling (Celery results, subprocess hand-offs).
        return (
            self.__class__,
            (self.errcode, self.errmsg, self.path),
            {"hint": self.hint, "item": self.item, "http_status": self.http_status},
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.args = (self.message,)


class WeComConfigError(WeComError):
    """The deployment is misconfigured; fix the connection or the WeCom admin settings."""


class WeComTransientError(WeComError):
    """WeCom or the network failed for a moment; retried with backoff before it is raised."""


class WeComRateLimited(WeComError):
    """WeCom's frequency limit (45009) was hit; the API is blocked for a while."""


class WeComDataError(WeComError):
    """The data is wrong for this call (unknown userid, invalid list, ...); ``item`` names it when known."""


class WeComCreatorCannotBeDeleted(WeComDataError):
    """The member is the creator of the enterprise (301005): transfer the creator role by hand first."""


class WeComTokenError(WeComError):
    """WeCom rejected an access token (40014/42001) even after fetching a new one."""


def error_for(
    errcode: int,
    errmsg: str,
    path: str,
    *,
    corp: str = "",
    where: str = "",
    item: str | None = None,
) -> WeComError:
    """The typed error for a non-zero ``errcode`` returned by ``path``."""
    hint = hint_for(errcode, corp=corp, where=where)
    kind: type[WeComError]
    if errcode in CONFIG_ERRCODES:
        kind = WeComConfigError
    elif errcode in TRANSIENT_ERRCODES:
        kind = WeComTransientError
    elif errcode == RATE_LIMITED_ERRCODE:
        kind = WeComRateLimited
    elif errcode in TOKEN_ERRCODES:
        kind = WeComTokenError
    elif errcode == CREATOR_ERRCODE:
        kind = WeComCreatorCannotBeDeleted
    else:
        kind = WeComDataError
    return kind(errcode, errmsg, path, hint=hint, item=item)
