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

from offboarding_dev.testing.approvals import MemoryApprovalRecords
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
def _declared_backup_roots(backup_roots: Any) -> None:
    """The deployment's storage roots in every operator test (``backup_roots`` in tests/conftest.py)."""


# -- the case's folder and ledger, where the operators find them ----------------------------------------


def _case_id(params: dict[str, Any]) -> str:
    from offboarding.cases.case_ids import first_case_id

    return first_case_id(params)


def _case_store(params: dict[str, Any]) -> Any:
    """The store of the root the case's ``backup_target`` names, resolved as the operators resolve it.

    Never ``BackupStore(params["backup_target"])``: that is a root's *name*, and as a path it would be a
    folder relative to the working directory (the repository), not the test's ``tmp_path``.
    """
    from offboarding.backup.roots import resolve_backup_root
    from offboarding.backup.storage import BackupStore

    return BackupStore(resolve_backup_root(params.get("backup_target") or "").url)


def _case_ledger(params: dict[str, Any], case_id: str | None = None) -> Any:
    """The case's evidence ledger with the deployment's evidence key (the tests' key)."""
    from offboarding.evidence.keys import key_from_environment
    from offboarding.evidence.ledger import EvidenceLedger

    return EvidenceLedger(_case_store(params), case_id or _case_id(params), key=key_from_environment())


@pytest.fixture
def case_store(backup_roots: Any) -> Any:
    """``case_store(params)`` -> the BackupStore of the root the case's ``backup_target`` names."""
    return _case_store


@pytest.fixture
def case_ledger(backup_roots: Any) -> Any:
    """``case_ledger(params, case_id=None)`` -> the case's keyed ledger (case id from the params)."""
    return _case_ledger


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


class FakeAirflowApprovals(MemoryApprovalRecords):
    """Airflow's human-in-the-loop records, as the REST API would return them (no api-server here).

    ``approve(params, ...)`` does what happens in Airflow when an approver answers: Airflow records
    the answer (kept here) and ``ApproveDeletionOperator.execute_complete`` writes the ledger entry
    (shared with the benchmarks: offboarding_dev.testing.approvals).
    """


@pytest.fixture
def airflow_approvals(make_context: Any, monkeypatch: pytest.MonkeyPatch) -> FakeAirflowApprovals:
    """Airflow's approval records for the deletion operators (replaces the REST reader)."""
    fake = FakeAirflowApprovals(make_context)
    monkeypatch.setattr("offboarding.operators.approvers.approval_records", lambda: fake)
    return fake


def _record_verified_backup(params: dict[str, Any]) -> str:
    """A backup manifest in the case folder and the ``backup.verified`` entry the verification writes
    for it (contract in offboarding.operators.backup); returns the manifest's sha256 as stored."""
    from offboarding.backup.manifest import MANIFEST_PATH, BackupManifest, write_manifest
    from offboarding.operators.backup import manifest_sha256_on_disk
    from offboarding.policy import get_policy

    store, case_id = _case_store(params), _case_id(params)
    manifest = BackupManifest.start(
        case_id, params["userid"], retention=get_policy().backup.retention_days, encrypted=False
    )
    write_manifest(store, manifest)
    sha256 = manifest_sha256_on_disk(store, case_id)
    assert sha256 is not None
    _case_ledger(params).append(
        "backup.verified",
        actor="airflow:backup.verify_backup_manifest",
        step="backup.verify_backup_manifest",
        key=sha256,
        request={"manifest": MANIFEST_PATH},
        result={"manifest_path": MANIFEST_PATH, "manifest_sha256": sha256, "summary": "all verified"},
    )
    return sha256


@pytest.fixture
def allow_deletion(airflow_approvals: FakeAirflowApprovals, backup_roots: Any) -> Any:
    """``allow_deletion(params, **approve)``: everything deleting a person needs but the deadline.

    A verified backup in the ledger, then the approval given in Airflow (its human-in-the-loop record
    and the ledger entry ``ApproveDeletionOperator`` writes, see ``airflow_approvals``).
    """

    def allow(params: dict[str, Any], **approve: Any) -> str:
        sha256 = _record_verified_backup(params)
        airflow_approvals.approve(params, **approve)
        return sha256

    return allow
