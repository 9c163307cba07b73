"""``GroupRobot``: post text or markdown to a WeCom group through a robot webhook (群机器人).

The webhook ``key`` is the credential (no access token): it appears only in the request URL, never in
a repr, log line or error. Content limits are enforced before sending (2048 bytes text, 4096 bytes
markdown, UTF-8): shortening a message is the notifier's job, so an oversize one is a ValueError here.
A robot may post 20 messages a minute (45009 beyond), waited out like any frequency limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from offboarding.wecom.errors import WeComConfigError, WeComError, error_for
from offboarding.wecom.http import Timeout, exchange
from offboarding.wecom.paging import unique_strings
from offboarding.wecom.retry import RetryPolicy, run_with_retries

log = logging.getLogger("offboarding.wecom")

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
WEBHOOK_PATH = "/cgi-bin/webhook/send"
TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 4096
# The robot key is wrong, the robot was removed from the group, disabled, or not in the group.
ROBOT_GONE_ERRCODES = frozenset({93000, 93004, 93008})


class GroupRobot:
    """One group robot, identified by its webhook ``key``."""

    def __init__(
        self,
        key: str,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        *,
        timeout: Timeout = (5.0, 30.0),
        verify: bool | str = True,
        retry: RetryPolicy | None = None,
        label: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(key, str) or not key.strip():
            raise ValueError("key must be the robot's webhook key (a non-empty string)")
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self._key = key.strip()
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self.verify = verify
        self.retry = retry or RetryPolicy()
        self.label = label
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"GroupRobot(base_url={self.base_url!r}, key=***)"

    def send_text(self, content: str, mentioned_list: list[str] | None = None) -> None:
        """Post a text message (≤2048 bytes UTF-8); ``mentioned_list`` holds userids or ``@all``.

        WeCom: ``webhook/send``, https://developer.work.weixin.qq.com/document/path/91770
        """
        _check_size(content, TEXT_MAX_BYTES, "text")
        text: dict[str, Any] = {"content": content}
        if mentioned_list:
            text["mentioned_list"] = unique_strings(mentioned_list, "mentioned_list")
        self._send({"msgtype": "text", "text": text})

    def send_markdown(self, content: str) -> None:
        """Post a markdown message (≤4096 bytes UTF-8; WeCom's markdown subset).

        WeCom: ``webhook/send``, https://developer.work.weixin.qq.com/document/path/91770
        """
        _check_size(content, MARKDOWN_MAX_BYTES, "markdown")
        self._send({"msgtype": "markdown", "markdown": {"content": content}})

    def _send(self, body: dict[str, Any]) -> None:
        run_with_retries(self.retry, lambda: self._send_once(body), sleep=self._sleep, what=WEBHOOK_PATH)

    def _send_once(self, body: dict[str, Any]) -> None:
        where = self.label or "the robot webhook key"
        answer, seconds = exchange(
            self.session,
            "POST",
            self.base_url + WEBHOOK_PATH,
            WEBHOOK_PATH,
            params={"key": self._key},
            json=body,
            timeout=self.timeout,
            verify=self.verify,
            where=where,
        )
        errcode = int(answer.get("errcode", 0) or 0)
        log.debug("POST %s errcode=%s in %.3fs", WEBHOOK_PATH, errcode, seconds)
        if errcode == 0:
            return
        error = error_for(errcode, str(answer.get("errmsg", "")), WEBHOOK_PATH, where=where)
        if errcode in ROBOT_GONE_ERRCODES:
            error = WeComConfigError(errcode, error.errmsg, WEBHOOK_PATH, hint=error.hint)
        raise _without_key(error, self._key)


def _without_key(error: WeComError, key: str) -> WeComError:
    """The same error with the key masked, should WeCom ever echo it back."""
    if key not in error.errmsg:
        return error
    return type(error)(error.errcode, error.errmsg.replace(key, "***"), error.path, hint=error.hint)


def _check_size(content: str, max_bytes: int, kind: str) -> None:
    if not isinstance(content, str) or not content.strip():
        raise ValueError(f"{kind} content must be non-empty text")
    size = len(content.encode("utf-8"))
    if size > max_bytes:
        raise ValueError(
            f"{kind} content is {size} bytes in UTF-8; a WeCom robot accepts at most {max_bytes} "
            "(shorten it before sending)"
        )
