"""Fixtures for operator tests: a WeCom connection to the sandbox and a minimal task context.

Operators are run by calling ``execute(context)`` directly. The context is the small part of Airflow's
task context the offboarding operators read (params, dag_run, ti with XCom): building a whole task
runner for each unit test would need a supervisor process; the end-to-end tests under tests/e2e run
the same operators in a real Airflow.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from offboarding_dev.testing.task_instance import MemoryTaskInstance


@pytest.fixture
def wecom_conn(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``wecom_default`` pointing at the session sandbox (all three secrets equal)."""
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {
            "contact_secret": sandbox.secret,
            "customer_secret": sandbox.secret,
            "agent_id": sandbox.agent_id,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    return sandbox


def _sample_person_case(tmp_path: Any, **overrides: Any) -> dict[str, Any]:
    """A valid person case for the default sandbox seed, backing up under ``tmp_path``."""
    params = {
        "userid": "lisi",
        "display_name": "李四",
        "successor_userid": "wangwu",
        "last_working_day": "2026-11-20",
        "role": "employee",
        "hr_owner": "hr",
        "backup_target": str(tmp_path / "backups"),
        "approvers": ["approver"],
        "deregister_account": False,
        "dry_run": False,
        "notify": {"webhook_conn_id": None, "userids": []},
        "wecom_conn_id": "wecom_default",
        "time_scale": 1,
        "wedrive_space_ids": ["space_lisi"],
    }
    params.update(overrides)
    return params


def _make_context(
    params: dict[str, Any],
    *,
    task_id: str = "task",
    run_id: str = "offboard-lisi",
    ti: MemoryTaskInstance | None = None,
    user: str = "ops",
) -> dict[str, Any]:
    ti = ti or MemoryTaskInstance(task_id=task_id)
    ti.task_id = task_id
    return {
        "params": params,
        "dag_run": SimpleNamespace(run_id=run_id, triggering_user_name=user, conf=params),
        "ti": ti,
        "task_instance": ti,
        "run_id": run_id,
    }


@pytest.fixture
def sample_person_case(tmp_path: Any) -> Any:
    """``sample_person_case(**overrides)`` -> params of a valid person case (lisi -> wangwu)."""
    return lambda **overrides: _sample_person_case(tmp_path, **overrides)


@pytest.fixture
def make_context() -> Any:
    """``make_context(params, task_id=..., run_id=..., ti=...)`` -> a minimal task context."""
    return _make_context
