"""``WeComAppMessageNotifier``: send an app message (应用消息) to WeCom members from a callback.

Usage::

    on_failure_callback=WeComAppMessageNotifier(
        wecom_conn_id="wecom_default",
        touser=["zhangsan", "lisi"],
        markdown="**{{ dag.dag_id }}**: `{{ ti.task_id }}` failed",
    )

The message comes from the self-built app of the ``wecom`` connection (its AgentId and app secret).
Members WeCom does not know are named in a warning; when nobody could receive it WeCom refuses the
message and the notifier raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import cached_property

from airflow.sdk import BaseNotifier, Context

from offboarding.hooks.wecom import WeComHook
from offboarding.wecom import MessageResult
from offboarding.wecom.content import APP_MESSAGE_MAX_BYTES, fit_to_bytes, message_content


def recipients(touser: str | Sequence[str], owner: str = "WeComAppMessageNotifier") -> list[str]:
    """``"a|b"``, ``"a,b"`` or ``["a", "b"]`` as a list of userids; ValueError naming ``touser``."""
    if isinstance(touser, str):
        names = touser.replace(",", "|").split("|")
    elif isinstance(touser, Sequence) and all(isinstance(u, str) for u in touser):
        names = list(touser)
    else:
        raise ValueError(f"{owner}: touser must be userids ('a|b' or a list), got {touser!r}")
    users = [n.strip() for n in names if n and n.strip()]
    if not users:
        raise ValueError(f"{owner}: touser must name at least one WeCom userid")
    return list(dict.fromkeys(users))


class WeComAppMessageNotifier(BaseNotifier):
    """Send ``text`` or ``markdown`` (templated) to the members ``touser`` as the app of ``wecom_conn_id``.

    :param wecom_conn_id: Airflow connection of type ``wecom`` with the app secret and ``agent_id``.
    :param touser: WeCom userids, as a list or ``"a|b"`` (templated).
    :param text: plain text; :param markdown: WeCom markdown. Exactly one; cut to 2048 bytes.
    """

    template_fields = ("wecom_conn_id", "touser", "text", "markdown")

    def __init__(
        self,
        *,
        wecom_conn_id: str = WeComHook.default_conn_name,
        touser: str | Sequence[str],
        text: str | None = None,
        markdown: str | None = None,
        context: Context | None = None,
    ) -> None:
        super().__init__(context=context)
        message_content(text=text, markdown=markdown, owner="WeComAppMessageNotifier")
        if not (isinstance(touser, str) and "{{" in touser):  # a template is checked after rendering
            recipients(touser)
        self.wecom_conn_id = wecom_conn_id
        self.touser = touser
        self.text = text
        self.markdown = markdown

    @cached_property
    def hook(self) -> WeComHook:
        """The WeCom hook of ``wecom_conn_id`` (created on first use, after templates are rendered)."""
        return WeComHook(self.wecom_conn_id)

    def send(self) -> MessageResult:
        """Send the (rendered) message now; returns WeCom's answer."""
        msgtype, content = message_content(
            text=self.text, markdown=self.markdown, owner="WeComAppMessageNotifier"
        )
        users = recipients(self.touser)
        fitted = fit_to_bytes(content, APP_MESSAGE_MAX_BYTES)
        messages = self.hook.app_messages
        result = (
            messages.send_text(users, fitted) if msgtype == "text" else messages.send_markdown(users, fitted)
        )
        if result.invaliduser:
            self.log.warning(
                "WeCom does not know %s: they did not get the message (connection %s)",
                ", ".join(result.invaliduser),
                self.wecom_conn_id,
            )
        return result

    def notify(self, context: Context) -> None:
        """Send the rendered message."""
        self.send()

    async def async_notify(self, context: Context) -> None:
        """:meth:`notify` in the triggerer: the HTTP calls run in a worker thread."""
        await asyncio.to_thread(self.send)

    def __repr__(self) -> str:
        return f"WeComAppMessageNotifier(wecom_conn_id={self.wecom_conn_id!r})"


#: Function-style alias, as Airflow's providers offer.
send_wecom_app_message_notification = WeComAppMessageNotifier

__all__ = ["WeComAppMessageNotifier", "recipients", "send_wecom_app_message_notification"]
