"""``ApproveDeletionOperator``: who it is assigned to, and what it writes to the ledger when answered."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk.exceptions import AirflowFailException

from offboarding.cases import company_case_id, person_case_id
from offboarding.operators.approval import ApproveDeletionOperator

COMPANY = {
    "company_name": "示例科技有限公司",
    "credit_code": "91350100M000100Y43",
    "procedure": "general",
    "legal_representative": "legal",
    "finance_owner": "finance",
    "approvers": ["legal", "approver"],
    "successor_userid": "admin01",
    "backup_target": "test",  # the root tests/operators/conftest.py declares
    "dry_run": False,
}


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[list[dict[str, str]]]:
    """The assigned users each time the operator parks for an answer (Airflow's part is not run)."""
    seen: list[list[dict[str, str]]] = []
    monkeypatch.setattr(
        ApprovalOperator, "execute", lambda self, context: seen.append(list(self.assigned_users))
    )
    return seen


def ask(params: dict[str, Any], make_context: Any, task_id: str, **context: Any) -> None:
    operator = ApproveDeletionOperator(task_id=task_id, approvers=",".join(params["approvers"]))
    operator.execute(make_context(params, task_id=task_id, **context))


def test_the_company_legal_representative_is_never_assigned(asked: list[Any], make_context: Any) -> None:
    params = dict(COMPANY)
    ask(params, make_context, "approve_member_deletion", run_id=company_case_id(params))
    assert asked == [[{"id": "approver", "name": "approver"}]]


def test_asking_a_self_approver_is_refused_before_anything_is_asked(
    asked: list[Any], sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(approvers=["ops"])
    with pytest.raises(AirflowFailException, match="approvers: ops is the user who triggered this case"):
        ask(params, make_context, "approve_deletion", run_id=person_case_id(params), user="ops")
    assert asked == []


def test_the_answer_is_recorded_with_run_task_instance_and_manifest(
    sample_person_case: Any, airflow_approvals: Any, case_ledger: Any
) -> None:
    params = sample_person_case()
    airflow_approvals.approve(params)
    ledger = case_ledger(params)
    (entry,) = [e for e in ledger.entries() if e.action == "approval.approved"]
    (record,) = airflow_approvals.records.values()
    assert entry.actor == "approver"
    assert entry.result["run_id"] == "offboard-lisi"
    assert entry.result["ti_id"] == record.ti_id
    assert entry.result["manifest_sha256"] is None  # no verified backup yet: it will not count
