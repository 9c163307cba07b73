"""A legal wait on a real Airflow: parked (up for reschedule, nothing in the triggerer; the watchdog still
watches it) while far off, then deferred to the triggerer for its last stretch, and done at the deadline,
not before.

The deployment's triggerer lead is 12 s here (``OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS``), so a wait 45 s
away is parked for ~33 s, run again by the scheduler, deferred for the last ~12 s and resumed.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pendulum
import pytest

from offboarding_dev.testing.airflow import RunningAirflow, shared_airflow

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(900)]

DAG_ID = "legal_wait_check"
TASK_ID = "wait_for_notice_period_end"
LEAD_SECONDS = 12.0

WAIT_DAG = f'''"""One legal wait, as the case DAGs wait (LegalDeadlineSensor)."""
from airflow.sdk import DAG, Param

from offboarding.sensors.legal_deadline import LegalDeadlineSensor

with DAG("{DAG_ID}", schedule=None, params={{"deadline": Param("", type="string")}}, tags=["check"]):
    LegalDeadlineSensor(task_id="{TASK_ID}", deadline="{{{{ params.deadline }}}}", label="notice period end")
'''


@pytest.fixture(scope="module")
def airflow() -> RunningAirflow:
    root = Path(tempfile.mkdtemp(prefix="offboarding-parked-wait-"))
    atexit.register(shutil.rmtree, root, True)
    dags = root / "dags"
    dags.mkdir()
    (dags / "legal_wait_check.py").write_text(WAIT_DAG)
    return shared_airflow(
        dags,
        extra_env={
            "OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS": str(LEAD_SECONDS / 3600.0),
            "OFFBOARDING_DATA_DIR": str(root / "data"),
        },
        startup_timeout=600,
    )


def watched_steps(airflow: RunningAirflow) -> list[dict[str, Any]]:
    from offboarding.alerting.airflow_source import WatchdogApi

    with WatchdogApi(airflow.api_url, username="admin", password=airflow.passwords["admin"]) as watchdog:
        return watchdog.watched_task_instances([DAG_ID])


def test_a_far_wait_is_parked_then_deferred_then_done_at_its_deadline(airflow: RunningAirflow) -> None:
    deadline = pendulum.now("Asia/Shanghai").add(seconds=45)
    run_id = f"parked-{int(time.time())}"
    seen: list[str] = []
    watched: list[dict[str, Any]] = []
    with airflow.api() as api:
        api.trigger_dag_run(DAG_ID, run_id, {"deadline": deadline.isoformat()})
        give_up = time.monotonic() + 300
        instance: dict[str, Any] = {}
        while time.monotonic() < give_up:
            instance = next(ti for ti in api.list_task_instances(DAG_ID, run_id) if ti["task_id"] == TASK_ID)
            if not seen or seen[-1] != instance["state"]:
                seen.append(str(instance["state"]))
                if seen[-1] == "up_for_reschedule":  # what the watchdog lists while the wait is parked
                    watched = watched_steps(airflow)
            if instance["state"] in ("success", "failed"):
                break
            time.sleep(0.5)
        result = api.get_xcom(DAG_ID, run_id, TASK_ID)
    waiting = [s for s in seen if s in ("up_for_reschedule", "deferred")]
    assert waiting == ["up_for_reschedule", "deferred"], seen  # parked first, then in the triggerer
    assert seen[-1] == "success", seen
    assert [(ti["task_id"], ti["state"]) for ti in watched if ti["dag_run_id"] == run_id] == [
        (TASK_ID, "up_for_reschedule")
    ]
    assert pendulum.parse(result["reached_at"]) >= deadline  # never before the legal deadline
    assert pendulum.parse(instance["end_date"]) >= deadline
