"""``WeComAppMessageNotifier`` against the sandbox's ``message/send`` over HTTP."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from offboarding.notifiers import (
    TRUNCATION_MARKER,
    WeComAppMessageNotifier,
    send_wecom_app_message_notification,
)
from offboarding.wecom.errors import WeComError


def test_text_reaches_the_members(wecom_app_conn: Any) -> None:
    WeComAppMessageNotifier(touser=["wangwu", "zhangsan"], text="请处理 offboard-lisi").notify({})

    [message] = wecom_app_conn.control.messages()
    assert message["touser"] == ["wangwu", "zhangsan"]
    assert message["msgtype"] == "text"
    assert message["content"] == "请处理 offboard-lisi"


def test_markdown_and_recipients_are_templated(wecom_app_conn: Any) -> None:
    notifier = send_wecom_app_message_notification(
        touser="{{ params.owner }}|wangwu", markdown="**{{ dag_run.run_id }}** needs you"
    )
    notifier({"params": {"owner": "zhangsan"}, "dag_run": {"run_id": "offboard-lisi"}})

    [message] = wecom_app_conn.control.messages()
    assert message["touser"] == ["zhangsan", "wangwu"]
    assert (message["msgtype"], message["content"]) == ("markdown", "**offboard-lisi** needs you")


def test_unknown_members_are_named_in_a_warning(
    wecom_app_conn: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.WARNING)
    result = WeComAppMessageNotifier(touser="wangwu|nobody_here", text="hello").send()

    assert result.invaliduser == ["nobody_here"]
    logged = caplog.text + capsys.readouterr().out  # Airflow's structlog writes to stdout
    assert "WeCom does not know nobody_here" in logged
    assert wecom_app_conn.control.messages()[0]["touser"] == ["wangwu"]


def test_nobody_to_receive_it_raises(wecom_app_conn: Any) -> None:
    with pytest.raises(WeComError):
        WeComAppMessageNotifier(touser="nobody_here", text="hello").notify({})


def test_long_content_is_cut_to_2048_bytes(wecom_app_conn: Any) -> None:
    WeComAppMessageNotifier(touser="wangwu", text="交接" * 2000).notify({})
    content = wecom_app_conn.control.messages()[0]["content"]
    assert content.endswith(TRUNCATION_MARKER)
    assert len(content.encode("utf-8")) <= 2048


async def test_async_notify(wecom_app_conn: Any) -> None:
    await WeComAppMessageNotifier(
        touser="wangwu", text="deadline of {{ dag_run.run_id }}", context={"dag_run": {"run_id": "x1"}}
    )
    assert [m["content"] for m in wecom_app_conn.control.messages()] == ["deadline of x1"]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"touser": [], "text": "a"}, "touser must name at least one"),
        ({"touser": 3, "text": "a"}, "touser must be userids"),
        ({"touser": "a", "text": "a", "markdown": "b"}, "exactly one of text or markdown"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        WeComAppMessageNotifier(**kwargs)
