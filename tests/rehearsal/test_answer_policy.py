"""The rehearsal's answer policy, exhaustively: pure decisions from a step, the run's conf and the sandbox account."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from offboarding_dev.rehearsal.answers import (
    COMPANY_PREFERENCES,
    DEREGISTERED,
    REVIEW_PASSED,
    REVIEW_REJECTED,
    REVOKED,
    Answer,
    AnswerPolicy,
    CannotAnswer,
    HumanStep,
    Override,
    Wait,
    parse_overrides,
    prefer,
)

REPO = Path(__file__).resolve().parents[2]
# 2026-03-01 17:30:05 UTC is 2026-03-02 01:30:05 in Asia/Shanghai: the date must be Shanghai's.
NOW = dt.datetime(2026, 3, 1, 17, 30, 5, tzinfo=dt.UTC)


def policy(overrides: Any = None, **kwargs: Any) -> AnswerPolicy:
    return AnswerPolicy(overrides, now=lambda: NOW, **kwargs)


def field(schema: dict[str, Any], value: Any = None) -> dict[str, Any]:
    return {"value": value, "description": None, "schema": schema}


def step(
    task_id: str, options: tuple[str, ...] = ("Done",), run_id: str = "offboard-lisi", **kw: Any
) -> HumanStep:
    return HumanStep(dag_id="offboard_employee", run_id=run_id, task_id=task_id, options=options, **kw)


DEREG_OPTIONS = {
    "record_submission": ("Done",),
    "confirm_review_outcome": (REVIEW_PASSED, REVIEW_REJECTED),
    "confirm_deregistration_outcome": (DEREGISTERED, REVOKED),
}


def dereg(name: str, **kw: Any) -> HumanStep:
    params = {
        "record_submission": {"submitted_at": field({"type": ["null", "string"], "format": "date-time"})},
        "confirm_review_outcome": {"reason": field({"type": ["null", "string"]})},
        "confirm_deregistration_outcome": {
            "revoked_at": field({"type": ["null", "string"], "format": "date-time"})
        },
    }[name]
    return step(f"account_deregistration.{name}", DEREG_OPTIONS[name], params=params, **kw)


def account(status: str, **fields: Any) -> dict[str, Any]:
    base = {
        "userid": "lisi",
        "status": status,
        "submitted_at": None,
        "review_due_hint": None,
        "reviewed_at": None,
        "review_outcome": None,
        "reject_reason": None,
        "cooling_off_ends_at": None,
        "revoked_at": None,
        "deregistered_at": None,
        "events": [],
    }
    return base | fields


CONF = {"userid": "lisi", "wecom_conn_id": "wecom_default"}


# -- statutory and legal forms: "Done" with plausible evidence -------------------------------------


def test_a_statutory_form_is_done_with_evidence_for_every_field() -> None:
    form = step(
        "statutory_steps.stop_social_insurance",
        params={
            "stopped_on": field({"type": ["null", "string"], "format": "date"}),
            "registered_at": field({"type": ["null", "string"], "format": "date-time"}),
            "at_time": field({"type": ["null", "string"], "format": "time"}),
            "reference": field({"type": ["null", "string"], "title": "Reference"}),
            "notes": field({"type": ["null", "string"], "format": "multiline"}),
            "confirmed": field({"type": ["null", "boolean"]}),
            "channel": field({"type": ["null", "string"], "enum": [None, "online", "counter"]}),
            "count": field({"type": ["null", "integer"]}),
            "copies": field({"type": ["null", "integer"], "minimum": 2}),
            "amount": field({"type": "number"}),
            "files": field({"type": ["null", "array"]}),
            "names": field({"type": "array", "minItems": 1}),
            "extra": field({"type": "object"}),
            "plain": field({}, value="kept"),
            "bare": field({}),
            "typeless_date": field({"format": "date"}),
        },
    )
    decision = policy().answer(form, conf=CONF)
    assert decision == Answer(
        ("Done",),
        {
            "stopped_on": "2026-03-02",
            "registered_at": "2026-03-02T01:30:05+08:00",
            "at_time": "01:30:05",
            "reference": "REHEARSAL-stop_social_insurance",
            "notes": "REHEARSAL-stop_social_insurance",
            "confirmed": True,
            "channel": "online",
            "count": 0,
            "copies": 2,
            "amount": 0,
            "files": [],
            "names": ["REHEARSAL-stop_social_insurance"],
            "extra": {},
            "plain": "kept",
            "bare": "REHEARSAL-stop_social_insurance",
            "typeless_date": "2026-03-02",
        },
        "default",
    )


def test_an_approval_is_approved() -> None:
    decision = policy().answer(step("approve_deletion", ("Approve", "Reject")), conf=CONF)
    assert isinstance(decision, Answer)
    assert decision.chosen_options == ("Approve",)
    assert decision.params_input == {}


@pytest.mark.parametrize(
    ("options", "chosen"),
    [
        (("OK",), "OK"),
        (("Yes", "No"), "Yes"),
        (("Alpha", "Beta"), "Alpha"),
        (("Later", "Done"), "Done"),
    ],
)
def test_other_steps_choose_done_approve_ok_yes_else_the_first_option(
    options: tuple[str, ...], chosen: str
) -> None:
    decision = policy().answer(step("some_step", options), conf=CONF)
    assert isinstance(decision, Answer)
    assert decision.chosen_options == (chosen,)


def test_a_step_without_options_cannot_be_answered() -> None:
    decision = policy().answer(step("odd", ()), conf=CONF)
    assert isinstance(decision, CannotAnswer)
    assert "offers no option" in decision.reason


# -- company steps --------------------------------------------------------------------------------

COMPANY_CASES = [
    ("confirm_procedure_eligibility", ("Not eligible", "Eligible"), "Eligible"),
    ("confirm_tax_deregistration", ("Not required", "清税证明 issued"), "清税证明 issued"),
    ("confirm_tax_deregistration", ("Pending", "清税证明 obtained (已取得)"), "清税证明 obtained (已取得)"),
    ("confirm_tax_deregistration", ("Refused", "Tax cleared"), "Tax cleared"),
    ("confirm_social_insurance_closed", ("Open", "Social insurance closed"), "Social insurance closed"),
    ("record_notice_publication", ("Not yet", "Published"), "Published"),
    ("record_creditor_objections", ("Objections received", "No objections"), "No objections"),
    ("resolve_creditor_objection", ("Escalate", "Resolved"), "Resolved"),
    ("close_wecom_enterprise", ("Blocked", "Enterprise closed"), "Enterprise closed"),
    ("close_wecom_enterprise", ("Blocked", "Done"), "Done"),
]


@pytest.mark.parametrize(("task", "options", "chosen"), COMPANY_CASES)
def test_company_steps_choose_their_sensible_default(
    task: str, options: tuple[str, ...], chosen: str
) -> None:
    decision = policy().answer(step(f"wind_up.{task}", options, run_id="dissolve-x"), conf={})
    assert isinstance(decision, Answer)
    assert decision.chosen_options == (chosen,)
    assert decision.why == "company default"


def test_every_company_step_of_the_brief_has_a_default() -> None:
    assert set(COMPANY_PREFERENCES) == {
        "confirm_procedure_eligibility",
        "confirm_tax_deregistration",
        "confirm_social_insurance_closed",
        "record_notice_publication",
        "record_creditor_objections",
        "resolve_creditor_objection",
        "close_wecom_enterprise",
    }


def test_a_company_step_whose_labels_are_unknown_falls_back_to_the_generic_choice() -> None:
    decision = policy().answer(step("record_creditor_objections", ("Zero", "Some")), conf={})
    assert isinstance(decision, Answer)
    assert decision.chosen_options == ("Zero",)
    assert decision.why == "default"


def test_company_preferences_can_be_replaced() -> None:
    custom = policy(company_preferences={"confirm_procedure_eligibility": ("Not eligible",)})
    decision = custom.answer(step("confirm_procedure_eligibility", ("Eligible", "Not eligible")), conf={})
    assert isinstance(decision, Answer)
    assert decision.chosen_options == ("Not eligible",)


def test_prefer_matches_exactly_first_then_by_prefix_ignoring_case() -> None:
    assert prefer(["Done later", "Done"], ["Done"]) == "Done"
    assert prefer(["done (完成)"], ["Done"]) == "done (完成)"
    assert prefer(["A", "B"], ["C"]) is None


# -- overrides ----------------------------------------------------------------------------------


def test_a_per_run_override_changes_only_that_run() -> None:
    rules = policy({"offboard-lisi": {"approve_deletion": "Reject"}})
    approval = ("Approve", "Reject")
    lisi = rules.answer(step("approve_deletion", approval), conf=CONF)
    other = rules.answer(step("approve_deletion", approval, run_id="offboard-wangwu"), conf=CONF)
    assert isinstance(lisi, Answer) and isinstance(other, Answer)
    assert lisi.chosen_options == ("Reject",)
    assert lisi.why == "override for offboard-lisi"
    assert other.chosen_options == ("Approve",)


def test_a_star_override_applies_to_every_run_and_a_run_override_wins() -> None:
    rules = policy({"*": {"approve_deletion": "Reject"}, "offboard-lisi": {"approve_deletion": "Approve"}})
    approval = ("Approve", "Reject")
    assert rules.answer(
        step("approve_deletion", approval, run_id="offboard-x"), conf=CONF
    ).chosen_options == (  # type: ignore[union-attr]
        "Reject",
    )
    assert rules.answer(step("approve_deletion", approval), conf=CONF).chosen_options == ("Approve",)  # type: ignore[union-attr]


def test_an_override_matches_the_full_task_id_or_the_short_name() -> None:
    full = policy({"offboard-lisi": {"statutory_steps.stop_social_insurance": "Later"}})
    short = policy({"offboard-lisi": {"stop_social_insurance": "Later"}})
    for rules in (full, short):
        decision = rules.answer(step("statutory_steps.stop_social_insurance", ("Done", "Later")), conf=CONF)
        assert isinstance(decision, Answer)
        assert decision.chosen_options == ("Later",)


def test_override_params_are_merged_over_the_generated_evidence() -> None:
    rules = policy(
        {"offboard-lisi": {"stop_social_insurance": {"option": "Done", "params": {"reference": "SB-1"}}}}
    )
    form = step(
        "stop_social_insurance",
        params={
            "reference": field({"type": ["null", "string"]}),
            "stopped_on": field({"type": ["null", "string"], "format": "date"}),
        },
    )
    decision = rules.answer(form, conf=CONF)
    assert decision == Answer(
        ("Done",), {"reference": "SB-1", "stopped_on": "2026-03-02"}, "override for offboard-lisi"
    )


def test_an_evidence_only_override_keeps_the_default_option() -> None:
    rules = policy({"offboard-lisi": {"stop_social_insurance": {"params": {"reference": "SB-2"}}}})
    decision = rules.answer(
        step("stop_social_insurance", params={"reference": field({"type": "string"})}), conf=CONF
    )
    assert isinstance(decision, Answer)
    assert decision.chosen_options == ("Done",)
    assert decision.params_input == {"reference": "SB-2"}
    assert decision.why.endswith("(evidence overridden)")


def test_an_override_that_is_not_an_option_is_reported_not_sent() -> None:
    decision = policy({"offboard-lisi": {"approve_deletion": "Maybe"}}).answer(
        step("approve_deletion", ("Approve", "Reject")), conf=CONF
    )
    assert isinstance(decision, CannotAnswer)
    assert "'Maybe' is not an option" in decision.reason
    assert "Approve, Reject" in decision.reason


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("Reject", "must map run ids"),
        ({"": {"a": "b"}}, "non-empty strings"),
        ({"r": "Reject"}, "overrides[r]: must map task ids"),
        ({"r": {"t": ""}}, "must not be empty"),
        ({"r": {"t": 3}}, "must be an option name"),
        ({"r": {"t": {"choice": "x"}}}, "unknown key(s) ['choice']"),
        ({"r": {"t": {"option": 1}}}, "option: must be a non-empty string"),
        ({"r": {"t": {"params": []}}}, "params: must be an object"),
        ({"r": {"t": {}}}, "give an 'option', 'params' or both"),
    ],
)
def test_bad_overrides_are_refused_naming_the_place(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match="overrides") as err:
        parse_overrides(raw)
    assert message in str(err.value)


def test_overrides_parse_both_forms() -> None:
    assert parse_overrides({"r": {"a": "X", "b": {"option": "Y", "params": {"k": 1}}}}) == {
        "r": {"a": Override("X"), "b": Override("Y", {"k": 1})}
    }
    assert parse_overrides(None) == {}


# -- account deregistration: follows the sandbox --------------------------------------------------


def test_deregistration_steps_need_the_account_unless_an_option_is_overridden() -> None:
    rules = policy(
        {
            "offboard-lisi": {"confirm_review_outcome": REVIEW_REJECTED},
            "*": {"record_submission": {"params": {"x": 1}}},
        }
    )
    assert not rules.needs_account(dereg("confirm_review_outcome"))
    assert rules.needs_account(dereg("record_submission"))
    assert rules.needs_account(dereg("confirm_deregistration_outcome"))
    assert not rules.needs_account(step("stop_social_insurance"))


def test_the_submission_waits_until_the_person_submitted_in_the_sandbox() -> None:
    decision = policy().answer(dereg("record_submission"), conf=CONF, account=account("active"))
    assert decision == Wait("lisi has not submitted the deregistration yet (account active)")


def test_the_submission_records_the_sandbox_time_in_shanghai_time() -> None:
    submitted = account("under_review", submitted_at="2026-03-01T17:00:00.250000Z")
    decision = policy().answer(dereg("record_submission"), conf=CONF, account=submitted)
    assert isinstance(decision, Answer)
    assert decision.chosen_options == ("Done",)
    assert decision.params_input == {"submitted_at": "2026-03-02T01:00:00+08:00"}


def test_a_refused_submission_is_reported_with_wecoms_reason() -> None:
    refused = account(
        "active", events=[{"event": "submission_refused", "reason": "an admin cannot deregister"}]
    )
    decision = policy().answer(dereg("record_submission"), conf=CONF, account=refused)
    assert isinstance(decision, CannotAnswer)
    assert "an admin cannot deregister" in decision.reason


def test_a_company_case_uses_the_admin_userid() -> None:
    assert AnswerPolicy.account_userid({"admin_userid": "zhangsan"}) == "zhangsan"
    assert AnswerPolicy.account_userid({"userid": "lisi", "admin_userid": "x"}) == "lisi"
    assert AnswerPolicy.account_userid({}) is None


def test_deregistration_without_a_userid_or_an_account_cannot_be_answered() -> None:
    no_user = policy().answer(dereg("record_submission"), conf={}, account=account("active"))
    no_account = policy().answer(dereg("record_submission"), conf=CONF, account=None)
    assert isinstance(no_user, CannotAnswer) and "no userid/admin_userid" in no_user.reason
    assert isinstance(no_account, CannotAnswer) and "not available" in no_account.reason


def test_a_passed_review_is_confirmed_without_a_rejection_reason() -> None:
    passed = account("cooling_off", submitted_at="2026-03-01T00:00:00Z", review_outcome="pass")
    decision = policy().answer(dereg("confirm_review_outcome"), conf=CONF, account=passed)
    assert decision == Answer(
        (REVIEW_PASSED,), {"reason": None}, "the sandbox reviewer passed lisi's request"
    )


def test_a_rejected_review_carries_the_reviewers_reason() -> None:
    rejected = account("rejected", review_outcome="reject", reject_reason="账号存在安全风险")
    decision = policy().answer(dereg("confirm_review_outcome"), conf=CONF, account=rejected)
    assert isinstance(decision, Answer)
    assert decision.chosen_options == (REVIEW_REJECTED,)
    assert decision.params_input == {"reason": "账号存在安全风险"}


def test_the_review_waits_while_under_review() -> None:
    pending = account("under_review", review_due_hint="2026-03-03T00:00:00Z")
    decision = policy().answer(dereg("confirm_review_outcome"), conf=CONF, account=pending)
    assert decision == Wait("lisi's request is under review (expected by 2026-03-03T00:00:00Z)")


def test_a_request_revoked_during_review_is_left_to_a_person() -> None:
    decision = policy().answer(dereg("confirm_review_outcome"), conf=CONF, account=account("revoked"))
    assert isinstance(decision, CannotAnswer)
    assert "answer it in the UI" in decision.reason


def test_a_deregistered_account_is_confirmed() -> None:
    gone = account("deregistered", deregistered_at="2026-03-16T00:00:00Z")
    decision = policy().answer(dereg("confirm_deregistration_outcome"), conf=CONF, account=gone)
    assert decision == Answer(
        (DEREGISTERED,), {"revoked_at": None}, "the sandbox deregistered lisi's account"
    )


def test_a_revocation_records_the_login_time_in_shanghai_time() -> None:
    revoked = account("revoked", revoked_at="2026-03-05T04:00:00Z")
    decision = policy().answer(dereg("confirm_deregistration_outcome"), conf=CONF, account=revoked)
    assert isinstance(decision, Answer)
    assert decision.chosen_options == (REVOKED,)
    assert decision.params_input == {"revoked_at": "2026-03-05T12:00:00+08:00"}


@pytest.mark.parametrize("status", ["cooling_off", "under_review"])
def test_the_outcome_waits_until_the_cooling_off_ended(status: str) -> None:
    pending = account(status, cooling_off_ends_at="2026-03-16T00:00:00Z")
    decision = policy().answer(dereg("confirm_deregistration_outcome"), conf=CONF, account=pending)
    assert isinstance(decision, Wait)
    assert status in decision.reason


def test_an_outcome_no_option_fits_is_left_to_a_person() -> None:
    decision = policy().answer(dereg("confirm_deregistration_outcome"), conf=CONF, account=account("active"))
    assert isinstance(decision, CannotAnswer)
    assert "'active'" in decision.reason


def test_changed_option_labels_are_reported_instead_of_guessed() -> None:
    renamed = step("account_deregistration.confirm_review_outcome", ("Passed", "Rejected"))
    decision = policy().answer(renamed, conf=CONF, account=account("cooling_off", review_outcome="pass"))
    assert isinstance(decision, CannotAnswer)
    assert "expected the option 'Review passed'" in decision.reason


def test_an_overridden_deregistration_step_does_not_need_the_sandbox() -> None:
    rules = policy(
        {
            "offboard-lisi": {
                "confirm_review_outcome": {"option": REVIEW_REJECTED, "params": {"reason": "test"}}
            }
        }
    )
    decision = rules.answer(dereg("confirm_review_outcome"), conf=CONF, account=None)
    assert decision == Answer((REVIEW_REJECTED,), {"reason": "test"}, "override for offboard-lisi")


# -- reading the API's description of a step -----------------------------------------------------


def test_a_step_is_read_from_the_hitl_details_api() -> None:
    item = {
        "options": ["Approve", "Reject"],
        "subject": "Approve deleting 李四 (lisi)",
        "multiple": False,
        "params": {"reference": {"value": None, "description": None, "schema": {"type": "string"}}, "raw": 3},
        "assigned_users": [{"id": "approver", "name": "approver"}],
        "task_instance": {
            "dag_id": "offboard_employee",
            "dag_run_id": "offboard-lisi",
            "task_id": "approve_deletion",
            "map_index": -1,
            "try_number": 2,
            "state": "awaiting_input",
        },
    }
    parsed = HumanStep.from_api(item)
    assert parsed == HumanStep(
        dag_id="offboard_employee",
        run_id="offboard-lisi",
        task_id="approve_deletion",
        options=("Approve", "Reject"),
        params={
            "reference": {"value": None, "description": None, "schema": {"type": "string"}},
            "raw": {"value": 3, "schema": {}},
        },
        assigned_users=("approver",),
        subject="Approve deleting 李四 (lisi)",
        map_index=-1,
        try_number=2,
        state="awaiting_input",
    )
    assert parsed.key == ("offboard_employee", "offboard-lisi", "approve_deletion", -1, 2)
    assert step("statutory_steps.stop_social_insurance").name == "stop_social_insurance"


def test_the_labels_match_the_deregistration_workflow() -> None:
    """The policy repeats the workflow's option labels (to avoid importing Airflow): they must agree."""
    from airflow.dag_processing.dagbag import DagBag

    from offboarding.workflows import deregistration as workflow

    assert (REVIEW_PASSED, REVIEW_REJECTED, DEREGISTERED, REVOKED) == (
        workflow.REVIEW_PASSED,
        workflow.REVIEW_REJECTED,
        workflow.DEREGISTERED,
        workflow.REVOKED,
    )
    bag = DagBag(dag_folder=str(REPO / "dags" / "offboard_employee.py"))
    assert not bag.import_errors
    human = {
        task.task_id.rsplit(".", 1)[-1]: task
        for task in bag.dags["offboard_employee"].tasks
        if task.task_id.rsplit(".", 1)[-1] in DEREG_OPTIONS
    }
    assert set(human) == set(DEREG_OPTIONS)
    for name, options in DEREG_OPTIONS.items():
        assert tuple(human[name].options) == options


def test_the_company_dag_gets_its_happy_path_answers() -> None:
    """Against the real company DAG: eligible, tax cleared, no objections, every other step done."""
    from airflow.dag_processing.dagbag import DagBag

    from offboarding.workflows import company

    bag = DagBag(dag_folder=str(REPO / "dags" / "dissolve_company.py"))
    assert not bag.import_errors
    dag = bag.dags["dissolve_company"]
    happy = {
        "confirm_procedure_eligibility": company.ELIGIBLE,
        "confirm_tax_deregistration": company.TAX_CLEARED,
        "record_creditor_objections": company.NO_OBJECTIONS,
    }
    answered = {}
    for task in dag.tasks:
        name = task.task_id.rsplit(".", 1)[-1]
        if name not in COMPANY_PREFERENCES or not hasattr(task, "options"):
            continue
        decision = policy().answer(step(task.task_id, tuple(task.options), run_id="dissolve-x"), conf={})
        assert isinstance(decision, Answer)
        answered[name] = decision.chosen_options[0]
    assert set(answered) >= {*happy, "confirm_social_insurance_closed", "close_wecom_enterprise"}
    for name, option in happy.items():
        assert answered[name] == option
