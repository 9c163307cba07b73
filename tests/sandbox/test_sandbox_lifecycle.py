"""What undoing an offboarding needs from the sandbox: re-enable, departments, tags, app chats, hand back.

WeCom's rules played: ``user/update`` ``enable: 1`` re-enables a disabled member; ``tag/addtagusers`` adds
members back to app-created tags (81011 otherwise, invalid ids listed, 40070 when all are invalid);
``appchat/update`` ``add_user_list`` adds a member back; an on-job transfer (在职继承) back to the original
owner is one more transfer of that customer — at most two in 90 days (40128) — and of that group.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from offboarding_dev.sandbox.testing import running_sandbox

TAKEOVER_SCALE = 43200.0  # 24 h of takeover last 2 s; the 90-day window lasts 180 s


@pytest.fixture(scope="module")
def fast_sandbox() -> Iterator[Any]:
    with running_sandbox(time_scale=TAKEOVER_SCALE) as sb:
        yield sb


@pytest.fixture
def fast(fast_sandbox, caller_for):
    fast_sandbox.control.reset()
    return caller_for(fast_sandbox)


def test_update_enable_1_re_enables_a_disabled_member(wecom, sandbox) -> None:
    assert wecom.post("/cgi-bin/user/update", {"userid": "lisi", "enable": 0})["errcode"] == 0
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["status"] == 2
    assert wecom.post("/cgi-bin/user/update", {"userid": "lisi", "enable": 1}) == {
        "errcode": 0,
        "errmsg": "updated",
    }
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["status"] == 1
    assert sandbox.control.state()["members"]["disabled"] == 1  # only the seeded disabled01


def test_a_deleted_member_cannot_be_re_enabled(wecom) -> None:
    assert wecom.get("/cgi-bin/user/delete", userid="lisi")["errcode"] == 0
    assert wecom.post("/cgi-bin/user/update", {"userid": "lisi", "enable": 1})["errcode"] == 60111


def test_departments_restored_with_user_update(wecom) -> None:
    moved = {"userid": "lisi", "enable": 0, "department": [99], "main_department": 99}
    assert wecom.post("/cgi-bin/user/update", moved)["errcode"] == 0
    back = {
        "userid": "lisi",
        "enable": 1,
        "department": [3],
        "main_department": 3,
        "is_leader_in_dept": [1],
        "order": [0],
    }
    assert wecom.post("/cgi-bin/user/update", back)["errcode"] == 0
    member = wecom.get("/cgi-bin/user/get", userid="lisi")
    assert (member["department"], member["main_department"], member["is_leader_in_dept"]) == ([3], 3, [1])
    assert member["status"] == 1


def test_addtagusers_adds_back_and_lists_invalid_ids(wecom, sandbox) -> None:
    assert wecom.post("/cgi-bin/tag/deltagusers", {"tagid": 2, "userlist": ["lisi"]})["errcode"] == 0
    answer = wecom.post(
        "/cgi-bin/tag/addtagusers", {"tagid": 2, "userlist": ["lisi", "ghost"], "partylist": [404]}
    )
    assert answer == {"errcode": 0, "errmsg": "ok", "invalidlist": "ghost", "invalidparty": [404]}
    assert {u["userid"] for u in wecom.get("/cgi-bin/tag/get", tagid=2)["userlist"]} == {"lisi", "bigsales"}
    assert 2 in sandbox.control.user("lisi")["tags"]
    # Adding someone already in the tag changes nothing (no write recorded).
    before = sandbox.control.stats()["write_calls"].get("/cgi-bin/tag/addtagusers", 0)
    assert wecom.post("/cgi-bin/tag/addtagusers", {"tagid": 2, "userlist": ["lisi"]})["errcode"] == 0
    assert sandbox.control.stats()["write_calls"].get("/cgi-bin/tag/addtagusers", 0) == before


def test_addtagusers_refusals(wecom) -> None:
    assert wecom.post("/cgi-bin/tag/addtagusers", {"tagid": 3, "userlist": ["lisi"]})["errcode"] == 81011
    all_invalid = wecom.post("/cgi-bin/tag/addtagusers", {"tagid": 1, "userlist": ["ghost"]})
    assert all_invalid["errcode"] == 40070
    assert wecom.post("/cgi-bin/tag/addtagusers", {"tagid": 1})["errcode"] == 40058
    assert wecom.post("/cgi-bin/tag/addtagusers", {"tagid": 99, "userlist": ["lisi"]})["errcode"] == 40068
    assert wecom.get("/cgi-bin/user/delete", userid="zhaoliu")["errcode"] == 0
    assert wecom.post("/cgi-bin/tag/addtagusers", {"tagid": 1, "userlist": ["zhaoliu"]})["errcode"] == 40070


def test_appchat_add_user_list_brings_the_owner_back(wecom, sandbox) -> None:
    handed = {"chatid": "chat_sales_weekly", "del_user_list": ["lisi"], "owner": "wangwu"}
    assert wecom.post("/cgi-bin/appchat/update", handed)["errcode"] == 0
    assert wecom.post("/cgi-bin/user/update", {"userid": "lisi", "enable": 0})["errcode"] == 0
    back = {"chatid": "chat_sales_weekly", "add_user_list": ["lisi"], "owner": "lisi"}
    assert wecom.post("/cgi-bin/appchat/update", back) == {"errcode": 0, "errmsg": "ok"}
    chat = wecom.get("/cgi-bin/appchat/get", chatid="chat_sales_weekly")["chat_info"]
    assert chat["owner"] == "lisi" and "lisi" in chat["userlist"]
    assert "chat_sales_weekly" in sandbox.control.user("lisi")["chats"]


def _transfer(wecom, handover: str, takeover: str, ids: list[str]) -> dict[str, int]:
    answer = wecom.post(
        "/cgi-bin/externalcontact/transfer_customer",
        {"handover_userid": handover, "takeover_userid": takeover, "external_userid": ids},
    )
    assert answer["errcode"] == 0, answer
    return {item["external_userid"]: item["errcode"] for item in answer["customer"]}


def _status(wecom, handover: str, takeover: str) -> dict[str, int]:
    answer = wecom.post(
        "/cgi-bin/externalcontact/transfer_result",
        {"handover_userid": handover, "takeover_userid": takeover, "cursor": ""},
    )
    return {item["external_userid"]: item["status"] for item in answer["customer"]}


def test_customer_handed_back_counts_as_a_second_transfer(fast, fast_sandbox, wait) -> None:
    assert _transfer(fast, "lisi", "wangwu", ["wm_lisi_001", "wm_lisi_002"]) == {
        "wm_lisi_001": 0,
        "wm_lisi_002": 0,
    }
    # Still waiting for the successor's takeover: the successor does not follow it yet.
    assert _transfer(fast, "wangwu", "lisi", ["wm_lisi_001"]) == {"wm_lisi_001": 40131}
    wait(lambda: set(_status(fast, "lisi", "wangwu").values()) == {1}, timeout=20)
    assert _transfer(fast, "wangwu", "lisi", ["wm_lisi_001"]) == {"wm_lisi_001": 0}
    wait(lambda: _status(fast, "wangwu", "lisi").get("wm_lisi_001") == 1, timeout=20)
    assert "wm_lisi_001" in fast_sandbox.control.user("lisi")["customers"]
    assert "wm_lisi_001" not in fast_sandbox.control.user("wangwu")["customers"]
    # A third transfer within the (compressed) 90 days: refused per item, the others unaffected.
    assert _transfer(fast, "lisi", "wangwu", ["wm_lisi_001", "wm_lisi_003"]) == {
        "wm_lisi_001": 40128,
        "wm_lisi_003": 0,
    }


def test_group_handed_back_then_a_third_on_job_transfer_is_refused(fast) -> None:
    path = "/cgi-bin/externalcontact/groupchat/onjob_transfer"
    assert fast.post(path, {"chat_id_list": ["wr_lisi_01"], "new_owner": "wangwu"})["failed_chat_list"] == []
    assert fast.post(path, {"chat_id_list": ["wr_lisi_01"], "new_owner": "lisi"})["failed_chat_list"] == []
    third = fast.post(path, {"chat_id_list": ["wr_lisi_01", "wr_lisi_02"], "new_owner": "wangwu"})
    assert [(f["chat_id"], f["errcode"]) for f in third["failed_chat_list"]] == [("wr_lisi_01", 90503)]
    owners = {
        chat_id: fast.post("/cgi-bin/externalcontact/groupchat/get", {"chat_id": chat_id})["group_chat"][
            "owner"
        ]
        for chat_id in ("wr_lisi_01", "wr_lisi_02")
    }
    assert owners == {"wr_lisi_01": "lisi", "wr_lisi_02": "wangwu"}
