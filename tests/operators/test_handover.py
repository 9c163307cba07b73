"""The handover tasks against the WeCom sandbox over HTTP: customers, customer groups, tags and chats, disable."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup.roots import resolve_backup_root
from offboarding.backup.storage import BackupStore
from offboarding.cases import person_case_id
from offboarding.evidence.keys import key_from_environment
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.operators.backup_common import SNAPSHOT_TASK_ID
from offboarding.operators.handover import (
    DisableMemberOperator,
    HandOverCustomerGroupsOperator,
    HandOverCustomersOperator,
    LeaveTagsAndGroupChatsOperator,
)
from offboarding.steps.handover_files import CUSTOMERS_ONJOB_PATH, GROUPS_ONJOB_PATH, TAGS_AND_CHATS_PATH

TRANSFER = "/cgi-bin/externalcontact/transfer_customer"
GROUP_TRANSFER = "/cgi-bin/externalcontact/groupchat/onjob_transfer"
DELTAGUSERS = "/cgi-bin/tag/deltagusers"
APPCHAT_UPDATE = "/cgi-bin/appchat/update"
USER_UPDATE = "/cgi-bin/user/update"


def store_of(params: dict[str, Any]) -> BackupStore:
    return BackupStore(resolve_backup_root(params["backup_target"]).url)


def read_case_json(params: dict[str, Any], relpath: str) -> dict[str, Any]:
    return json.loads(store_of(params).read_bytes(person_case_id(params), relpath))


def ledger_of(params: dict[str, Any]) -> EvidenceLedger:
    return EvidenceLedger(store_of(params), person_case_id(params), key=key_from_environment())


def entries(params: dict[str, Any], action: str) -> list[Any]:
    return [e for e in ledger_of(params).entries() if e.action == action]


def calls(sandbox: Any, path: str) -> int:
    return int(sandbox.control.stats()["calls"].get(path, 0))


def writes(sandbox: Any, path: str) -> int:
    return int(sandbox.control.stats()["write_calls"].get(path, 0))


@pytest.fixture
def connection_with_app_chats(wecom_conn: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``wecom_default`` naming the app-created chats and the leavers' department 99."""
    sandbox = wecom_conn
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {
            "contact_secret": sandbox.secret,
            "customer_secret": sandbox.secret,
            "agent_id": sandbox.agent_id,
            "app_chat_ids": ["chat_sales_weekly", "chat_other_app"],
            "leavers_department_id": 99,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    return sandbox


def app_chat(sandbox: Any, chatid: str) -> dict[str, Any]:
    """Read an app chat over the WeCom API (the control API does not show chats)."""
    from offboarding.hooks.wecom import WeComHook

    return WeComHook("wecom_default").app_chats.get(chatid)


# -- customers ----------------------------------------------------------------------------------------


def test_lisi_customers_are_handed_over_with_per_customer_results(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    result = HandOverCustomersOperator(task_id="hand_over_customers").execute(make_context(params))

    assert result["customers"] == 12
    assert result["started"] == 11
    assert result["failed"] == 1
    assert result["failed_errcodes"] == {"40128": 1}
    assert result["file"] == CUSTOMERS_ONJOB_PATH
    assert "wm_lisi_001" not in json.dumps(result)  # counts, never the customer list
    stored = read_case_json(params, CUSTOMERS_ONJOB_PATH)
    assert stored["items"]["wm_lisi_011"]["outcome"] == "failed"
    assert stored["items"]["wm_lisi_011"]["errcode"] == 40128
    assert stored["items"]["wm_lisi_001"] == {"outcome": "started"}
    assert wecom_conn.control.state()["pending_transfers"] == 11
    (entry,) = entries(params, "customers.handed_over")
    assert entry.key == "lisi"
    assert entry.result["started"] == 11


def test_rerunning_the_customer_handover_sends_nothing_twice(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    operator = HandOverCustomersOperator(task_id="hand_over_customers")
    operator.execute(make_context(params))
    assert calls(wecom_conn, TRANSFER) == 1

    again = HandOverCustomersOperator(task_id="hand_over_customers").execute(make_context(params))

    assert calls(wecom_conn, TRANSFER) == 1  # the failed one (40128) is not resent either
    assert again["sent"] == 0
    assert again["in_transfer_before"] == 11
    assert again["failed"] == 1
    stored = read_case_json(params, CUSTOMERS_ONJOB_PATH)
    assert stored["items"]["wm_lisi_001"] == {"outcome": "in_transfer", "status": "waiting"}
    assert stored["items"]["wm_lisi_011"]["errcode"] == 40128


def test_customers_of_a_deleted_member_are_left_to_the_resigned_transfer(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="resigned01", display_name="已离职")
    result = HandOverCustomersOperator(task_id="hand_over_customers").execute(make_context(params))

    assert result["member_deleted"] is True
    assert calls(wecom_conn, TRANSFER) == 0
    (entry,) = entries(params, "customers.handed_over")
    assert "already deleted" in entry.result["note"]


@pytest.mark.parametrize(
    ("successor", "message"),
    [("", "successor_userid: must be the successor's WeCom userid"), ("lisi", "someone other than")],
)
def test_a_bad_successor_fails_before_any_wecom_call(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, successor: str, message: str
) -> None:
    params = sample_person_case(successor_userid=successor)
    with pytest.raises(AirflowFailException, match=message):
        HandOverCustomersOperator(task_id="hand_over_customers").execute(make_context(params))
    assert wecom_conn.control.stats()["calls"] == {}


# -- customer groups ----------------------------------------------------------------------------------


def test_120_groups_go_in_two_calls_and_a_rerun_sends_none(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="bigsales", display_name="钱多多")
    result = HandOverCustomerGroupsOperator(task_id="hand_over_customer_groups").execute(make_context(params))

    assert calls(wecom_conn, GROUP_TRANSFER) == 2
    assert result["owned"] == 120
    assert result["started"] == 120
    assert result["deferred"] == 0
    assert wecom_conn.control.user("bigsales")["groups"] == []
    assert len(wecom_conn.control.user("wangwu")["groups"]) == 120

    again = HandOverCustomerGroupsOperator(task_id="hand_over_customer_groups").execute(make_context(params))
    assert again["owned"] == 0
    assert calls(wecom_conn, GROUP_TRANSFER) == 2


def test_groups_beyond_the_daily_allowance_are_deferred(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="bigsales", display_name="钱多多")
    today = pendulum.now("Asia/Shanghai").date().isoformat()
    # Earlier today 250 groups already went from bigsales to wangwu (e.g. by another case's run).
    ledger_of(params).append(
        "customer_groups.handed_over",
        actor="airflow:hand_over_customer_groups",
        step="hand_over_customer_groups",
        key="bigsales",
        result={"successor": "wangwu", "day": today, "started": 250},
    )

    result = HandOverCustomerGroupsOperator(task_id="hand_over_customer_groups").execute(make_context(params))

    assert result["sent"] == 50
    assert result["deferred"] == 70
    assert calls(wecom_conn, GROUP_TRANSFER) == 1
    assert len(wecom_conn.control.user("bigsales")["groups"]) == 70
    stored = read_case_json(params, GROUPS_ONJOB_PATH)
    assert stored["counts"] == {"started": 50, "deferred": 70}

    # The allowance is used up for today: a rerun sends nothing and keeps them deferred.
    again = HandOverCustomerGroupsOperator(task_id="hand_over_customer_groups").execute(make_context(params))
    assert again["sent"] == 0
    assert again["deferred"] == 70
    assert calls(wecom_conn, GROUP_TRANSFER) == 1


# -- tags and app chats -------------------------------------------------------------------------------


def test_lisi_leaves_tags_and_chats_and_hands_her_chat_to_the_successor(
    connection_with_app_chats: Any, sample_person_case: Any, make_context: Any
) -> None:
    sandbox = connection_with_app_chats
    params = sample_person_case()
    result = LeaveTagsAndGroupChatsOperator(task_id="leave_tags_and_group_chats").execute(
        make_context(params)
    )

    assert result["tags_left"] == 2
    assert result["chats_left"] == 1
    assert result["chats_handed_to_successor"] == 1
    failed = {f["item"]: f for f in result["failed"]}
    assert set(failed) == {"tag:3", "chat:chat_other_app"}
    assert failed["tag:3"]["errcode"] == 81011
    assert "admin console" in failed["tag:3"]["what_to_do"]
    assert failed["chat:chat_other_app"]["errcode"] == 86008
    member = sandbox.control.user("lisi")
    assert member["tags"] == [3]
    assert member["chats"] == ["chat_other_app"]
    chat = app_chat(sandbox, "chat_sales_weekly")
    assert chat["owner"] == "wangwu"
    assert "lisi" not in chat["userlist"]
    stored = read_case_json(params, TAGS_AND_CHATS_PATH)
    assert stored["source"] == "wecom"
    assert stored["items"]["tag:1"] == {"outcome": "removed"}
    (entry,) = entries(params, "memberships.left")
    assert len(entry.result["failed"]) == 2

    sent_before = (calls(sandbox, DELTAGUSERS), calls(sandbox, APPCHAT_UPDATE))
    again = LeaveTagsAndGroupChatsOperator(task_id="leave_tags_and_group_chats").execute(make_context(params))
    assert (calls(sandbox, DELTAGUSERS), calls(sandbox, APPCHAT_UPDATE)) == sent_before
    assert again["tags_left"] == 2  # the file keeps what the first try did
    assert {f["item"] for f in again["failed"]} == {"tag:3", "chat:chat_other_app"}


def test_the_snapshot_decides_which_tags_are_left(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    context = make_context(params, task_id="leave_tags_and_group_chats")
    context["ti"].xcoms[(SNAPSHOT_TASK_ID, "return_value")] = {
        "tags": [1],
        "app_chats": [],
        "member_exists": True,
    }

    result = LeaveTagsAndGroupChatsOperator(task_id="leave_tags_and_group_chats").execute(context)

    assert result["tags_left"] == 1
    assert wecom_conn.control.user("lisi")["tags"] == [2, 3]
    assert calls(wecom_conn, "/cgi-bin/tag/list") == 0
    assert read_case_json(params, TAGS_AND_CHATS_PATH)["source"] == "snapshot"


def test_a_successor_outside_the_chat_is_added_as_its_new_owner(
    connection_with_app_chats: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(successor_userid="zhengshi")
    LeaveTagsAndGroupChatsOperator(task_id="leave_tags_and_group_chats").execute(make_context(params))

    chat = app_chat(connection_with_app_chats, "chat_sales_weekly")
    assert chat["owner"] == "zhengshi"
    assert "zhengshi" in chat["userlist"]
    assert "lisi" not in chat["userlist"]
    assert writes(connection_with_app_chats, APPCHAT_UPDATE) == 1


# -- disable ------------------------------------------------------------------------------------------


def test_lisi_is_disabled_moved_to_the_leavers_and_read_back(
    connection_with_app_chats: Any, sample_person_case: Any, make_context: Any
) -> None:
    sandbox = connection_with_app_chats
    params = sample_person_case()
    result = DisableMemberOperator(task_id="disable_member").execute(make_context(params))

    assert result["read_back"] == {"status": 2, "department": [99]}
    member = sandbox.control.user("lisi")
    assert member["status"] == 2
    assert member["department"] == [99]
    assert writes(sandbox, USER_UPDATE) == 1
    (entry,) = entries(params, "member.disabled")
    assert entry.result["read_back"]["status"] == 2
    assert entry.request["before"] == {"status": 1, "department": [3]}

    again = DisableMemberOperator(task_id="disable_member").execute(make_context(params))
    assert again["changed"] is False
    assert calls(sandbox, USER_UPDATE) == 1


def test_an_already_disabled_member_is_recorded_without_a_write(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="disabled01", display_name="停用者")
    result = DisableMemberOperator(task_id="disable_member").execute(make_context(params))

    assert result == {"member": "disabled01", "changed": False, "read_back": {"status": 2, "department": [2]}}
    assert calls(wecom_conn, USER_UPDATE) == 0
    assert len(entries(params, "member.disabled")) == 1


def test_an_already_deleted_member_is_recorded_without_a_write(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="resigned01", display_name="已离职")
    result = DisableMemberOperator(task_id="disable_member").execute(make_context(params))

    assert result["already_deleted"] is True
    assert calls(wecom_conn, USER_UPDATE) == 0
    (entry,) = entries(params, "member.disabled")
    assert entry.result["already_deleted"] is True


# -- dry run ------------------------------------------------------------------------------------------


def test_a_dry_run_plans_the_handover_and_the_disable_without_sending_a_write(
    connection_with_app_chats: Any, sample_person_case: Any, make_context: Any
) -> None:
    sandbox = connection_with_app_chats
    params = sample_person_case(dry_run=True)
    customers = HandOverCustomersOperator(task_id="hand_over_customers").execute(make_context(params))
    left = LeaveTagsAndGroupChatsOperator(task_id="leave_tags_and_group_chats").execute(make_context(params))
    disabled = DisableMemberOperator(task_id="disable_member").execute(make_context(params))

    assert sandbox.control.stats()["write_calls"] == {}
    assert customers["sent"] == 12
    assert left["tags_left"] == 3  # planned: WeCom's refusal of tag 3 (81011) only shows in a real run
    assert disabled["read_back"]["status"] == 1  # nothing changed, and the dry run does not fail on it
    planned = [call["path"] for e in entries(params, "dry_run.planned") for call in e.request["calls"]]
    assert TRANSFER in planned
    assert DELTAGUSERS in planned
    assert USER_UPDATE in planned
