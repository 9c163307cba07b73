"""The demo's stalled step: held until the sandbox's robot inbox shows its alert and one reminder.

The alerts are the watchdog's own words (``alert_markdown``), posted to the sandbox's robot over HTTP
by the product's robot hook, exactly as a watchdog round sends them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from offboarding.alerting.decide import REMINDER, STALLED, Alert
from offboarding.alerting.messages import alert_markdown
from offboarding.alerting.steps import HUMAN_STEP, CaseInfo, WatchedStep
from offboarding.hooks.webhook import WeComWebhookHook
from offboarding_dev.rehearsal.answers import HumanStep
from offboarding_dev.rehearsal.stall import DEMO_STALL, StallUntilReminded, alert_blocks, count_alerts

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def _watched(run_id: str, task_id: str) -> WatchedStep:
    return WatchedStep(
        dag_id="offboard_employee",
        run_id=run_id,
        task_id=task_id,
        try_number=1,
        state="awaiting_input",
        case=CaseInfo(run_id, "person", "孙七 (sunqi)"),
        kind=HUMAN_STEP,
        started_at=T0,
        expected_by=T0 + dt.timedelta(seconds=5),
        owners=("hr",),
    )


def _human(run_id: str = DEMO_STALL.run_id, task_id: str = DEMO_STALL.task_id) -> HumanStep:
    return HumanStep("offboard_employee", run_id, task_id, options=("Done",))


@pytest.fixture
def robot(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> WeComWebhookHook:
    connection = {"conn_type": "wecom_webhook", "host": sandbox.base_url, "password": sandbox.webhook_key}
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_ROBOT_DEMO", json.dumps(connection))
    return WeComWebhookHook("wecom_robot_demo")


def test_the_step_is_held_until_one_reminder_then_answered(sandbox: Any, robot: WeComWebhookHook) -> None:
    hold = StallUntilReminded(DEMO_STALL, sandbox.control)
    stalled = _watched(DEMO_STALL.run_id, DEMO_STALL.task_id)
    other = _watched("offboard-lisi", "statutory_steps.stop_social_insurance")

    assert "until the watchdog alerts" in (hold(_human()) or "")
    assert hold(_human("offboard-lisi")) is None  # only the chosen step is held

    # Another case's reminder and this step's first alert, packed into one message as a round does.
    robot.send_markdown(
        alert_markdown(Alert(REMINDER, other, T0 + dt.timedelta(minutes=1), reminder_number=1))
        + "\n\n"
        + alert_markdown(Alert(STALLED, stalled, T0 + dt.timedelta(minutes=1)))
    )
    assert "waiting for one reminder" in (hold(_human()) or "")

    robot.send_markdown(
        alert_markdown(Alert(REMINDER, stalled, T0 + dt.timedelta(minutes=2), reminder_number=1))
    )
    assert hold(_human()) is None
    assert hold.released.is_set()

    blocks = alert_blocks(sandbox.control.webhook_messages(), DEMO_STALL)
    assert count_alerts(blocks) == (1, 1)
    assert all("offboard-lisi" not in block for _, block in blocks)


def test_an_unreachable_inbox_keeps_the_step_held() -> None:
    class Down:
        def webhook_messages(self, since: str | None = None) -> list[dict[str, Any]]:
            raise ConnectionError("refused")

    reason = StallUntilReminded(DEMO_STALL, Down())(_human())
    assert reason == "held for the demo; cannot read the robot inbox (ConnectionError)"
