"""``WeComRobotNotifier``: post to a WeCom group robot from a callback, a human step or a Deadline Alert.

Usage, like Airflow's ``SlackWebhookNotifier``::

    on_failure_callback=WeComRobotNotifier(
        wecom_webhook_conn_id="wecom_robot_ops",
        markdown="**{{ dag.dag_id }}** failed at `{{ ti.task_id }}`",
    )

or as a Deadline Alert callback in the triggerer (see :func:`offboarding.alerting.case_deadline_alert`)::

    AsyncCallback(WeComRobotNotifier, kwargs={"wecom_webhook_conn_id": "wecom_robot_ops", "text": "..."})
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier, Context

if TYPE_CHECKING:  # a Deadline Alert names this class; Airflow imports it when the DAG file is parsed
    from offboarding.hooks.webhook import WeComWebhookHook

DEFAULT_CONN_ID = "wecom_webhook_default"
"""``WeComWebhookHook.default_conn_name``."""


class WeComRobotNotifier(BaseNotifier):
    """Post ``text`` or ``markdown`` (templated) through the group robot of ``wecom_webhook_conn_id``.

    :param wecom_webhook_conn_id: Airflow connection of type ``wecom_webhook`` (password = robot key).
    :param text: plain text, at most 2048 bytes (longer is cut with a "…(truncated)" marker).
    :param markdown: WeCom markdown, at most 4096 bytes. Give exactly one of ``text`` and ``markdown``.
    :param mentioned_list: WeCom userids (or ``@all``) to mention; text messages only.
    """

    template_fields = ("wecom_webhook_conn_id", "text", "markdown", "mentioned_list")

    def __init__(
        self,
        *,
        wecom_webhook_conn_id: str = DEFAULT_CONN_ID,
        text: str | None = None,
        markdown: str | None = None,
        mentioned_list: Sequence[str] | None = None,
        context: Context | None = None,
    ) -> None:
        super().__init__(context=context)
        _message_content(text=text, markdown=markdown, owner="WeComRobotNotifier")
        if mentioned_list is not None and markdown is not None:
            raise ValueError(
                "WeComRobotNotifier: mentioned_list works with text only; in markdown write <@userid>"
            )
        if mentioned_list is not None and (
            isinstance(mentioned_list, str) or not all(isinstance(u, str) and u for u in mentioned_list)
        ):
            raise ValueError(
                f"WeComRobotNotifier: mentioned_list must be a list of userids, got {mentioned_list!r}"
            )
        self.wecom_webhook_conn_id = wecom_webhook_conn_id
        self.text = text
        self.markdown = markdown
        self.mentioned_list = list(mentioned_list) if mentioned_list is not None else None

    @cached_property
    def hook(self) -> WeComWebhookHook:
        """The robot's hook (created on first use, after templates are rendered)."""
        from offboarding.hooks.webhook import WeComWebhookHook

        return WeComWebhookHook(self.wecom_webhook_conn_id)

    def _message(self) -> tuple[str, str]:
        return _message_content(text=self.text, markdown=self.markdown, owner="WeComRobotNotifier")

    def notify(self, context: Context) -> None:
        """Post the rendered message (waits for a free slot of the robot when needed)."""
        msgtype, content = self._message()
        if msgtype == "text":
            self.hook.send_text(content, self.mentioned_list)
        else:
            self.hook.send_markdown(content)

    async def async_notify(self, context: Context) -> None:
        """:meth:`notify` in the triggerer (Deadline Alert ``AsyncCallback``); never blocks the loop."""
        msgtype, content = self._message()
        if msgtype == "text":
            await self.hook.async_send_text(content, self.mentioned_list)
        else:
            await self.hook.async_send_markdown(content)

    def __repr__(self) -> str:
        return f"WeComRobotNotifier(wecom_webhook_conn_id={self.wecom_webhook_conn_id!r})"


#: Function-style alias, as Airflow's providers offer (``send_slack_webhook_notification``).
send_wecom_robot_notification = WeComRobotNotifier

__all__ = ["WeComRobotNotifier", "send_wecom_robot_notification"]


def _message_content(**kwargs: Any) -> tuple[str, str]:
    from offboarding.wecom.content import message_content

    return message_content(**kwargs)
