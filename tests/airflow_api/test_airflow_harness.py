"""The real-Airflow test harness: a healthy standalone on its own port whose workers and triggerer work."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from offboarding_dev.testing.airflow import (
    AirflowStartError,
    RunningAirflow,
    dag_files,
    parse_users,
    running_airflow,
)
from offboarding_dev.testing.keeper import describe_health, keep_running

pytestmark = pytest.mark.airflow


def test_standalone_is_healthy_on_its_own_loopback_port(airflow: RunningAirflow) -> None:
    port = airflow.env["AIRFLOW__API__PORT"]
    assert airflow.api_url == f"http://127.0.0.1:{port}"
    assert port != "8080"
    # Trap 12: the Execution API address must follow the api-server's port.
    assert airflow.env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://127.0.0.1:{port}/execution/"
    assert airflow.env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] != "8793"
    with airflow.api() as api:
        health = api.health()
    assert {
        name: health[name]["status"] for name in ("metadatabase", "scheduler", "triggerer", "dag_processor")
    } == {
        "metadatabase": "healthy",
        "scheduler": "healthy",
        "triggerer": "healthy",
        "dag_processor": "healthy",
    }
    print(f"airflow standalone startup: {airflow.startup_seconds:.1f}s")


def test_home_holds_the_passwords_file_and_sqlite_db(airflow: RunningAirflow) -> None:
    passwords = json.loads(Path(airflow.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())
    assert passwords == airflow.passwords
    assert set(passwords) == {"admin", "hr_wang", "auditor"}
    assert all(password != name for name, password in passwords.items())  # a user name is never masked
    assert Path(airflow.home, "airflow.db").is_file()
    # Write-ahead log: the components' readers never hold a writer (a trigger) past its busy timeout.
    with contextlib.closing(sqlite3.connect(Path(airflow.home, "airflow.db"))) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert airflow.env["AIRFLOW_HOME"] == str(airflow.home)
    assert airflow.env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_every_stub_dag_file_is_parsed_and_unpaused(airflow: RunningAirflow) -> None:
    dags_folder = Path(airflow.env["AIRFLOW__CORE__DAGS_FOLDER"])
    with airflow.api() as api:
        dags = {d["dag_id"]: d for d in api.list_dags()}
    assert {d["relative_fileloc"] for d in dags.values()} >= set(dag_files(dags_folder))
    assert {"offboard_employee", "dissolve_company", "harness_check", "harness_human_step"} <= set(dags)
    assert not any(d["is_paused"] for d in dags.values())


def test_a_task_runs_on_a_worker_and_a_deferred_wait_completes(airflow: RunningAirflow) -> None:
    run_id = f"harness-{uuid.uuid4().hex[:8]}"
    with airflow.api() as api:
        api.trigger_dag_run("harness_check", run_id, {"wait_seconds": 2})
        run = api.wait_for_dag_run("harness_check", run_id, ["success"], timeout=180)
        states = {ti["task_id"]: ti["state"] for ti in api.list_task_instances("harness_check", run_id)}
    assert run["state"] == "success"
    assert states == {"worker_ran": "success", "deferred_wait": "success"}


def test_a_deferred_wait_survives_a_triggerer_crash(airflow: RunningAirflow) -> None:
    run_id = f"restart-{uuid.uuid4().hex[:8]}"
    old_pids = set(airflow.component_pids("triggerer"))
    with airflow.api() as api:
        api.trigger_dag_run("harness_check", run_id, {"wait_seconds": 25})
        deadline = time.monotonic() + 120
        state = None
        while time.monotonic() < deadline:
            state = {
                ti["task_id"]: ti["state"] for ti in api.list_task_instances("harness_check", run_id)
            }.get("deferred_wait")
            if state == "deferred":
                break
            time.sleep(0.5)
        assert state == "deferred"
        target = datetime.fromisoformat(api.get_dag_run("harness_check", run_id)["run_after"]) + timedelta(
            seconds=25
        )
        assert datetime.now(UTC) < target, "the wait must still be pending when the triggerer dies"

        airflow.restart("triggerer", hard=True)

        new_pids = set(airflow.component_pids("triggerer"))
        assert new_pids and not (new_pids & old_pids)
        run = api.wait_for_dag_run("harness_check", run_id, ["success"], timeout=180)
    assert run["state"] == "success"


def test_an_orderly_triggerer_restart_brings_up_a_new_triggerer(airflow: RunningAirflow) -> None:
    old_pids = set(airflow.component_pids("triggerer"))
    airflow.restart("triggerer")
    new_pids = set(airflow.component_pids("triggerer"))
    assert new_pids and not (new_pids & old_pids)
    with airflow.api() as api:
        assert api.health()["triggerer"]["status"] == "healthy"


def _scheduler_comes_back(airflow: RunningAirflow, disturb: int, hung_after: float) -> list[str]:
    """Disturb the scheduler's main process with a signal while a keeper watches; return what it said."""
    said: list[str] = []
    old = airflow.component_roots("scheduler")
    assert len(old) == 1, old
    # Only the scheduler: on a loaded machine the triggerer's heartbeat can lag past a test's short limit.
    with keep_running(
        airflow, said.append, commands=["scheduler"], check_seconds=1.0, hung_after=hung_after
    ) as keeper:
        os.kill(old[0], disturb)
        deadline = time.monotonic() + 150
        while not keeper.restarts and time.monotonic() < deadline:
            time.sleep(0.5)
    assert keeper.restarts == ["scheduler"], said
    new = airflow.component_roots("scheduler")
    assert new and not set(new) & set(old)
    run_id = f"after-restart-{uuid.uuid4().hex[:8]}"
    with airflow.api() as api:
        assert "scheduler healthy" in describe_health(api.health())
        api.trigger_dag_run("harness_check", run_id, {"wait_seconds": 1})
        assert api.wait_for_dag_run("harness_check", run_id, ["success"], timeout=180)["state"] == "success"
    return said


def test_a_scheduler_that_exits_is_started_again_and_said(airflow: RunningAirflow) -> None:
    said = _scheduler_comes_back(airflow, signal.SIGKILL, hung_after=600)
    assert len(said) == 1 and "the Airflow scheduler stopped" in said[0] and "its process is gone" in said[0]
    assert "scheduler-restart-" in said[0]


def test_a_hung_scheduler_is_restarted_and_said(airflow: RunningAirflow) -> None:
    said = _scheduler_comes_back(airflow, signal.SIGSTOP, hung_after=10)
    assert len(said) == 1 and "has not heartbeat for" in said[0]


def test_api_logs_in_as_each_configured_user(airflow: RunningAirflow) -> None:
    with airflow.api("hr_wang") as api:
        assert api.get_dag("offboard_employee")["dag_id"] == "offboard_employee"
    with pytest.raises(ValueError, match="nobody"):
        airflow.api("nobody")


def test_parse_users_refuses_a_bad_role() -> None:
    assert parse_users("admin:admin,hr:user") == {"admin": "admin", "hr": "user"}
    with pytest.raises(ValueError, match="users: 'hr:boss'"):
        parse_users("admin:admin,hr:boss")


def test_dag_files_follows_airflowignore_and_the_safe_mode_heuristic(tmp_path: Path) -> None:
    (tmp_path / "case_dag.py").write_text("from airflow.sdk import DAG\nDAG('x')\n")
    (tmp_path / "helpers.py").write_text("def add(a, b):\n    return a + b\n")
    (tmp_path / "dag_helpers.py").write_text("from airflow.sdk import Param\nDAG_TAGS = ['offboarding']\n")
    (tmp_path / "decorated.py").write_text(
        "from airflow.sdk import dag\n@dag(schedule=None)\ndef x(): ...\nx()\n"
    )
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "legacy_dag.py").write_text("from airflow.sdk import DAG\nDAG('y')\n")
    (tmp_path / ".airflowignore").write_text("old/\n")
    assert dag_files(tmp_path) == ["case_dag.py", "decorated.py"]


def test_a_standalone_that_cannot_start_raises_with_the_log_tail(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    broken = {"AIRFLOW__CORE__EXECUTOR": "no_such_module.NoSuchExecutor"}
    with (
        pytest.raises(AirflowStartError, match="exited with") as raised,
        running_airflow(dags, plugins_folder=tmp_path, extra_env=broken, startup_timeout=120),
    ):
        pass
    assert "no_such_module" in str(raised.value)
