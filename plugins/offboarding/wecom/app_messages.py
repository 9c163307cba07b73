"""``AppMessages``: send text or markdown app messages (应用消息) to members as the app ``agent_id``.

WeCom answers errcode 0 even when some recipients are unknown; they come back in ``invaliduser``
("a|b"), which :class:`MessageResult` exposes as a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from offboarding.wecom.client import WeComClient
from offboarding.wecom.paging import unique_strings

MAX_RECIPIENTS = 1000
TEXT_MAX_BYTES = 2048
MARKDOWN_MAX_BYTES = 2048


@dataclass(frozen=True)
class MessageResult:
    """What WeCom said about a sent message: its id and the recipients it did not know."""

    msgid: str
    invaliduser: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every recipient was known."""
        return not self.invaliduser


class AppMessages:
    """App message calls of one client for the app ``agent_id``."""

    def __init__(self, client: WeComClient, agent_id: int) -> None:
        if isinstance(agent_id, bool) or not isinstance(agent_id, int) or agent_id <= 0:
            raise ValueError(f"agent_id must be the app's positive AgentId, got {agent_id!r}")
        self.client = client
        self.agent_id = agent_id

    def send_text(self, touser: Iterable[str], content: str) -> MessageResult:
        """Send a text message to members.

        WeCom: ``message/send``, https://developer.work.weixin.qq.com/document/path/90236
        """
        return self._send(touser, "text", content, TEXT_MAX_BYTES)

    def send_markdown(self, touser: Iterable[str], content: str) -> MessageResult:
        """Send a markdown message to members (WeCom's markdown subset).

        WeCom: ``message/send``, https://developer.work.weixin.qq.com/document/path/90236
        """
        return self._send(touser, "markdown", content, MARKDOWN_MAX_BYTES)

    def _send(self, touser: Iterable[str], msgtype: str, content: str, max_bytes: int) -> MessageResult:
        users = unique_strings(touser, "touser")
        if not users:
            raise ValueError("touser must name at least one member")
        if len(users) > MAX_RECIPIENTS:
            raise ValueError(
                f"touser may name at most {MAX_RECIPIENTS} members per message, got {len(users)}"
            )
        _check_content(content, max_bytes)
        body: dict[str, Any] = {
            "touser": "|".join(users),
            "msgtype": msgtype,
            "agentid": self.agent_id,
            msgtype: {"content": content},
        }
        answer = self.client.post("message/send", body)
        invalid = [u for u in str(answer.get("invaliduser") or "").split("|") if u]
        return MessageResult(str(answer.get("msgid") or ""), invalid)


def _check_content(content: str, max_bytes: int) -> None:
    if not isinstance(content, str) or not content.strip():
        raise ValueError("content must be non-empty text")
    size = len(content.encode("utf-8"))
    if size > max_bytes:
        raise ValueError(f"content is {size} bytes in UTF-8; WeCom allows at most {max_bytes}")
