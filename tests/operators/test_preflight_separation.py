"""``check_case``: separation of duties against the deployment's lists and the trigger user, before any
side effect; the run id of a dry run; the case.opened entry the evidence report names the trigger user from."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.cases import person_case_id
from offboarding.operators.preflight import CheckCaseOperator


def check(params: dict[str, Any], make_context: Any, **context: Any) -> dict[str, Any]:
    context.setdefault("run_id", person_case_id(params))
    return CheckCaseOperator(task_id="check_case").execute(
        make_context(params, task_id="preflight.check_case", **context)
    )


@pytest.fixture
def opened(case_store: Any) -> Any:
    """``opened(params)``: whether check_case claimed the case folder (wrote its case.json)."""
    return lambda params: case_store(params).exists(person_case_id(params), "case.json")


@pytest.fixture
def refused(make_context: Any, opened: Any) -> Any:
    """``refused(params, match, **context)``: check_case fails with ``match`` and writes nothing."""

    def refuse(params: dict[str, Any], match: str, **context: Any) -> None:
        with pytest.raises(AirflowFailException, match=match):
            check(params, make_context, **context)
        assert not opened(params)

    return refuse


def test_a_valid_case_opens_and_the_report_names_who_triggered(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, case_store: Any, opened: Any
) -> None:
    from offboarding.evidence import render_report

    params = sample_person_case()
    check(params, make_context, user="ops_li")
    assert opened(params)
    markdown = render_report(case_store(params), person_case_id(params))
    assert "- **发起人 Triggered by**: `ops_li`" in markdown
    assert f"- **名称 Name**: {params['display_name']}" in markdown  # the person's name, from the form


def test_the_trigger_user_naming_themselves_approver_is_refused(
    wecom_conn: Any, sample_person_case: Any, refused: Any
) -> None:
    params = sample_person_case(approvers=["approver", "ops"])
    refused(params, r"approvers: ops is the user who triggered this case", user="ops")
    # the same user name in other letters is the same person
    refused(params, r"approvers: ops is the user who triggered this case", user="OPS")


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"approvers": ["lisi"]}, r"approvers: lisi is the departing person \(userid\)"),
        (
            {"airflow_user": "li_si", "approvers": ["li_si"]},
            r"approvers: li_si is the departing person \(airflow_user\)",
        ),
        ({"approvers": ["wangwu"]}, r"approvers: wangwu is the successor"),
        ({"approvers": ["stranger"]}, r"approvers: stranger is not on the deployment's approver list"),
        ({"hr_owner": "stranger"}, r"hr_owner: stranger is not on the deployment's HR-owner list"),
        ({"hr_owner": "lisi"}, r"hr_owner: lisi is the departing person"),
    ],
    ids=[
        "the person",
        "the person's airflow user",
        "the successor",
        "not listed",
        "hr not listed",
        "hr=person",
    ],
)
def test_an_ineligible_approver_or_hr_owner_is_refused_naming_the_field(
    wecom_conn: Any, sample_person_case: Any, refused: Any, overrides: dict[str, Any], says: str
) -> None:
    refused(sample_person_case(**overrides), says)


def test_without_deployment_lists_every_case_is_refused_saying_how_to_configure(
    wecom_conn: Any, sample_person_case: Any, refused: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_VAR_OFFBOARDING_APPROVERS")
    monkeypatch.delenv("AIRFLOW_VAR_OFFBOARDING_HR_OWNERS")
    params = sample_person_case()
    refused(
        params,
        r"approvers: the deployment declares no approver list.*Variable offboarding_approvers",
    )
    refused(
        params,
        r"hr_owner: the deployment declares no HR owner list.*Variable offboarding_hr_owners",
    )


def test_the_policy_lists_are_the_fallback_of_the_variables(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    refused: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    from offboarding.policy import reload_policy

    monkeypatch.delenv("AIRFLOW_VAR_OFFBOARDING_APPROVERS")
    override = tmp_path / "policy.yaml"
    override.write_text("approvals:\n  approvers: [approver]\n  hr_owners: [hr]\n")
    monkeypatch.setenv("OFFBOARDING_POLICY_FILE", str(override))
    reload_policy()
    try:
        refused(
            sample_person_case(approvers=["approver2"]),
            r"approver2 is not on the deployment's approver list \(policy approvals.approvers",
        )
        check(sample_person_case(), make_context)
    finally:
        monkeypatch.delenv("OFFBOARDING_POLICY_FILE")
        reload_policy()


def test_a_variable_that_is_not_a_json_list_fails_naming_it(
    wecom_conn: Any, sample_person_case: Any, refused: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_OFFBOARDING_APPROVERS", "approver, ops")
    refused(sample_person_case(), "Airflow Variable offboarding_approvers must be a JSON list")


def test_a_dry_run_triggered_with_the_real_case_id_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, refused: Any
) -> None:
    params = sample_person_case(dry_run=True)
    refused(params, "trigger it again with run id dryrun-offboard-lisi", run_id="offboard-lisi")
    check(params, make_context)  # as dryrun-offboard-lisi
