"""A legal wait marked "success" by hand shortens nothing: each step after it checks its deadline itself.

The steps are called directly, as if their wait had been skipped (UI "Mark success" / REST PATCH): the
deadline lies in the future. They must refuse before any WeCom call, naming the deadline in
Asia/Shanghai time; once the clock is past it (``offboarding.operators.deadlines._now`` moved) they go
on and the ledger holds ``deadline.reached``. The deadline is computed from the case's form and ledger,
never from the wait's XCom (there is none here).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding import legal_time
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.operators import deadlines
from offboarding.operators.company_members import OffboardMemberBatchOperator, PlanMemberBatchesOperator
from offboarding.operators.deadlines import (
    DEADLINE_REACHED,
    PUBLICATION_STEP,
    SUBMISSION_STEP,
    require_deadline_passed,
)
from offboarding.operators.deletion import DeleteMemberOperator
from offboarding.operators.deregistration import VerifyAccountGoneOperator
from offboarding.operators.handover import (
    DisableMemberOperator,
    HandOverCustomerGroupsOperator,
    HandOverCustomersOperator,
    LeaveTagsAndGroupChatsOperator,
)

COMPANY_CASE = "dissolve-91350100M000100Y43"


def move_clock(monkeypatch: pytest.MonkeyPatch, to: pendulum.DateTime) -> None:
    monkeypatch.setattr(deadlines, "_now", lambda: to.in_timezone("UTC"))


def reached(ledger: EvidenceLedger) -> list[Any]:
    return [e for e in ledger.entries() if e.action == DEADLINE_REACHED]


def answer(ledger: EvidenceLedger, step: str, **evidence: Any) -> None:
    """What a human step records when it is answered (HumanStepMixin._record_answer)."""
    ledger.append(
        "human_step.answered",
        actor="someone",
        step=step,
        result={
            "chosen_options": ["Done"],
            "evidence": evidence,
            "responded_at": pendulum.now("UTC").isoformat(),
        },
    )


def no_wecom_call(sandbox: Any) -> None:
    stats = sandbox.control.stats()
    assert stats["calls"] == {}, stats
    assert not stats.get("write_calls"), stats


def tomorrow() -> str:
    return pendulum.now("Asia/Shanghai").add(days=1).to_date_string()


# -- the last working day: the handover steps, disable_member, delete_member ---------------------------------------------------


@pytest.mark.parametrize(
    ("operator_class", "task_id", "what", "effect"),
    [
        (DeleteMemberOperator, "deletion.delete_member", "deleting lisi", "deleted"),
        (DisableMemberOperator, "handover.disable_member", "disabling lisi", "disabled"),
        (HandOverCustomersOperator, "handover.hand_over_customers", "handing over lisi's customers", "sent"),
        (
            HandOverCustomerGroupsOperator,
            "handover.hand_over_customer_groups",
            "handing over lisi's customer groups",
            "sent",
        ),
        (
            LeaveTagsAndGroupChatsOperator,
            "handover.leave_tags_and_group_chats",
            "removing lisi from tags and group chats",
            None,  # proceeding needs the snapshot's XCom: see test_handover.py
        ),
    ],
)
def test_a_step_after_the_last_working_day_refuses_before_it_then_proceeds(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    case_ledger: Any,
    allow_deletion: Any,
    monkeypatch: pytest.MonkeyPatch,
    operator_class: Any,
    task_id: str,
    what: str,
    effect: str | None,
) -> None:
    day = tomorrow()
    params = sample_person_case(last_working_day=day)
    allow_deletion(params)
    ends = legal_time.end_of_local_day(day)
    operator = operator_class(task_id=task_id)

    with pytest.raises(AirflowFailException) as refused:
        operator.execute(make_context(params, task_id=task_id))
    message = str(refused.value)
    assert f"{what} is refused: the last working day ends {ends.format('YYYY-MM-DD')} 00:00" in message
    assert legal_time.format_local(ends) in message and "preflight.wait_for_last_working_day" in message
    no_wecom_call(wecom_conn)
    assert reached(case_ledger(params)) == []

    if effect is None:
        return
    move_clock(monkeypatch, ends.add(minutes=1))
    operator_class(task_id=task_id).execute(make_context(params, task_id=task_id))
    user = wecom_conn.control.user("lisi")
    if effect == "deleted":
        assert user["deleted"] is True
    elif effect == "disabled":
        assert user["status"] == 2
    else:
        assert wecom_conn.control.stats()["write_calls"]
    (entry,) = reached(case_ledger(params))
    assert entry.result["deadline"] == "last_working_day" and entry.step == task_id
    assert entry.result["ends"] == ends.isoformat()


def test_rehearsal_time_is_refused_against_a_non_loopback_connection_even_if_check_case_was_skipped(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = {"conn_type": "wecom", "host": "https://qyapi.example.com", "login": "ww1", "password": "s-123"}
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_PROD", json.dumps(conn))
    params = sample_person_case(last_working_day=tomorrow(), time_scale=86400, wecom_conn_id="wecom_prod")
    with pytest.raises(AirflowFailException, match="time_scale=86400 compresses legal waits"):
        DeleteMemberOperator(task_id="deletion.delete_member").execute(
            make_context(params, task_id="deletion.delete_member")
        )


def test_a_rehearsal_reaches_the_last_working_day_at_its_compressed_time(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, allow_deletion: Any
) -> None:
    params = sample_person_case(last_working_day=tomorrow(), time_scale=86400)
    allow_deletion(params)
    context = make_context(params, task_id="deletion.delete_member")
    context["dag_run"] = SimpleNamespace(**vars(context["dag_run"]), run_after=pendulum.now("UTC"))
    with pytest.raises(AirflowFailException, match=r"time_scale 86400 reaches it at"):
        DeleteMemberOperator(task_id="deletion.delete_member").execute(context)  # ~1-2 s away
    no_wecom_call(wecom_conn)
    context["dag_run"].run_after = pendulum.now("UTC").subtract(minutes=5)  # 5 min = 300 compressed days
    DeleteMemberOperator(task_id="deletion.delete_member").execute(context)
    assert wecom_conn.control.user("lisi")["deleted"] is True


# -- the notice period: offboard_member_batch / offboard_leaders, close_wecom_enterprise ----------------


@pytest.fixture
def company_params() -> dict[str, Any]:
    return {
        "company_name": "示例科技有限公司",
        "credit_code": "91350100M000100Y43",
        "procedure": "simplified",
        "legal_representative": "legal",
        "finance_owner": "finance",
        "approvers": ["approver"],
        "successor_userid": "wangwu",
        "admin_userid": "",
        "deregister_admin_account": False,
        "backup_target": "test",  # the root tests/operators/conftest.py declares
        "notify": {"webhook_conn_id": None, "userids": []},
        "wecom_conn_id": "wecom_default",
        "dry_run": False,
        "time_scale": 1,
    }


def test_member_batches_refuse_before_the_notice_period_ends_then_proceed(
    wecom_conn: Any,
    company_params: dict[str, Any],
    make_context: Any,
    case_ledger: Any,
    airflow_approvals: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    published_on = pendulum.now("Asia/Shanghai").to_date_string()
    ends = legal_time.notice_end(published_on, "simplified")

    def context(task_id: str, ti: Any = None) -> dict[str, Any]:
        return make_context(company_params, task_id=task_id, run_id=COMPANY_CASE, ti=ti)

    # Nothing recorded yet: the notice period cannot have ended.
    batch = OffboardMemberBatchOperator(task_id="offboard_all_members.offboard_leaders", batch="leaders")
    with pytest.raises(AirflowFailException, match=r"removing members is refused: the notice period cannot"):
        batch.execute(context("offboard_all_members.offboard_leaders"))

    answer(case_ledger(company_params), PUBLICATION_STEP, published_on=published_on, reference="GSXT-1")
    plan_context = context("offboard_all_members.plan_member_batches")
    batches = PlanMemberBatchesOperator(task_id="plan_member_batches").execute(plan_context)
    airflow_approvals.approve(company_params)
    wecom_conn.control.reset_stats()

    operator = OffboardMemberBatchOperator(
        task_id="offboard_all_members.offboard_member_batch", batch=batches[0]
    )
    with pytest.raises(AirflowFailException) as refused:
        operator.execute(context("offboard_all_members.offboard_member_batch", plan_context["ti"]))
    assert f"removing members is refused: the notice period ends {legal_time.format_local(ends)}; " in str(
        refused.value
    )
    no_wecom_call(wecom_conn)

    move_clock(monkeypatch, ends)
    operator = OffboardMemberBatchOperator(
        task_id="offboard_all_members.offboard_member_batch", batch=batches[0]
    )
    result = operator.execute(context("offboard_all_members.offboard_member_batch", plan_context["ti"]))
    assert result["offboarded"] >= 1
    assert wecom_conn.control.stats()["write_calls"]
    (entry,) = reached(case_ledger(company_params))
    assert entry.result["deadline"] == "notice_period" and entry.result["ends"] == ends.isoformat()
    assert entry.request["basis"]["published_on"] == published_on


def test_the_last_answer_to_the_publication_counts(
    company_params: dict[str, Any], make_context: Any, case_ledger: Any
) -> None:
    """A publication answered again (the step cleared) moves the deadline; the latest answer wins."""
    from offboarding.operators.base import Case

    answer(case_ledger(company_params), PUBLICATION_STEP, published_on="2026-01-05")
    today = pendulum.now("Asia/Shanghai").to_date_string()
    answer(case_ledger(company_params), PUBLICATION_STEP, published_on=today)
    case = Case.from_context(make_context(company_params, run_id=COMPANY_CASE))
    with pytest.raises(AirflowFailException, match="the notice period ends"):
        require_deadline_passed(case, "notice_period", step="t", what="x")


# -- human steps asked only after a deadline --------------------------------------------------------------


def _human_step(name: str) -> Any:
    from airflow.sdk import DAG

    from offboarding.workflows import company
    from offboarding.workflows.deregistration import account_deregistration

    with DAG(dag_id=f"t_{name}", schedule=None, params={}):
        if name == "close_wecom_enterprise":
            return company.close_wecom_enterprise()
        group = account_deregistration(userid="lisi", name="lisi", owner="hr", requested="True")
        return group.group.children["account_deregistration.confirm_deregistration_outcome"]


@pytest.mark.parametrize(
    ("name", "step", "field", "value", "title"),
    [
        ("close_wecom_enterprise", PUBLICATION_STEP, "published_on", "today", "the notice period"),
        ("confirm_deregistration_outcome", SUBMISSION_STEP, "submitted_at", "now", "the cooling-off"),
    ],
)
def test_a_human_step_after_a_legal_wait_is_not_asked_before_its_deadline(
    company_params: dict[str, Any],
    make_context: Any,
    case_ledger: Any,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    step: str,
    field: str,
    value: str,
    title: str,
) -> None:
    now = pendulum.now("Asia/Shanghai")
    answer(
        case_ledger(company_params),
        step,
        **{field: now.to_date_string() if value == "today" else now.isoformat()},
    )
    operator = _human_step(name)
    context = make_context(company_params, task_id=operator.task_id, run_id=COMPANY_CASE)
    with pytest.raises(AirflowFailException, match=f"asking {operator.task_id} is refused: {title} ends"):
        operator.execute(context)
    actions = [e.action for e in case_ledger(company_params).entries()]
    assert "human_step.requested" not in actions  # nobody was asked

    move_clock(monkeypatch, now.add(days=60))
    operator._prepare_request(context)  # the part before Airflow parks the task for its answer
    actions = [e.action for e in case_ledger(company_params).entries()]
    assert actions[-2:] == [DEADLINE_REACHED, "human_step.requested"]


# -- the cooling-off: verify_account_gone ------------------------------------------------------------------


def test_verify_account_gone_refuses_before_the_cooling_off_ends_then_proceeds(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    case_ledger: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    params = sample_person_case(deregister_account=True)
    operator = VerifyAccountGoneOperator(task_id="account_deregistration.verify_account_gone", userid="lisi")
    context = make_context(params, task_id=operator.task_id)

    with pytest.raises(AirflowFailException, match="no submitted_at was answered"):
        operator.execute(context)  # the submission was never recorded
    submitted = pendulum.now("Asia/Shanghai").subtract(days=1)
    answer(case_ledger(params), SUBMISSION_STEP, submitted_at=submitted.isoformat())
    ends = legal_time.cooling_off_end(submitted)
    with pytest.raises(AirflowFailException) as refused:
        operator.execute(context)
    assert (
        f"verifying that lisi is gone is refused: the cooling-off ends {legal_time.format_local(ends)}"
        in str(refused.value)
    )
    no_wecom_call(wecom_conn)

    from offboarding.hooks.wecom import WeComHook

    WeComHook().contacts.delete_user("lisi")
    move_clock(monkeypatch, ends.add(seconds=1))
    assert (
        VerifyAccountGoneOperator(task_id=operator.task_id, userid="lisi").execute(context)["resolves"]
        is False
    )
    assert [e.result["deadline"] for e in reached(case_ledger(params))] == ["cooling_off"]
