"""App messages and the group robot against the sandbox: delivery, invalid users, limits, no key leaks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from offboarding.wecom import (
    AppMessages,
    GroupRobot,
    RetryPolicy,
    WeComClient,
    WeComConfigError,
    WeComRateLimited,
)


def test_app_text_reports_invalid_users(client: WeComClient, sandbox: Any) -> None:
    result = AppMessages(client, sandbox.agent_id).send_text(["lisi", "no_such_member"], "请完成交接")
    assert result.invaliduser == ["no_such_member"] and not result.ok and result.msgid
    received = sandbox.control.messages()
    assert len(received) == 1 and "请完成交接" in str(received[0])


def test_app_markdown_is_delivered(client: WeComClient, sandbox: Any) -> None:
    result = AppMessages(client, sandbox.agent_id).send_markdown(["lisi"], "**注销账号** 指引")
    assert result.ok
    assert "注销账号" in str(sandbox.control.messages()[-1])


@pytest.mark.parametrize(
    ("touser", "content", "error"),
    [([], "hi", "touser"), (["lisi"], "", "content"), (["lisi"], "字" * 700, "2048")],
)
def test_app_message_input_is_checked_before_sending(
    client: WeComClient,
    sandbox: Any,
    calls: Callable[[str], int],
    touser: list[str],
    content: str,
    error: str,
) -> None:
    with pytest.raises(ValueError, match=error):
        AppMessages(client, sandbox.agent_id).send_text(touser, content)
    assert calls("/cgi-bin/message/send") == 0


def test_agent_id_is_checked() -> None:
    with pytest.raises(ValueError, match="agent_id"):
        AppMessages(None, 0)  # type: ignore[arg-type]


# -- group robot -----------------------------------------------------------------------------------
def robot(sandbox: Any, key: str | None = None, **kwargs: Any) -> GroupRobot:
    return GroupRobot(key or sandbox.webhook_key, base_url=sandbox.base_url, **kwargs)


def test_robot_text_with_mentions_and_markdown(sandbox: Any) -> None:
    bot = robot(sandbox)
    bot.send_text("交接完成", mentioned_list=["wangwu"])
    bot.send_markdown('## 交接完成\n>负责人:<font color="info">王五</font>')
    received = sandbox.control.webhook_messages()
    assert [m.get("msgtype") or m["body"]["msgtype"] for m in received] == ["text", "markdown"]
    assert "wangwu" in str(received[0]) and sandbox.webhook_key not in str(received)


@pytest.mark.parametrize(("method", "limit"), [("send_text", 2048), ("send_markdown", 4096)])
def test_robot_refuses_oversize_content_before_sending(
    sandbox: Any, calls: Callable[[str], int], method: str, limit: int
) -> None:
    content = "字" * (limit // 3 + 1)  # 3 bytes each in UTF-8: just over the byte limit
    with pytest.raises(ValueError, match=str(limit)):
        getattr(robot(sandbox), method)(content)
    assert calls("/cgi-bin/webhook/send") == 0
    getattr(robot(sandbox), method)("字" * (limit // 3))  # at the limit it goes


def test_robot_bad_key_is_a_config_error_without_the_key(sandbox: Any) -> None:
    key = "robot-key-that-must-not-leak"
    with pytest.raises(WeComConfigError) as caught:
        robot(sandbox, key).send_text("hi")
    assert caught.value.errcode == 93000
    assert key not in str(caught.value) and key not in repr(robot(sandbox, key))


def test_robot_over_20_messages_a_minute_is_rate_limited(sandbox: Any) -> None:
    if time.time() % 60 > 50:  # keep all sends inside one wall-clock minute (the sandbox counts per minute)
        time.sleep(60 - time.time() % 60 + 0.1)
    bot = robot(sandbox, retry=RetryPolicy(rate_limit_block_seconds=0.05, rate_limit_retries=1))
    for n in range(20):
        bot.send_text(f"消息 {n}")
    with pytest.raises(WeComRateLimited) as caught:
        bot.send_text("one too many")
    assert caught.value.errcode == 45009
    assert sandbox.control.stats()["calls"]["/cgi-bin/webhook/send"] == 20 + 2
