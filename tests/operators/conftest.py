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


@pytest.fixture(autouse=True)
def backup_roots(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The deployment's storage roots in every operator test: ``test`` is ``tmp_path/backups``."""
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OFFBOARDING_BACKUP_ROOTS", f"test={tmp_path / 'backups'}")
    return tmp_path / "backups"


def _sample_person_case(tmp_path: Any, **overrides: Any) -> dict[str, Any]:
    """A valid person case for the default sandbox seed, backing up to the root ``test`` (``tmp_path/backups``)."""
    params = {
        "userid": "lisi",
        "display_name": "李四",
        "successor_userid": "wangwu",
        "last_working_day": "2026-11-20",
        "role": "employee",
        "hr_owner": "hr",
        "backup_target": "test",
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


# -- the deployment's approver lists and Airflow's record of the approval -----------------------------

APPROVERS = ["approver", "approver2", "ops", "legal"]
HR_OWNERS = ["hr"]


@pytest.fixture(autouse=True)
def deployment_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment's approver and HR-owner lists, as the Airflow Variables a deployment sets."""
    monkeypatch.setenv("AIRFLOW_VAR_OFFBOARDING_APPROVERS", json.dumps(APPROVERS))
    monkeypatch.setenv("AIRFLOW_VAR_OFFBOARDING_HR_OWNERS", json.dumps(HR_OWNERS))


class FakeAirflowApprovals:
    """Airflow's human-in-the-loop records, as the REST API would return them (no api-server here).

    ``approve(params, ...)`` does what happens in Airflow when an approver answers: Airflow records
    the answer (kept here) and ``ApproveDeletionOperator.execute_complete`` writes the ledger entry.
    """

    def __init__(self, make_context: Any) -> None:
        self.records: dict[tuple[str, str, str], Any] = {}
        self.make_context = make_context
        self.reads: list[tuple[str, str, str]] = []

    def read(self, dag_id: str, run_id: str, task_id: str) -> Any:
        self.reads.append((dag_id, run_id, task_id))
        return self.records.get((dag_id, run_id, task_id))

    def record(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        ti_id: str,
        by: str | None,
        chosen: str = "Approve",
        assigned: tuple[str, ...] = ("approver",),
        at: Any = None,
    ) -> Any:
        import datetime as dt

        from offboarding.operators.approvers import HumanStepRecord

        record = HumanStepRecord(
            ti_id=ti_id,
            run_id=run_id,
            assigned=assigned,
            response_received=True,
            responded_by=by,
            responded_at=at or dt.datetime.now(dt.UTC),
            chosen_options=(chosen,),
        )
        self.records[(dag_id, run_id, task_id)] = record
        return record

    def approve(
        self,
        params: dict[str, Any],
        *,
        by: str = "approver",
        chosen: str = "Approve",
        run_id: str | None = None,
        user: str = "ops",
        in_airflow: bool = True,
    ) -> Any:
        """Answer the case's approval task as ``by`` in run ``run_id`` (default: the case id)."""
        import datetime as dt

        from offboarding.cases import COMPANY_DAG_ID, PERSON_DAG_ID, company_case_id, person_case_id
        from offboarding.operators.approval import ApproveDeletionOperator
        from offboarding.operators.approvers import APPROVAL_TASK_IDS

        company = "credit_code" in params
        task_id = APPROVAL_TASK_IDS["company" if company else "person"]
        run_id = run_id or (company_case_id(params) if company else person_case_id(params))
        context = self.make_context(params, task_id=task_id, run_id=run_id, user=user)
        at = dt.datetime.now(dt.UTC)
        if in_airflow:
            self.record(
                dag_id=COMPANY_DAG_ID if company else PERSON_DAG_ID,
                run_id=run_id,
                task_id=task_id,
                ti_id=str(context["ti"].id),
                by=by,
                chosen=chosen,
                assigned=tuple(params["approvers"]),
                at=at,
            )
        operator = ApproveDeletionOperator(task_id=task_id)
        event = {
            "chosen_options": [chosen],
            "params_input": {},
            "responded_at": at,
            "responded_by_user": {"id": by, "name": by},
        }
        return operator._record_answer(context, event)


@pytest.fixture
def airflow_approvals(make_context: Any, monkeypatch: pytest.MonkeyPatch) -> FakeAirflowApprovals:
    """Airflow's approval records for the deletion operators (replaces the REST reader)."""
    fake = FakeAirflowApprovals(make_context)
    monkeypatch.setattr("offboarding.operators.approvers.approval_records", lambda: fake)
    return fake
