"""App messages (message/send) and the group robot (webhook/send)."""

from __future__ import annotations

import datetime as dt

import requests


def _send(
    wecom, sandbox, touser: str, content: str = "你好", msgtype: str = "text", agentid: int | None = None
):
    body = {
        "touser": touser,
        "msgtype": msgtype,
        "agentid": agentid or sandbox.agent_id,
        msgtype: {"content": content},
    }
    return wecom.post("/cgi-bin/message/send", body)


def test_app_message_reports_invalid_users(wecom, sandbox) -> None:
    answer = _send(wecom, sandbox, "lisi|ghost|resigned01|wangwu")
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    assert answer["invaliduser"] == "ghost|resigned01"
    assert answer["msgid"]
    messages = sandbox.control.messages()
    assert len(messages) == 1
    assert messages[0]["touser"] == ["lisi", "wangwu"] and messages[0]["content"] == "你好"
    assert messages[0]["msgid"] == answer["msgid"]


def test_app_message_markdown_and_since(wecom, sandbox) -> None:
    first = _send(wecom, sandbox, "lisi", "# 标题", msgtype="markdown")
    assert first["errcode"] == 0
    since = sandbox.control.messages()[0]["at"]
    _send(wecom, sandbox, "wangwu", "second")
    later = sandbox.control.messages(since=since)
    assert [m["content"] for m in later] == ["# 标题", "second"]
    assert sandbox.control.messages(since="2999-01-01T00:00:00Z") == []


def test_app_message_errors(wecom, sandbox) -> None:
    assert _send(wecom, sandbox, "lisi", agentid=42)["errcode"] == 40056
    assert _send(wecom, sandbox, "lisi", msgtype="image")["errcode"] == 40008
    assert _send(wecom, sandbox, "ghost")["errcode"] == 81013
    assert sandbox.control.messages() == []


def _robot(sandbox, body, key: str | None = None) -> dict:
    response = requests.post(
        f"{sandbox.base_url}/cgi-bin/webhook/send",
        params={"key": key or sandbox.webhook_key},
        json=body,
        timeout=10,
    )
    assert response.status_code == 200
    return response.json()


def test_webhook_text_and_markdown(sandbox) -> None:
    text = {"msgtype": "text", "text": {"content": "hello", "mentioned_list": ["lisi"]}}
    assert _robot(sandbox, text) == {"errcode": 0, "errmsg": "ok"}
    assert _robot(sandbox, {"msgtype": "markdown", "markdown": {"content": "**ok**"}})["errcode"] == 0
    messages = sandbox.control.webhook_messages()
    assert [m["msgtype"] for m in messages] == ["text", "markdown"]
    assert messages[0]["mentioned_list"] == ["lisi"]
    assert sandbox.webhook_key not in str(messages)  # the key is a credential: only a short hash is kept
    assert len(messages[0]["key_hash"]) == 12


def test_webhook_unknown_key_and_size_limits(sandbox) -> None:
    assert _robot(sandbox, {"msgtype": "text", "text": {"content": "x"}}, key="wrong")["errcode"] == 93000
    assert _robot(sandbox, {"msgtype": "text", "text": {"content": "字" * 682}})["errcode"] == 0  # 2046 bytes
    assert (
        _robot(sandbox, {"msgtype": "text", "text": {"content": "字" * 683}})["errcode"] == 40058
    )  # 2049 bytes
    assert _robot(sandbox, {"msgtype": "markdown", "markdown": {"content": "a" * 4096}})["errcode"] == 0
    assert _robot(sandbox, {"msgtype": "markdown", "markdown": {"content": "a" * 4097}})["errcode"] == 40058
    assert sandbox.control.stats()["calls"]["/cgi-bin/webhook/send"] == 5


def test_webhook_rate_limit_20_per_minute(sandbox) -> None:
    import time

    if time.time() % 60 > 35:  # keep the 22 calls inside one wall-clock minute, even on a loaded machine
        time.sleep(60 - time.time() % 60 + 0.1)
    # Only this test's messages: a robot queue left by an earlier test may still deliver a message.
    since = dt.datetime.now(dt.UTC).isoformat()
    codes = [_robot(sandbox, {"msgtype": "text", "text": {"content": f"m{i}"}})["errcode"] for i in range(22)]
    assert codes[:20] == [0] * 20
    assert codes[20:] == [45009, 45009]
    over = _robot(sandbox, {"msgtype": "text", "text": {"content": "again"}})
    assert over == {"errcode": 45009, "errmsg": "api freq out of limit"}
    mine = [m for m in sandbox.control.webhook_messages(since=since) if m["msgtype"] == "text"]
    assert len(mine) == 20
