"""offboarding_rescind's tasks against the WeCom sandbox over HTTP: an offboarding handed over and
disabled lisi, then the case is rescinded; the undo puts lisi back as far as WeCom allows.

The sandbox runs 24 h of takeover in 2 s (its 90-day transfer window in 180 s). ``wm_wangwu_001`` came to
lisi from wangwu just before the case, so handing it back to lisi is its third on-job transfer in 90
days: WeCom refuses it (40128) and the undo lists it with the errcode, never drops it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from offboarding.cases import person_case_id
from offboarding.operators import rescind
from offboarding.operators.backup import SnapshotProfileOperator
from offboarding.operators.base import Case
from offboarding.operators.handover import (
    DisableMemberOperator,
    HandOverCustomerGroupsOperator,
    HandOverCustomersOperator,
    LeaveTagsAndGroupChatsOperator,
)
from offboarding_dev.sandbox.testing import running_sandbox
from offboarding_dev.testing.task_instance import MemoryTaskInstance

SANDBOX_TIME_SCALE = 43200.0


@pytest.fixture(scope="module")
def fast_sandbox() -> Iterator[Any]:
    with running_sandbox(seed="default", time_scale=SANDBOX_TIME_SCALE) as sandbox:
        yield sandbox


@pytest.fixture
def wecom(fast_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    fast_sandbox.control.reset(seed="default")
    conn = {
        "conn_type": "wecom",
        "host": fast_sandbox.base_url,
        "login": fast_sandbox.corpid,
        "password": fast_sandbox.secret,
        "extra": {
            "contact_secret": fast_sandbox.secret,
            "customer_secret": fast_sandbox.secret,
            "agent_id": fast_sandbox.agent_id,
            "app_chat_ids": ["chat_sales_weekly", "chat_other_app"],
            "leavers_department_id": 99,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    return fast_sandbox


class FakeCaseRun:
    """The case run as the REST API shows it (the rescind tasks read its conf)."""

    def __init__(self, conf: dict[str, Any], states: list[str] | None = None) -> None:
        self.conf = conf
        self.states = states or []

    def __enter__(self) -> FakeCaseRun:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return {"dag_id": dag_id, "dag_run_id": run_id, "conf": self.conf, "state": "running"}

    def list_task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return [{"task_id": f"t{i}", "state": s} for i, s in enumerate(self.states)]


def contacts() -> Any:
    from offboarding.hooks.wecom import WeComHook

    return WeComHook("wecom_default")


def settle(handover: str, takeover: str) -> None:
    from offboarding.steps.takeover import read_takeover_status

    deadline = time.monotonic() + 20
    while read_takeover_status(contacts().customer_contacts, handover, takeover).waiting:
        assert time.monotonic() < deadline, "the sandbox did not settle the takeover"
        time.sleep(0.3)


OFFBOARDING_STEPS = (
    ("backup.snapshot_profile_and_memberships", SnapshotProfileOperator),
    ("handover.hand_over_customers", HandOverCustomersOperator),
    ("handover.hand_over_customer_groups", HandOverCustomerGroupsOperator),
    ("handover.leave_tags_and_group_chats", LeaveTagsAndGroupChatsOperator),
    ("handover.disable_member", DisableMemberOperator),
)


def offboard_until(params: dict[str, Any], make_context: Any, last_step: str) -> None:
    """What the offboard_employee run did before the rescind, up to and including ``last_step``."""
    ti = MemoryTaskInstance()
    for task_id, operator in OFFBOARDING_STEPS:
        operator(task_id=task_id.rsplit(".", 1)[1]).execute(make_context(params, task_id=task_id, ti=ti))
        if task_id == last_step:
            break
    if last_step != OFFBOARDING_STEPS[0][0]:
        settle("lisi", "wangwu")


def offboard_until_disabled(params: dict[str, Any], make_context: Any) -> None:
    """Snapshot, hand over, leave tags and chats, disable: the case was waiting for its approval."""
    offboard_until(params, make_context, "handover.disable_member")


def rescind_context(params: dict[str, Any], make_context: Any, ti: MemoryTaskInstance, task_id: str) -> Any:
    conf = {
        "case_id": person_case_id(params),
        "dag_id": "offboard_employee",
        "run_id": person_case_id(params),
        "reason": "李四 stays",
        "action_id": 7,
    }
    return make_context(conf, task_id=task_id, run_id="rescind-offboard-lisi-7", ti=ti)


UNDO = (
    ("check_rescind_allowed", rescind.CheckRescindAllowedOperator),
    ("re_enable_member", rescind.ReEnableMemberOperator),
    ("restore_tags_and_app_chats", rescind.RestoreTagsAndChatsOperator),
    ("hand_back_customer_groups", rescind.HandBackCustomerGroupsOperator),
    ("hand_back_customers", rescind.HandBackCustomersOperator),
    ("wait_for_customers_back", rescind.WaitForCustomersBackOperator),
    ("record_rescinded", rescind.RecordRescindedOperator),
)


def undo(params: dict[str, Any], make_context: Any) -> dict[str, Any]:
    ti = MemoryTaskInstance()
    results: dict[str, Any] = {}
    for name, operator in UNDO:
        task_id = f"undo.{name}"
        context = rescind_context(params, make_context, ti, task_id)
        task = operator(task_id=task_id)
        try:
            result = task.execute(context)
        except TaskDeferred as deferred:  # waiting for WeCom's takeover: the sandbox settles it
            trigger = deferred.trigger
            settle(trigger.handover_userid, trigger.takeover_userid)
            result = task.execute_complete(context, {"status": "final"})
        ti.xcoms[(task_id, "return_value")] = result
        results[name] = result
    return results


def test_rescind_after_disable_puts_lisi_back_and_lists_what_wecom_refused(
    wecom: Any, sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sample_person_case()
    monkeypatch.setattr(rescind, "case_run_reader", lambda: FakeCaseRun(params))
    # A customer lisi got from wangwu shortly before the case: its transfer back will be the third.
    contacts().customer_contacts.transfer_customers("wangwu", "lisi", ["wm_wangwu_001"], resigned=False)
    settle("wangwu", "lisi")
    offboard_until_disabled(params, make_context)
    lisi = wecom.control.user("lisi")
    assert (lisi["status"], lisi["department"], lisi["tags"]) == (2, [99], [3])

    results = undo(params, make_context)

    lisi = wecom.control.user("lisi")
    assert (lisi["status"], lisi["department"], lisi["main_department"]) == (1, [3], 3)
    assert lisi["is_leader_in_dept"] == [1]
    assert lisi["tags"] == [1, 2, 3]
    chat = contacts().app_chats.get("chat_sales_weekly")
    assert chat["owner"] == "lisi" and "lisi" in chat["userlist"]
    assert sorted(lisi["groups"]) == ["wr_lisi_01", "wr_lisi_02", "wr_lisi_03"]
    back = results["hand_back_customers"]
    assert back["failed"] == [
        {
            "item": "wm_wangwu_001",
            "outcome": "failed",
            "errcode": 40128,
            "reason": back["failed"][0]["reason"],
        }
    ]
    assert back["failed"][0]["reason"]
    assert back["items"]["wm_lisi_012"]["outcome"] == "stayed_with_person"  # refused the successor
    assert "wm_wangwu_001" in wecom.control.user("wangwu")["customers"]
    customers = set(lisi["customers"])
    assert {f"wm_lisi_{i:03d}" for i in range(1, 13)} <= customers
    assert "wm_wangwu_001" not in customers
    settled = results["wait_for_customers_back"]["counts"]
    assert settled.get("taken_over") == back["counts"]["handed_back"]

    ledger = Case.from_context(make_context(params, task_id="x")).ledger
    actions = [e.action for e in ledger.entries() if e.action.startswith(("rescind.", "case.rescinded"))]
    assert actions == [
        "rescind.started",
        "rescind.member_enabled",
        "rescind.memberships_restored",
        "rescind.customer_groups_handed_back",
        "rescind.customers_handed_back",
        "rescind.customers_back_settled",
        "case.rescinded",
    ]
    (rescinded,) = [e for e in ledger.entries() if e.action == "case.rescinded"]
    failed = rescinded.result["steps"]["hand_back_customers"]["failed"]
    assert [(f["item"], f["errcode"]) for f in failed] == [("wm_wangwu_001", 40128)]


def test_rescind_after_the_deletion_is_refused_without_a_wecom_call(
    wecom: Any, sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sample_person_case()
    monkeypatch.setattr(rescind, "case_run_reader", lambda: FakeCaseRun(params))
    case = Case.from_context(make_context(params, task_id="deletion.delete_member"))
    case.ledger.append(
        "member.deleted", actor="airflow:delete_member", step="deletion.delete_member", key="lisi"
    )
    wecom.control.reset_stats()
    context = rescind_context(params, make_context, MemoryTaskInstance(), "undo.check_rescind_allowed")
    with pytest.raises(AirflowFailException, match=r"irreversible since .*lisi was deleted"):
        rescind.CheckRescindAllowedOperator(task_id="undo.check_rescind_allowed").execute(context)
    assert wecom.control.stats()["calls"] == {}


def test_the_wait_for_the_case_run_ends_when_nothing_can_act(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sample_person_case()
    context = rescind_context(params, make_context, MemoryTaskInstance(), "undo.wait_for_case_run_to_stop")
    sensor = rescind.WaitForCaseRunToStopSensor(task_id="wait_for_case_run_to_stop")
    assert sensor.mode == "reschedule"
    monkeypatch.setattr(rescind, "case_run_reader", lambda: FakeCaseRun(params, ["success", "running"]))
    assert sensor.poke(context) is False
    monkeypatch.setattr(
        rescind, "case_run_reader", lambda: FakeCaseRun(params, ["success", "skipped", "failed"])
    )
    assert sensor.poke(context) is True


def test_a_rescind_conf_without_a_reason_is_refused_naming_the_field(
    sample_person_case: Any, make_context: Any
) -> None:
    conf = {
        "case_id": "offboard-lisi",
        "dag_id": "offboard_employee",
        "run_id": "offboard-lisi",
        "action_id": 1,
    }
    context = make_context(conf, task_id="undo.check_rescind_allowed", run_id="rescind-offboard-lisi-1")
    with pytest.raises(AirflowFailException, match="reason: required"):
        rescind.CheckRescindAllowedOperator(task_id="check_rescind_allowed").execute(context)


@pytest.mark.parametrize(
    "last_step",
    ["backup.snapshot_profile_and_memberships", "handover.hand_over_customer_groups"],
    ids=["before handover", "after the handover, before disable"],
)
def test_rescind_at_an_earlier_point_undoes_exactly_what_was_done(
    last_step: str,
    wecom: Any,
    sample_person_case: Any,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    params = sample_person_case()
    monkeypatch.setattr(rescind, "case_run_reader", lambda: FakeCaseRun(params))
    before = wecom.control.user("lisi")
    offboard_until(params, make_context, last_step)
    handed_over = last_step != "backup.snapshot_profile_and_memberships"
    assert (len(wecom.control.user("lisi")["customers"]) < len(before["customers"])) == handed_over

    results = undo(params, make_context)

    lisi = wecom.control.user("lisi")
    assert (lisi["status"], lisi["department"], lisi["tags"]) == (1, before["department"], before["tags"])
    assert sorted(lisi["groups"]) == sorted(before["groups"])
    back = results["hand_back_customers"]
    assert back["failed"] == []
    # Every customer is with lisi again except the one who refused the successor (it never left).
    assert set(lisi["customers"]) == set(before["customers"])
    assert (back["counts"].get("handed_back", 0) > 0) == handed_over
    ledger = Case.from_context(make_context(params, task_id="x")).ledger
    actions = [e.action for e in ledger.entries() if e.action.startswith(("rescind.", "case.rescinded"))]
    assert actions[0] == "rescind.started" and actions[-1] == "case.rescinded"
