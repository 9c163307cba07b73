"""``WeComRobotNotifier`` and ``WeComWebhookHook`` against the sandbox's group robot over HTTP."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offboarding.hooks.webhook import WeComWebhookHook
from offboarding.notifiers import (
    TRUNCATION_MARKER,
    RobotQueueError,
    WeComRobotNotifier,
    send_wecom_robot_notification,
)
from offboarding.wecom.errors import WeComConfigError

ROBOT_CONN_ID = "wecom_robot_test"  # set up by the robot_conn fixture (conftest.py)

WORKER = Path(__file__).with_name("robot_worker.py")


def _received(sandbox: Any) -> list[dict[str, Any]]:
    return sandbox.control.webhook_messages()


def _instants(messages: list[dict[str, Any]]) -> list[dt.datetime]:
    return sorted(dt.datetime.fromisoformat(m["at"].replace("Z", "+00:00")) for m in messages)


def test_text_with_mentions_reaches_the_group(robot_conn: Any) -> None:
    WeComRobotNotifier(
        wecom_webhook_conn_id=ROBOT_CONN_ID, text="案件 offboard-lisi 卡住了", mentioned_list=["zhangsan"]
    ).notify({})

    [message] = _received(robot_conn)
    assert message["msgtype"] == "text"
    assert message["content"] == "案件 offboard-lisi 卡住了"
    assert message["mentioned_list"] == ["zhangsan"]


def test_markdown_is_rendered_from_the_context(robot_conn: Any) -> None:
    notifier = send_wecom_robot_notification(
        wecom_webhook_conn_id="{{ params.robot }}",
        markdown="**{{ dag_run.run_id }}** waits at `{{ params.step }}`",
    )
    notifier(
        {
            "params": {"robot": ROBOT_CONN_ID, "step": "approve_deletion"},
            "dag_run": {"run_id": "offboard-lisi"},
        }
    )

    [message] = _received(robot_conn)
    assert message["msgtype"] == "markdown"
    assert message["content"] == "**offboard-lisi** waits at `approve_deletion`"


@pytest.mark.parametrize(("kind", "limit"), [("text", 2048), ("markdown", 4096)])
def test_long_content_is_cut_at_a_character_boundary(robot_conn: Any, kind: str, limit: int) -> None:
    body = "离职交接" * 1000  # 12,000 bytes of 3-byte characters
    WeComRobotNotifier(wecom_webhook_conn_id=ROBOT_CONN_ID, **{kind: body}).notify({})

    [message] = _received(robot_conn)
    content = message["content"]
    assert content.endswith(TRUNCATION_MARKER)
    assert len(content.encode("utf-8")) <= limit
    assert len(content.encode("utf-8")) > limit - 3 - len(TRUNCATION_MARKER.encode())  # as much as fits
    assert body.startswith(content.removesuffix(TRUNCATION_MARKER))


def test_content_that_fits_is_sent_unchanged(robot_conn: Any) -> None:
    exact = "x" * 2048
    WeComRobotNotifier(wecom_webhook_conn_id=ROBOT_CONN_ID, text=exact).notify({})
    assert _received(robot_conn)[0]["content"] == exact


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "exactly one of text or markdown"),
        ({"text": "a", "markdown": "b"}, "exactly one of text or markdown"),
        ({"text": "   "}, "text must be non-empty"),
        ({"markdown": "a", "mentioned_list": ["x"]}, "mentioned_list works with text only"),
        ({"text": "a", "mentioned_list": "zhangsan"}, "mentioned_list must be a list"),
    ],
)
def test_bad_arguments_are_refused_before_sending(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        WeComRobotNotifier(wecom_webhook_conn_id=ROBOT_CONN_ID, **kwargs)


async def test_async_notify_posts_from_an_event_loop(robot_conn: Any) -> None:
    notifier = WeComRobotNotifier(
        wecom_webhook_conn_id=ROBOT_CONN_ID,
        text="deadline missed: {{ dag_run.dag_id }}",
        context={"dag_run": {"dag_id": "offboard_employee"}},
    )
    await notifier  # what a Deadline Alert AsyncCallback does in the triggerer

    assert [m["content"] for m in _received(robot_conn)] == ["deadline missed: offboard_employee"]


async def test_deadline_callback_trigger_imports_and_awaits_the_notifier(robot_conn: Any) -> None:
    from airflow.triggers.callback import CallbackTrigger

    trigger = CallbackTrigger(
        "offboarding.notifiers.robot.WeComRobotNotifier",
        {
            "wecom_webhook_conn_id": ROBOT_CONN_ID,
            "text": "case {{ dag_run.run_id }} is past its deadline {{ deadline.deadline_time }}",
            "context": {"dag_run": {"run_id": "offboard-lisi"}, "deadline": {"deadline_time": "2026-12-01"}},
        },
    )
    events = [event.payload async for event in trigger.run()]

    assert events[-1]["state"] == "success", events
    assert [m["content"] for m in _received(robot_conn)] == [
        "case offboard-lisi is past its deadline 2026-12-01"
    ]


@pytest.mark.slow
def test_a_burst_of_25_from_three_processes_is_all_delivered_within_the_limit(robot_conn: Any) -> None:
    env = dict(os.environ)
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER), ROBOT_CONN_ID, str(first), str(count)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first, count in ((0, 9), (9, 8), (17, 8))
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs

    received = _received(robot_conn)
    text = "\n".join(m["content"] for m in received)
    for number in range(25):  # none dropped, none doubled
        assert text.count(f"burst message #{number:02d}") == 1, number
    assert len(received) <= 20  # the overflow was merged, not refused
    assert any("messages merged" in m["content"] for m in received)
    instants = _instants(received)
    assert all(b - a >= dt.timedelta(seconds=60) for a, b in zip(instants, instants[20:], strict=False))
    assert "45009" not in robot_conn.control.stats()["errors"]


def test_a_45009_answer_is_waited_out_and_retried(robot_conn: Any) -> None:
    robot_conn.control.set_faults(errcodes={"45009": 0.5}, paths=["/cgi-bin/webhook/send"], seed=3)
    hook = WeComWebhookHook(ROBOT_CONN_ID, rate_limit_block_seconds=0.2)
    try:
        for number in range(4):
            hook.send_text(f"retry me #{number}")
    finally:
        robot_conn.control.clear_faults()

    assert [m["content"] for m in _received(robot_conn)] == [f"retry me #{n}" for n in range(4)]
    stats = robot_conn.control.stats()
    assert stats["injected_faults"] >= 1
    assert stats["errors"].get("45009", 0) >= 1


def test_the_key_never_shows_in_logs_errors_or_reprs(
    robot_conn: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    data_dir: Path,
) -> None:
    wrong_key = "not-a-robot-key-0123456789"
    monkeypatch.setenv(
        "AIRFLOW_CONN_WECOM_ROBOT_WRONG",
        f'{{"conn_type": "wecom_webhook", "host": "{robot_conn.base_url}", "password": "{wrong_key}"}}',
    )
    caplog.set_level(logging.DEBUG)
    hook = WeComWebhookHook("wecom_robot_wrong")
    with pytest.raises(RobotQueueError) as refused:
        hook.send_text("hello")
    WeComRobotNotifier(wecom_webhook_conn_id=ROBOT_CONN_ID, text="fine").notify({})

    assert "93000" in str(refused.value)
    captured = capsys.readouterr()
    assert "Posted a text message" in captured.out  # Airflow's structlog lines are captured here
    seen = [str(refused.value), repr(hook), repr(hook.robot), repr(hook.queue), caplog.text]
    seen += [captured.out, captured.err]
    seen += [p.read_text() for p in data_dir.rglob("*") if p.is_file()]
    seen += [p.name for p in data_dir.rglob("*")]
    for text in seen:
        assert wrong_key not in text
        assert robot_conn.webhook_key not in text


def test_a_removed_robot_is_a_configuration_error(robot_conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WECOM_ROBOT_GONE",
        f'{{"conn_type": "wecom_webhook", "host": "{robot_conn.base_url}", "password": "gone-robot-key"}}',
    )
    hook = WeComWebhookHook("wecom_robot_gone")
    with pytest.raises(RobotQueueError, match="connection wecom_robot_gone"):
        hook.send_markdown("**hello**")
    assert _received(robot_conn) == []
    with pytest.raises(WeComConfigError):
        hook.robot.send_text("direct")  # the HTTP side says what it is


def test_a_connection_without_key_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WECOM_ROBOT_EMPTY", '{"conn_type": "wecom_webhook", "host": "http://127.0.0.1:9"}'
    )
    with pytest.raises(ValueError, match="connection wecom_robot_empty: the robot key"):
        WeComWebhookHook("wecom_robot_empty").send_text("x")
