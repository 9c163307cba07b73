"""A legal wait marked "success" by hand, in a real Airflow: the steps after it refuse, nothing is removed.

``groupowner``'s last working day is 30 days away and the case runs in real time (``time_scale`` 1), so
``wait_for_last_working_day`` is parked (up for reschedule) for 30 days. It is then marked success through the REST API (what
the UI's "Mark success" does). The backup may run (it only reads), but every step that removes something
from the person checks the deadline itself: the handover fails with the deadline in Asia/Shanghai time,
before any WeCom write; disabling and deletion never run. The run itself stays running (its human
steps are not answered in real time), so the test waits for those steps, not for the run.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pendulum
import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAG, RUN, WAIT = "offboard_employee", "offboard-groupowner", "preflight.wait_for_last_working_day"


def _state(rehearsal: Any, task_id: str) -> str | None:
    return rehearsal.task_states(DAG, RUN).get(task_id)


def test_a_last_working_day_wait_marked_success_by_hand_removes_nothing(rehearsal: Any) -> None:
    last_day = pendulum.now("Asia/Shanghai").date() + dt.timedelta(days=30)
    conf = {
        "userid": "groupowner",
        "display_name": "郭群主",
        "successor_userid": "wangwu",
        "last_working_day": last_day.isoformat(),
        "hr_owner": "hr",
        "approvers": ["approver"],
        "time_scale": 1,
    }
    api = rehearsal.api()
    api.trigger_dag_run(DAG, RUN, conf)
    give_up = time.monotonic() + 240
    while _state(rehearsal, WAIT) != "up_for_reschedule":  # parked: its end is weeks away
        assert time.monotonic() < give_up, rehearsal.task_states(DAG, RUN)
        time.sleep(1)

    api._request(  # what the UI's "Mark success" sends
        "PATCH",
        f"/api/v2/dags/{DAG}/dagRuns/{RUN}/taskInstances/{WAIT}",
        json={"new_state": "success"},
    )
    # The run itself cannot end: its human steps stay unanswered (a real-time case; the rehearsal
    # responder answers rehearsal-time runs only). Wait for the steps after the deadline instead.
    removal = ("hand_over_customers", "hand_over_customer_groups", "leave_tags_and_group_chats")
    give_up = time.monotonic() + 420
    while True:
        tasks = rehearsal.task_states(DAG, RUN)
        settled = all(tasks.get(f"handover.{s}") in ("failed", "success") for s in removal)
        if settled and tasks.get("handover.disable_member") in ("upstream_failed", "success", "failed"):
            break
        assert time.monotonic() < give_up, tasks
        time.sleep(2)
    assert rehearsal.api().get_dag_run(DAG, RUN)["state"] != "success"
    assert tasks[WAIT] == "success"
    for step in removal:
        assert tasks[f"handover.{step}"] == "failed", tasks
    assert tasks["handover.disable_member"] == "upstream_failed", tasks
    assert tasks["deletion.delete_member"] in ("upstream_failed", None), tasks
    report = rehearsal.failure_report(DAG, RUN)
    ends = f"{(last_day + dt.timedelta(days=1)).isoformat()} 00:00 (Asia/Shanghai)"
    assert f"handing over groupowner's customers is refused: the last working day ends {ends}" in report
    writes = rehearsal.sandboxes["main"].control.stats()["writes"]
    assert [w for w in writes if "groupowner" in json.dumps(w["summary"], ensure_ascii=False)] == []
    actions = [entry["action"] for entry in rehearsal.ledger(RUN)]
    assert "deadline.reached" not in actions
    assert not {"customers.handed_over", "member.disabled", "member.deleted"} & set(actions)
