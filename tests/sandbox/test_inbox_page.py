"""The sandbox's inbox page: robot and app messages as people see them in WeCom, everything escaped."""

from __future__ import annotations

import re

import requests

from offboarding_dev.sandbox.inbox import render_markdown

ALERT = (
    '**<font color="warning">Offboarding step stalled</font>**\n'
    "**stop_social_insurance of 李四 (lisi) is late since 2026-03-03 09:00: hr_wang must answer it**\n"
    "> Case: **李四 (lisi)** (`offboard-lisi`, person)\n"
    "[Case timeline](http://127.0.0.1:8080/offboarding/cases?dag_id=offboard_employee&run_id=offboard-lisi)"
)


def _robot(sandbox, content: str) -> None:
    body = {"msgtype": "markdown", "markdown": {"content": content}}
    answer = requests.post(
        f"{sandbox.base_url}/cgi-bin/webhook/send", params={"key": sandbox.webhook_key}, json=body, timeout=10
    ).json()
    assert answer["errcode"] == 0, answer


def _app(wecom, sandbox, touser: str, content: str) -> None:
    body = {
        "touser": touser,
        "msgtype": "markdown",
        "agentid": sandbox.agent_id,
        "markdown": {"content": content},
    }
    assert wecom.post("/cgi-bin/message/send", body)["errcode"] == 0


def _page(sandbox, **params: str) -> requests.Response:
    return requests.get(f"{sandbox.base_url}/sandbox/inbox", params=params, timeout=10)


def test_robot_and_app_messages_show_per_group_and_per_person_newest_first(wecom, sandbox) -> None:
    _robot(sandbox, ALERT)
    _robot(sandbox, "second robot message")
    _app(wecom, sandbox, "lisi|wangwu", "**请处理** 社保减员")

    page = _page(sandbox)

    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    text = page.text
    robot_title = re.search(r"群机器人 Group robot ([0-9a-f]{12}) <small>\(2\)</small>", text)
    assert robot_title, "one robot column with its two messages"
    assert sandbox.webhook_key not in text  # the key is a credential: the page names its hash
    assert text.index("second robot message") < text.index("Offboarding step stalled")  # newest first
    assert '<span style="color:#e65100">Offboarding step stalled</span>' in text
    assert "<strong>stop_social_insurance of 李四 (lisi) is late since 2026-03-03 09:00" in text
    assert (
        '<div class="q">Case: <strong>李四 (lisi)</strong> (<code>offboard-lisi</code>, person)</div>' in text
    )
    assert (
        '<a href="http://127.0.0.1:8080/offboarding/cases?dag_id=offboard_employee&amp;run_id=offboard-lisi"'
        in text
    )
    lisi = re.search(r"应用消息 App messages to ([^<]+) \(lisi\) <small>\(1\)</small>", text)
    assert lisi and re.search(r"应用消息 App messages to [^<]+ \(wangwu\)", text)
    assert text.count("<strong>请处理</strong> 社保减员") == 2  # in each recipient's inbox
    assert "(北京时间)" in text and '<meta http-equiv="refresh" content="5">' in text


def test_every_message_is_escaped_only_wecom_marks_become_markup(wecom, sandbox) -> None:
    _robot(
        sandbox,
        "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) "
        '<font color="red" onclick="x">no</font> [ok](https://example.com/a"b)',
    )
    text = _page(sandbox).text
    body = text[text.index("<body>") :]
    assert "<script>" not in body and "<img" not in body and "javascript:alert(3)</a>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "[click](javascript:alert(3))" in body  # shown as written, not a link
    assert "&lt;font color=&quot;red&quot; onclick=&quot;x&quot;&gt;no&lt;/font&gt;" in body
    assert '<a href="https://example.com/a&quot;b"' in body  # the quote cannot close the attribute


def test_an_empty_inbox_and_a_bad_refresh(sandbox) -> None:
    assert "No messages yet" in _page(sandbox).text
    assert '<meta http-equiv="refresh" content="30">' in _page(sandbox, refresh="30").text
    bad = _page(sandbox, refresh="0")
    assert bad.status_code == 400 and "refresh must be from 1 to 3600 seconds" in bad.json()["error"]
    assert _page(sandbox, refresh="soon").status_code == 400


def test_markdown_lines_headings_and_blank_lines() -> None:
    assert render_markdown("# 标题\n\nplain & <b>") == (
        '<div class="h">标题</div><div>&nbsp;</div><div>plain &amp; &lt;b&gt;</div>'
    )
