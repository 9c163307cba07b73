"""One real ``airflow standalone`` for the watchdog and cases-page end-to-end tests (shared per process).

Its DAGs folder holds the real ``offboarding_watchdog`` DAG (every 6 s) and a tiny
``offboard_employee`` DAG whose only step is a real ``HumanStepOperator`` in the ``statutory_steps``
group. The repository's plugins folder is used, so the real plugin (the cases page) is loaded. A
policy override makes that step due 1 hour after it parks and reminders hourly; cases run with
``time_scale`` 600, so "1 hour" is 6 seconds of wall time. Alerts go to the robot of a WeCom sandbox of its own.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from offboarding_dev.testing.airflow import (
    RunningAirflow,
    free_port,
    made_up_passwords,
    parse_users,
    shared_airflow,
)

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "offboard_employee"
STEP = "statutory_steps.stop_social_insurance"
ROBOT_CONN_ID = "wecom_robot_ops"
TIME_SCALE = 600
USERS = "admin:admin,hr_wang:user,auditor:viewer"

CASE_DAG = '''"""E2E stand-in for the person DAG: one real human step in a task group."""
from airflow.sdk import DAG, TaskGroup

from offboarding.operators.human_step import HumanStepOperator

with DAG("offboard_employee", schedule=None, max_active_runs=50, tags=["offboarding"], doc_md="e2e"):
    with TaskGroup("statutory_steps"):
        HumanStepOperator(
            task_id="stop_social_insurance",
            subject="社保减员: {{ params.display_name }}",
            assignees="{{ params.hr_owner }}",
            retries=0,
            doc_md="e2e human step",
        )
'''

POLICY_OVERRIDE = """
alerts:
  reminder_interval_hours: 1
  escalate_after_reminders: 1
human_steps:
  stop_social_insurance: {hours: 1}
"""

_STARTED: dict[str, Any] = {}


def case_conf(userid: str) -> dict[str, Any]:
    """A person case for the stand-in DAG, alerting to the sandbox robot, 600x compressed; its evidence
    goes to the deployment's default root (``$OFFBOARDING_DATA_DIR/cases``)."""
    return {
        "userid": userid,
        "display_name": f"测试{userid}",
        "hr_owner": "hr_wang",
        "backup_target": "",
        "time_scale": TIME_SCALE,
        "notify": {"webhook_conn_id": ROBOT_CONN_ID, "userids": []},
    }


def e2e_airflow() -> tuple[RunningAirflow, Path, Any]:
    """The shared deployment, its data folder and the sandbox its robot posts to (started on first use,
    stopped at process exit). The sandbox is its own: the watchdog keeps running every 6 s for the
    whole session, and its reminders must not land in other tests' sandbox."""
    if "airflow" not in _STARTED:
        from offboarding_dev.sandbox.testing import running_sandbox

        robot_sandbox = running_sandbox(seed="default")
        sandbox = robot_sandbox.__enter__()
        atexit.register(robot_sandbox.__exit__, None, None, None)
        root = Path(tempfile.mkdtemp(prefix="offboarding-alerting-e2e-"))
        atexit.register(shutil.rmtree, root, True)  # registered first: runs after Airflow has stopped
        dags = root / "dags"
        dags.mkdir()
        (dags / "offboard_employee_e2e.py").write_text(CASE_DAG)
        (dags / "offboarding_watchdog.py").write_text((REPO / "dags" / "offboarding_watchdog.py").read_text())
        (root / "policy-override.yaml").write_text(POLICY_OVERRIDE)
        data = root / "data"
        port = free_port()
        api_url = f"http://127.0.0.1:{port}"
        robot = {"conn_type": "wecom_webhook", "host": sandbox.base_url, "password": sandbox.webhook_key}
        passwords = made_up_passwords(parse_users(USERS))
        api_conn = {
            "conn_type": "http",
            "host": api_url,
            "login": "auditor",
            "password": passwords["auditor"],
        }
        env = {
            "OFFBOARDING_DATA_DIR": str(data),
            "OFFBOARDING_TOKEN_CACHE_URL": "memory://",
            "OFFBOARDING_POLICY_FILE": str(root / "policy-override.yaml"),
            "OFFBOARDING_INCLUDE_DIR": str(REPO / "include"),
            "OFFBOARDING_WATCHDOG_INTERVAL_MINUTES": "0.1",
            "AIRFLOW_CONN_WECOM_ROBOT_OPS": json.dumps(robot),
            "AIRFLOW_CONN_OFFBOARDING_AIRFLOW_API": json.dumps(api_conn),
        }
        airflow = shared_airflow(
            dags,
            users=USERS,
            passwords=passwords,
            port=port,
            extra_env=env,
            dag_ids=[DAG_ID, "offboarding_watchdog"],
        )
        _STARTED.update(airflow=airflow, data=data, sandbox=sandbox)
    return _STARTED["airflow"], _STARTED["data"], _STARTED["sandbox"]


def wait_for(predicate: Any, timeout: float, what: str, airflow: RunningAirflow, poll: float = 1.0) -> Any:
    """Poll until ``predicate()`` is truthy; fail with the standalone log tail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{airflow.log_tail(80)}")


def task_state(airflow: RunningAirflow, run_id: str, task_id: str = STEP) -> str | None:
    with airflow.api() as api:
        for ti in api.list_task_instances(DAG_ID, run_id):
            if ti["task_id"] == task_id:
                return ti.get("state")
    return None
