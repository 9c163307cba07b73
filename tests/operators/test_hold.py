"""A legal hold stops every irreversible step at its start, whatever the DAG's edges say.

Against the WeCom sandbox over HTTP: while the case is held, ``delete_member`` (and the other guarded
steps) defer with :class:`CaseReleasedTrigger` before any WeCom call; after the release the step runs
again from its checks and acts; a rescinded case skips the step.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred

from offboarding.cases import person_case_id
from offboarding.operators.base import Case
from offboarding.operators.deletion import DeleteMemberOperator
from offboarding.operators.deregistration import SendDeregistrationGuideOperator
from offboarding.operators.hold import RESUME_METHOD
from offboarding.triggers.case_controls import CaseReleasedTrigger
from offboarding.workflows.company import close_wecom_enterprise

USER_DELETE = "/cgi-bin/user/delete"


def wecom_calls(sandbox: Any) -> dict[str, int]:
    calls = dict(sandbox.control.stats()["calls"])
    calls.pop("/cgi-bin/gettoken", None)
    return calls


def delete_context(params: dict[str, Any], make_context: Any) -> dict[str, Any]:
    return make_context(params, task_id="deletion.delete_member", run_id=person_case_id(params))


def test_a_held_case_defers_the_deletion_before_any_wecom_call(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, allow_deletion: Any, case_controls: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    case_controls.hold(person_case_id(params), reason="litigation hold 2026-17", by="legal_wang")
    wecom_conn.control.reset_stats()

    with pytest.raises(TaskDeferred) as deferred:
        DeleteMemberOperator(task_id="delete_member").execute(delete_context(params, make_context))

    trigger = deferred.value.trigger
    assert isinstance(trigger, CaseReleasedTrigger)
    assert (trigger.case_id, trigger.run_id) == ("offboard-lisi", "offboard-lisi")
    assert deferred.value.method_name == RESUME_METHOD
    assert deferred.value.timeout is None
    assert wecom_calls(wecom_conn) == {}
    assert wecom_conn.control.user("lisi")["deleted"] is False
    case = Case.from_context(delete_context(params, make_context))
    (hold,) = [e for e in case.ledger.entries() if e.action == "case.hold"]
    assert (hold.actor, hold.step, hold.request["reason"]) == (
        "legal_wang",
        "delete_member",
        "litigation hold 2026-17",
    )


def test_after_the_release_the_deletion_runs_from_its_checks(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, allow_deletion: Any, case_controls: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    case_id = person_case_id(params)
    case_controls.hold(case_id)
    operator = DeleteMemberOperator(task_id="delete_member")
    with pytest.raises(TaskDeferred):
        operator.execute(delete_context(params, make_context))
    case_controls.release(case_id)

    result = operator.resume_after_hold(delete_context(params, make_context), {"status": "released"})

    assert result["wecom_answer"] == "deleted"
    assert wecom_conn.control.user("lisi")["deleted"] is True
    assert wecom_conn.control.stats()["write_calls"][USER_DELETE] == 1
    case = Case.from_context(delete_context(params, make_context))
    actions = [e.action for e in case.ledger.entries() if e.action.startswith("case.")]
    assert actions == ["case.hold", "case.release"]  # each once, whoever read them first


def test_held_again_before_the_resume_defers_again(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, allow_deletion: Any, case_controls: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    case_id = person_case_id(params)
    case_controls.hold(case_id)
    case_controls.release(case_id)
    case_controls.hold(case_id, reason="a second hold")
    operator = DeleteMemberOperator(task_id="delete_member")
    with pytest.raises(TaskDeferred):
        operator.resume_after_hold(delete_context(params, make_context), {"status": "released"})
    assert wecom_conn.control.user("lisi")["deleted"] is False


def test_a_rescinded_case_skips_the_deletion(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, allow_deletion: Any, case_controls: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    case_controls.rescind(person_case_id(params), reason="the person stays")
    wecom_conn.control.reset_stats()
    with pytest.raises(AirflowSkipException, match=r"rescinded by ops .*the person stays"):
        DeleteMemberOperator(task_id="delete_member").execute(delete_context(params, make_context))
    assert wecom_calls(wecom_conn) == {}


def test_a_wait_that_ended_in_an_error_fails_clearly(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    with pytest.raises(AirflowFailException, match=r"hold to be released stopped: .*connection missing"):
        DeleteMemberOperator(task_id="delete_member").resume_after_hold(
            delete_context(params, make_context), {"status": "error", "message": "connection missing"}
        )
    assert wecom_conn.control.user("lisi")["deleted"] is False


def test_without_a_way_to_read_the_controls_nothing_is_deleted(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    allow_deletion: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from offboarding.operators import controls

    params = sample_person_case()
    allow_deletion(params)
    monkeypatch.setattr(controls, "controls_reader", lambda: controls.RestControlsReader("no_such_conn"))
    with pytest.raises(AirflowFailException, match=r"cannot read its controls.*Connection no_such_conn"):
        DeleteMemberOperator(task_id="delete_member").execute(delete_context(params, make_context))
    assert wecom_conn.control.user("lisi")["deleted"] is False


def test_the_deregistration_guide_waits_while_held(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, case_controls: Any
) -> None:
    params = sample_person_case(deregister_account=True)
    case_controls.hold(person_case_id(params))
    operator = SendDeregistrationGuideOperator(task_id="send_deregistration_guide", userid="lisi")
    with pytest.raises(TaskDeferred):
        operator.execute(make_context(params, task_id="account_deregistration.send_deregistration_guide"))
    assert wecom_conn.control.messages() == []


def test_the_enterprise_closure_asks_nobody_while_held(case_controls: Any, make_context: Any) -> None:
    params = {"credit_code": "91350100M000100Y43", "company_name": "示例科技有限公司"}
    task = close_wecom_enterprise()
    context = make_context(params, task_id="close_wecom_enterprise", run_id="dissolve-x")
    case_id = "dissolve-91350100M000100Y43"
    case_controls.runs[case_id] = "dissolve-x"
    case_controls.hold(case_id)
    with pytest.raises(TaskDeferred) as deferred:
        task.execute(context)
    assert isinstance(deferred.value.trigger, CaseReleasedTrigger)
    assert deferred.value.method_name == RESUME_METHOD
