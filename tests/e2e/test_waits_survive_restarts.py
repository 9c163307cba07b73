"""Legal waits hold no worker slot and survive a triggerer crash with the same deadline.

A person whose last working day is 60 days away waits in ``wait_for_last_working_day`` (deferred);
in rehearsal time (a day per second) that is about 60 s of wall time. The triggerer is killed
mid-wait and a new one started: the wait must end at its original deadline, not 60 s after the
restart.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pendulum
import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAG, RUN, TASK = "offboard_employee", "offboard-wujiu", "preflight.wait_for_last_working_day"
DAYS_AHEAD = 60


def _ti(rehearsal: Any) -> dict[str, Any]:
    return next(ti for ti in rehearsal.api().list_task_instances(DAG, RUN) if ti["task_id"] == TASK)


def test_a_deferred_legal_wait_keeps_its_deadline_across_a_triggerer_crash(rehearsal: Any) -> None:
    last_day = pendulum.now("Asia/Shanghai").date() + dt.timedelta(days=DAYS_AHEAD)
    conf = {
        "userid": "wujiu",
        "display_name": "吴九",
        "successor_userid": "wangwu",
        "last_working_day": last_day.isoformat(),
        "hr_owner": "hr",
        "approvers": ["approver"],
        "time_scale": 86400,
    }
    run = rehearsal.api().trigger_dag_run(DAG, RUN, conf)
    queued_at = pendulum.parse(run["queued_at"] or run["run_after"])

    deadline = time.monotonic() + 120
    while _ti(rehearsal)["state"] != "deferred":
        assert time.monotonic() < deadline, _ti(rehearsal)
        time.sleep(1)
    waiting = _ti(rehearsal)
    rendered = waiting.get("rendered_fields") or {}
    assert str(last_day + dt.timedelta(days=1)) in str(rendered.get("deadline_local")), rendered

    rehearsal.airflow.restart("triggerer", hard=True)

    while _ti(rehearsal)["state"] not in ("success", "failed"):
        assert time.monotonic() < deadline + 240, _ti(rehearsal)
        time.sleep(1)
    done = _ti(rehearsal)
    assert done["state"] == "success"
    # Wake time = anchor (run_after) + (deadline - anchor) / 86400: about DAYS_AHEAD seconds, plus
    # up to a day's rounding (the deadline is 24:00 local). A reset wait would end ~60 s later.
    waited = (pendulum.parse(done["end_date"]) - queued_at).total_seconds()
    assert DAYS_AHEAD - 2 <= waited <= DAYS_AHEAD + 1 + 25, waited
