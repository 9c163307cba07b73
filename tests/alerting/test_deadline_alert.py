"""The case Deadline Alert: its shape, its serialization in a DAG, and its callback run like the triggerer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

from offboarding.alerting import case_deadline_alert


def test_the_alert_is_a_queued_at_deadline_with_the_robot_notifier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_ALERT_WEBHOOK_CONN_ID", "wecom_robot_ops")
    alert = case_deadline_alert(dt.timedelta(days=60), ui_url="http://airflow.example/")

    assert isinstance(alert, DeadlineAlert)
    assert alert.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert alert.interval == dt.timedelta(days=60)
    assert isinstance(alert.callback, AsyncCallback)
    assert alert.callback.path == "offboarding.notifiers.robot.WeComRobotNotifier"
    assert alert.callback.kwargs["wecom_webhook_conn_id"] == "wecom_robot_ops"
    assert (
        "http://airflow.example/dags/{{ dag_run.dag_id }}/runs/{{ dag_run.run_id }}"
        in alert.callback.kwargs["markdown"]
    )


def test_a_bad_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval must be a positive timedelta"):
        case_deadline_alert(dt.timedelta(0))


def test_a_dag_with_the_alert_serializes(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.standard.operators.empty import EmptyOperator
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    with DAG("deadline_demo", schedule=None, deadline=case_deadline_alert(dt.timedelta(days=30))) as dag:
        EmptyOperator(task_id="noop")
    serialized = DagSerialization.to_dict(dag)
    assert "offboarding.notifiers.robot.WeComRobotNotifier" in str(serialized)


async def test_the_callback_posts_the_rendered_message(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from airflow.triggers.callback import CallbackTrigger

    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "AIRFLOW_CONN_WECOM_ROBOT_OPS",
        f'{{"conn_type": "wecom_webhook", "host": "{sandbox.base_url}", "password": "{sandbox.webhook_key}"}}',
    )
    alert = case_deadline_alert(dt.timedelta(days=60), webhook_conn_id="wecom_robot_ops")
    context = {
        "dag_run": {
            "dag_id": "offboard_employee",
            "run_id": "offboard-lisi",
            "queued_at": "2026-01-05T02:00:00Z",
        },
        "deadline": {"id": "d1", "deadline_time": "2026-03-06T02:00:00Z"},
    }
    trigger = CallbackTrigger(alert.callback.path, {**alert.callback.kwargs, "context": context})
    events = [event.payload async for event in trigger.run()]

    assert events[-1]["state"] == "success", events
    [message] = sandbox.control.webhook_messages()
    assert "`offboard-lisi` (offboard_employee)" in message["content"]
    assert "deadline 2026-03-06T02:00:00Z" in message["content"]
