"""Deployment defaults of the trigger form: hr_owner and approvers from the policy; the form overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from offboarding.cases import validate_person_case
from offboarding.cases.params import params_from_schema
from offboarding.cases.person import PERSON_CASE_SCHEMA
from offboarding.policy import PolicyError, load_policy

PERSON_ONLY = {
    "userid": "zhangsan",
    "display_name": "张三",
    "last_working_day": "2027-01-10",
    "successor_userid": "lisi",
}


def test_the_policy_declares_default_approvers_and_hr_owner(tmp_path: Path) -> None:
    override = tmp_path / "policy.yaml"
    override.write_text("approvals:\n  default_approvers: [approver_li]\n  default_hr_owner: hr_wang\n")
    approvals = load_policy(override=override).approvals
    assert approvals.default_approvers == ("approver_li",) and approvals.default_hr_owner == "hr_wang"
    override.write_text("approvals:\n  default_hr_owner: [a, b]\n")
    with pytest.raises(PolicyError, match=r"approvals\.default_hr_owner"):
        load_policy(override=override)


def test_form_defaults_fill_an_export_with_only_the_persons_columns() -> None:
    params = params_from_schema(PERSON_CASE_SCHEMA, {"approvers": ["approver_li"], "hr_owner": "hr_wang"})
    assert params["approvers"].value == ["approver_li"] and params["hr_owner"].value == "hr_wang"
    assert not params_from_schema(PERSON_CASE_SCHEMA)["hr_owner"].has_value  # no default: required
    problems = {p.field for p in validate_person_case(PERSON_ONLY)}
    assert {"hr_owner", "approvers"} <= problems
    assert validate_person_case(PERSON_ONLY, deployment_defaults=True) == []
