"""Every task of the case DAGs is retried per the policy, and a failure no retry can fix skips them.

A worker lost mid-task (a crashed container, a Celery worker killed) or WeCom unreachable for a while
must cost a retry, not the case: every step re-reads WeCom and the ledger before it acts, so a retry
never double-acts (tests/operators prove that step by step; tests/distributed kills a worker).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import CaseOperator, with_retry_defaults
from offboarding.policy import get_policy, reload_policy
from offboarding.wecom.errors import WeComConfigError

REPO = Path(__file__).resolve().parents[2]
CASE_DAGS = ("offboard_employee", "dissolve_company")


@pytest.fixture(scope="module")
def case_dags() -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    return {dag_id: bag.dags[dag_id] for dag_id in CASE_DAGS}


def _retry_settings(task: Any) -> tuple[int, dt.timedelta, bool]:
    return task.retries, task.retry_delay, bool(task.retry_exponential_backoff)


@pytest.mark.parametrize("dag_id", CASE_DAGS)
def test_every_step_that_acts_or_asks_is_retried_per_the_policy(
    case_dags: dict[str, Any], dag_id: str
) -> None:
    policy = get_policy().task_retries
    expected = (policy.retries, policy.first_delay, True)
    # Only the pure legal waits (absolute deadlines, deferred) and the DAG's own joins retry nothing.
    exempt = {"LegalDeadlineSensor", "EmptyOperator"}
    wrong = {
        task.task_id: _retry_settings(task)
        for task in case_dags[dag_id].tasks
        if type(task).__name__ not in exempt and _retry_settings(task) != expected
    }
    assert wrong == {}
    assert all(
        t.max_retry_delay == policy.max_delay
        for t in case_dags[dag_id].tasks
        if type(t).__name__ not in exempt
    )


def test_the_member_batches_are_retried_although_partial_skips_init(case_dags: dict[str, Any]) -> None:
    batch = case_dags["dissolve_company"].get_task("offboard_all_members.offboard_member_batch")
    assert batch.retries == get_policy().task_retries.retries
    assert batch.retry_exponential_backoff


def test_a_deployment_override_changes_the_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "override.yaml"
    override.write_text("task_retries: {retries: 5, first_delay_seconds: 7}\n", "utf-8")
    monkeypatch.setenv("OFFBOARDING_POLICY_FILE", str(override))
    reload_policy()
    try:
        kwargs = with_retry_defaults({})
        assert (kwargs["retries"], kwargs["retry_delay"]) == (5, dt.timedelta(seconds=7))
        assert with_retry_defaults({"retries": 0})["retries"] == 0  # a task's own setting wins
    finally:
        monkeypatch.delenv("OFFBOARDING_POLICY_FILE")
        reload_policy()


class _WrongSecret(CaseOperator):
    def run(self, case: Any, context: Any) -> Any:
        raise WeComConfigError(
            40001, "invalid credential", "/cgi-bin/user/get", hint="check the wecom connection"
        )


def test_a_configuration_error_fails_at_once_with_what_to_fix(tmp_path: Path) -> None:
    from types import SimpleNamespace

    task = _WrongSecret(task_id="check_case")
    assert task.retries == get_policy().task_retries.retries
    context = {
        "params": {"userid": "lisi", "backup_target": ""},
        "dag_run": SimpleNamespace(run_id="offboard-lisi", triggering_user_name="admin"),
    }
    with pytest.raises(AirflowFailException, match="check the wecom connection"):
        task.execute(context)  # type: ignore[arg-type]
