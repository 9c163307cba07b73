"""One real ``airflow standalone`` with the real plugin for the case-lifecycle tests (shared per process).

Its DAGs folder holds a stand-in ``offboard_employee`` with the real trigger form, the real case-id rule
of ``check_case`` (:func:`offboarding.operators.preflight.open_case_id`, which asks the plugin's series
endpoint with the deployment's REST credential) and steps named as the real DAG's: a deferred wait for
the last working day, a handover step, the approval (a real human-in-the-loop step) and the deletion.
``offboarding_rescind`` is a one-step stand-in (the real one undoes the case in WeCom).
"""

from __future__ import annotations

import atexit
import datetime as dt
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from offboarding_dev.testing.airflow import RunningAirflow, shared_airflow

DAG_ID = "offboard_employee"
USERS = "admin:admin,hr_wang:user,ops_li:user,auditor:viewer"

PERSON_DAG = '''"""Stand-in of the person case DAG: the real form and case-id rule, steps named as the real DAG's."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import DAG, TaskGroup, task

from offboarding.cases import PERSON_DAG_ID, person_params

with DAG(PERSON_DAG_ID, schedule=None, params=person_params(), max_active_runs=64, tags=["stub"]):
    with TaskGroup("preflight"):

        @task(task_id="check_case", retries=0)
        def check_case(**context):
            from offboarding.operators.base import Case
            from offboarding.operators.preflight import open_case_id

            return {"case_id": open_case_id(Case.from_context(context))}

        wait = DateTimeSensorAsync(
            task_id="wait_for_last_working_day",
            target_time="{{ params.last_working_day }}T16:00:00+00:00",
        )
        check_case() >> wait
    with TaskGroup("handover"):
        handover = EmptyOperator(task_id="hand_over_customers")
    approve = ApprovalOperator(task_id="approve_deletion", subject="Approve deleting {{ params.userid }}?")
    with TaskGroup("deletion"):
        delete = EmptyOperator(task_id="delete_member")
    wait >> handover >> approve >> delete >> EmptyOperator(task_id="close_case")
'''

RESCIND_DAG = '''"""Stand-in of offboarding_rescind: one step (the real DAG undoes the case in WeCom)."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("offboarding_rescind", schedule=None, max_active_runs=16, tags=["stub"]):
    EmptyOperator(task_id="undo")
'''

_STARTED: dict[str, RunningAirflow] = {}


def lifecycle_airflow() -> RunningAirflow:
    """The shared deployment (started on first use, stopped at process exit)."""
    if "airflow" not in _STARTED:
        root = Path(tempfile.mkdtemp(prefix="offboarding-lifecycle-"))
        atexit.register(shutil.rmtree, root, True)
        dags = root / "dags"
        dags.mkdir()
        (dags / "offboard_employee_stand_in.py").write_text(PERSON_DAG)
        (dags / "offboarding_rescind_stand_in.py").write_text(RESCIND_DAG)
        _STARTED["airflow"] = shared_airflow(
            dags,
            users=USERS,
            extra_env={"OFFBOARDING_DATA_DIR": str(root / "data")},
            startup_timeout=600,
        )
    return _STARTED["airflow"]


def uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:6]}"


def person_conf(userid: str, last_working_day: dt.date | str) -> dict[str, Any]:
    return {
        "userid": userid,
        "display_name": f"测试{userid}",
        "last_working_day": str(last_working_day),
        "successor_userid": "succ_wang",
        "hr_owner": "hr_wang",
        "approvers": ["ops_li"],
    }


def future(days: int = 60) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def past(days: int = 3) -> str:
    return (dt.date.today() - dt.timedelta(days=days)).isoformat()


def token(airflow: RunningAirflow, user: str) -> str:
    response = requests.post(
        f"{airflow.api_url}/auth/token",
        json={"username": user, "password": airflow.passwords[user]},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def task_states(airflow: RunningAirflow, run_id: str, dag_id: str = DAG_ID) -> dict[str, str | None]:
    with airflow.api() as api:
        return {ti["task_id"]: ti["state"] for ti in api.list_task_instances(dag_id, run_id)}


def wait_for(
    check: Callable[[], Any], timeout: float, what: str | Callable[[], str], airflow: RunningAirflow
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            said = what() if callable(what) else what
            raise AssertionError(f"timed out waiting for {said}\n{airflow.log_tail(40)}")
        time.sleep(1)


def start_case(airflow: RunningAirflow, run_id: str, conf: dict[str, Any], until: tuple[str, str]) -> None:
    """Trigger a case as admin and wait until task ``until[0]`` is in state ``until[1]``."""
    with airflow.api() as api:
        api.trigger_dag_run(DAG_ID, run_id, conf)
    task_id, state = until
    seen: dict[str, str | None] = {}

    def reached() -> bool:
        seen.clear()
        seen.update(task_states(airflow, run_id))
        return seen.get(task_id) == state

    wait_for(reached, 600, lambda: f"{task_id} {state} (task states: {seen})", airflow)
