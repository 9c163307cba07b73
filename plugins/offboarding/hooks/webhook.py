"""``WeComWebhookHook``: a WeCom group robot (群机器人), configured from an Airflow Connection.

The connection (conn type ``wecom_webhook``) holds the robot's webhook **key** as its password and
WeCom's base URL as its host (default ``https://qyapi.weixin.qq.com``; https only, plain http to a
loopback sandbox only: :mod:`offboarding.hooks.connection_rules`)::

    AIRFLOW_CONN_WECOM_ROBOT_OPS='{"conn_type": "wecom_webhook", "host": "https://qyapi.weixin.qq.com",
      "password": "<the key= value of the robot's webhook URL>"}'

Every message goes through the robot's shared queue (:mod:`offboarding.wecom.robot_queue`), so the
processes of one host (or of the deployment, with Redis) together stay within 20 messages a minute:
a burst waits or is merged, a 45009 answer is waited out and retried, nothing is dropped silently.
Content longer than WeCom's limit is cut at a character boundary with a "…(truncated)" marker.
The key never appears in a log line, an error or a repr.
"""

from __future__ import annotations

import asyncio
import hashlib
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from offboarding import settings
from offboarding.hooks.connection_rules import WEBHOOK_CONN_TYPE, require_conn_type, require_secure_url
from offboarding.wecom.content import ROBOT_LIMITS, fit_to_bytes
from offboarding.wecom.redact import install_log_redaction
from offboarding.wecom.retry import RetryPolicy
from offboarding.wecom.robot_queue import (
    MAX_WAIT_SECONDS,
    RATE_LIMIT_BLOCK_SECONDS,
    Outgoing,
    RobotQueue,
)
from offboarding.wecom.shared_state import robot_state_for

if TYPE_CHECKING:
    from offboarding.wecom.group_robot import GroupRobot


def _mask(secret: str | None) -> None:
    """Register the key with Airflow's log masker (best effort outside a task)."""
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except Exception:  # pragma: no cover - masking must never break sending
        pass


def robot_id(key: str) -> str:
    """A stable, non-reversible name for a robot (file and Redis names use it, never the key)."""
    return "robot-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


class WeComWebhookHook(BaseHook):
    """Post text or markdown to one WeCom group through its robot's webhook key."""

    conn_name_attr = "wecom_webhook_conn_id"
    default_conn_name = "wecom_webhook_default"
    conn_type = "wecom_webhook"
    hook_name = "WeCom group robot (群机器人)"

    def __init__(
        self,
        wecom_webhook_conn_id: str = default_conn_name,
        *,
        timeout: float = 30.0,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        rate_limit_block_seconds: float = RATE_LIMIT_BLOCK_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(wecom_webhook_conn_id, str) or not wecom_webhook_conn_id.strip():
            raise ValueError("wecom_webhook_conn_id must name an Airflow connection of type wecom_webhook")
        self.wecom_webhook_conn_id = wecom_webhook_conn_id
        self.timeout = timeout
        self.max_wait_seconds = max_wait_seconds
        self.rate_limit_block_seconds = rate_limit_block_seconds
        self._connection: Any = None

    def __repr__(self) -> str:
        return f"WeComWebhookHook(wecom_webhook_conn_id={self.wecom_webhook_conn_id!r})"

    @property
    def label(self) -> str:
        return f"robot of connection {self.wecom_webhook_conn_id}"

    # -- connection --------------------------------------------------------------------------
    @property
    def connection(self) -> Any:
        if self._connection is None:
            self._use_connection(self.get_connection(self.wecom_webhook_conn_id))
        return self._connection

    async def aconnection(self) -> Any:
        """The connection, read with the async API (in the triggerer)."""
        if self._connection is None:
            self._use_connection(await self.aget_connection(self.wecom_webhook_conn_id))
        return self._connection

    def _use_connection(self, conn: Any) -> None:
        require_conn_type(self.wecom_webhook_conn_id, conn.conn_type, WEBHOOK_CONN_TYPE)
        if not (conn.password or "").strip():
            raise ValueError(
                f"connection {self.wecom_webhook_conn_id}: the robot key (Password) is empty; paste the "
                "key= value of the robot's webhook URL"
            )
        _mask(conn.password.strip())
        self._connection = conn

    @property
    def base_url(self) -> str:
        conn = self.connection
        host = (conn.host or "").strip()
        if not host:
            from offboarding.wecom.group_robot import DEFAULT_BASE_URL  # imports requests: at send time

            return DEFAULT_BASE_URL
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "https"
            host = f"{scheme}://{host}"
        if conn.port:
            host = f"{host.rstrip('/')}:{conn.port}"
        return require_secure_url(self.wecom_webhook_conn_id, host.rstrip("/"))

    @cached_property
    def robot(self) -> GroupRobot:
        """The HTTP side; 45009 is not retried here but by the queue, which tells every process."""
        from offboarding.wecom.group_robot import GroupRobot  # imports requests: not at DAG parse time

        install_log_redaction()  # urllib3 logs request URLs, key= included, at DEBUG
        return GroupRobot(
            self.connection.password.strip(),
            self.base_url,
            timeout=(5.0, self.timeout),
            retry=RetryPolicy(rate_limit_retries=0),
            label=f"connection {self.wecom_webhook_conn_id}",
        )

    @cached_property
    def queue(self) -> RobotQueue:
        """The robot's queue shared by every process of this host (or deployment, with Redis)."""
        return RobotQueue(
            robot_state_for(robot_id(self.connection.password.strip()), settings.data_dir()),
            rate_limit_block_seconds=self.rate_limit_block_seconds,
            max_wait_seconds=self.max_wait_seconds,
            label=self.label,
        )

    # -- sending -----------------------------------------------------------------------------
    def send_text(self, content: str, mentioned_list: list[str] | None = None) -> None:
        """Post text (cut to 2048 bytes); ``mentioned_list`` holds WeCom userids or ``@all``."""
        self._deliver("text", content, mentioned_list)

    def send_markdown(self, content: str) -> None:
        """Post markdown (WeCom's subset; cut to 4096 bytes)."""
        self._deliver("markdown", content, None)

    async def async_send_text(self, content: str, mentioned_list: list[str] | None = None) -> None:
        """:meth:`send_text` without blocking the event loop (for the triggerer)."""
        await self._adeliver("text", content, mentioned_list)

    async def async_send_markdown(self, content: str) -> None:
        """:meth:`send_markdown` without blocking the event loop (for the triggerer)."""
        await self._adeliver("markdown", content, None)

    def _deliver(self, msgtype: str, content: str, mentioned_list: list[str] | None) -> None:
        self.base_url  # noqa: B018 - connection type and https checked before anything is queued
        fitted = _fit(msgtype, content)
        self.queue.deliver(msgtype, fitted, self._post, mentioned_list)
        self.log.info("Posted a %s message through the %s", msgtype, self.label)

    async def _adeliver(self, msgtype: str, content: str, mentioned_list: list[str] | None) -> None:
        await self.aconnection()
        self.base_url  # noqa: B018 - connection type and https checked before anything is queued
        fitted = _fit(msgtype, content)

        async def post(outgoing: Outgoing) -> None:
            await asyncio.to_thread(self._post, outgoing)

        await self.queue.adeliver(msgtype, fitted, post, mentioned_list)
        self.log.info("Posted a %s message through the %s", msgtype, self.label)

    def _post(self, outgoing: Outgoing) -> None:
        if outgoing.merged > 1:
            self.log.info("Posting %d queued messages merged into one (robot limit)", outgoing.merged)
        if outgoing.msgtype == "text":
            self.robot.send_text(outgoing.content, outgoing.mentioned_list or None)
        else:
            self.robot.send_markdown(outgoing.content)

    # -- Airflow UI --------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Check the connection's fields without posting (a test message would reach the group)."""
        try:
            base = self.base_url
        except ValueError as err:
            return False, str(err)
        return True, f"Robot key present; messages go to {base}/cgi-bin/webhook/send"


def _fit(msgtype: str, content: str) -> str:
    if msgtype not in ROBOT_LIMITS:
        raise ValueError(f"msgtype must be one of {', '.join(ROBOT_LIMITS)}, got {msgtype!r}")
    if not isinstance(content, str) or not content.strip():
        raise ValueError(f"{msgtype} content must be non-empty text")
    return fit_to_bytes(content, ROBOT_LIMITS[msgtype])
