"""The trigger form parsed once into PersonCase / CompanyCase: the form's names, typed values, one validation."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from offboarding.cases import (
    CompanyCase,
    InvalidCase,
    PersonCase,
    company_case_id,
    parse_case,
    parse_company_case,
    parse_person_case,
    person_case_id,
    validate_company_case,
    validate_person_case,
)
from offboarding.timescale import TimeScale

PERSON_FORM: dict[str, Any] = {
    "userid": "Lin..Feng@corp.cn",
    "display_name": "林峰",
    "last_working_day": "2026-11-20",
    "successor_userid": "wangwu",
    "hr_owner": "hr",
    "approvers": ["approver", "legal"],
    "time_scale": 86400,
}
COMPANY_FORM: dict[str, Any] = {
    "company_name": "示例科技有限公司",
    "credit_code": "91350100M000100Y43",
    "procedure": "simplified",
    "legal_representative": "legal",
    "finance_owner": "finance",
    "approvers": ["approver"],
    "successor_userid": "wangwu",
    "admin_userid": "admin01",
    "deregister_admin_account": True,
}


def test_a_person_form_keeps_its_names_and_gets_typed_values() -> None:
    case = parse_person_case(PERSON_FORM)
    assert isinstance(case, PersonCase)
    assert (case.userid, case.successor_userid) == ("Lin..Feng@corp.cn", "wangwu")  # as typed, never renamed
    assert case.last_working_day == dt.date(2026, 11, 20)
    assert case.approvers == ("approver", "legal")
    assert case.time_scale == TimeScale(86400)
    # the schema's defaults fill what the form left out
    assert (case.role, case.wedrive_space_ids, case.backup_target, case.dry_run) == (
        "employee",
        (),
        "",
        False,
    )
    assert (case.notify.webhook_conn_id, case.notify.userids, case.wecom_conn_id) == (
        None,
        (),
        "wecom_default",
    )
    assert case.case_id == person_case_id(PERSON_FORM)
    assert parse_case(PERSON_FORM) == case


def test_a_company_form_is_typed_too() -> None:
    case = parse_company_case(COMPANY_FORM)
    assert isinstance(case, CompanyCase)
    assert (case.credit_code, case.procedure, case.admin_userid) == (
        "91350100M000100Y43",
        "simplified",
        "admin01",
    )
    assert case.deregister_admin_account is True
    assert case.time_scale.is_real_time
    assert case.case_id == company_case_id(COMPANY_FORM)
    assert parse_case(COMPANY_FORM) == case


def test_a_parsed_case_cannot_be_changed_on_the_way() -> None:
    case = parse_person_case(PERSON_FORM)
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.userid = "someone_else"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("form", "validate", "parse"),
    [
        (
            {**PERSON_FORM, "userid": "li si", "last_working_day": "20.11.2026", "time_scale": 0.5},
            validate_person_case,
            parse_person_case,
        ),
        ({**PERSON_FORM, "successor_userid": "LIN..FENG@corp.cn"}, validate_person_case, parse_person_case),
        (
            {**COMPANY_FORM, "credit_code": "91350100M000100Y44", "admin_userid": ""},
            validate_company_case,
            parse_company_case,
        ),
        ({"company_name": "x", "time_scale": float("inf")}, validate_company_case, parse_company_case),
    ],
)
def test_a_bad_form_is_refused_with_the_one_validation_naming_each_field(
    form: Any, validate: Any, parse: Any
) -> None:
    with pytest.raises(InvalidCase) as refused:
        parse(form)
    assert refused.value.problems == validate(form)  # the same validation, not a second one
    assert refused.value.problems
    for problem in refused.value.problems:
        assert f"{problem.field}: {problem.message}" in str(refused.value)


def test_a_task_reads_the_typed_form_from_its_case() -> None:
    from offboarding.operators.base import Case

    context: Any = {
        "params": dict(PERSON_FORM),
        "dag_run": SimpleNamespace(run_id="offboard-x", triggering_user_name="ops"),
    }
    case = Case.from_context(context)
    assert case.form is case.form  # parsed once per task
    assert case.person.last_working_day == dt.date(2026, 11, 20)
    assert case.time_scale == TimeScale(86400)
    with pytest.raises(TypeError, match="not a company case"):
        _ = case.company
    company: Any = {
        "params": dict(COMPANY_FORM),
        "dag_run": SimpleNamespace(run_id="dissolve-x", triggering_user_name="ops"),
    }
    assert Case.from_context(company).company.procedure == "simplified"


def test_an_invalid_form_fails_the_task_without_retries() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from offboarding.operators.base import Case, config_errors_fail_the_task

    context: Any = {
        "params": {**PERSON_FORM, "approvers": []},
        "dag_run": SimpleNamespace(run_id="r", triggering_user_name="ops"),
    }
    with (
        pytest.raises(AirflowFailException, match=r"approvers: needs at least 1 entry"),
        config_errors_fail_the_task(),
    ):
        _ = Case.from_context(context).person


def test_a_human_steps_own_fields_beside_the_form_do_not_stop_it_reading_the_form() -> None:
    """A human step's params are the form plus its evidence fields (Airflow merges them)."""
    from offboarding.operators.base import Case

    params = {**COMPANY_FORM, "published_on": "2026-11-02", "objections": False}
    context: Any = {
        "params": params,
        "dag_run": SimpleNamespace(run_id="dissolve-x", triggering_user_name="ops"),
    }
    assert Case.from_context(context).company.procedure == "simplified"
    with pytest.raises(InvalidCase, match=r"published_on: unknown field"):
        parse_company_case(params)  # check_case reads the run's form itself, strictly
