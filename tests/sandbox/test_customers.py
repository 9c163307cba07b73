"""Customers and customer groups: externalcontact/list, batch/get_by_user, groupchat/list, groupchat/get."""

from __future__ import annotations


def test_external_contact_list(wecom) -> None:
    answer = wecom.get("/cgi-bin/externalcontact/list", userid="lisi")
    assert answer["errcode"] == 0
    assert answer["external_userid"] == [f"wm_lisi_{i:03d}" for i in range(1, 13)]
    assert wecom.get("/cgi-bin/externalcontact/list", userid="zhaoliu")["errcode"] == 84061  # no customers
    assert wecom.get("/cgi-bin/externalcontact/list", userid="ghost")["errcode"] == 60111


def test_batch_get_by_user_pages_across_users(wecom) -> None:
    assert (
        wecom.post("/cgi-bin/externalcontact/batch/get_by_user", {"userid_list": ["lisi"], "limit": 101})[
            "errcode"
        ]
        == 40058
    )
    assert wecom.post("/cgi-bin/externalcontact/batch/get_by_user", {"userid_list": []})["errcode"] == 40058
    seen = []
    cursor = ""
    calls = 0
    while True:
        answer = wecom.post(
            "/cgi-bin/externalcontact/batch/get_by_user",
            {"userid_list": ["lisi", "bigsales", "wangwu"], "cursor": cursor, "limit": 100},
        )
        assert answer["errcode"] == 0
        assert len(answer["external_contact_list"]) <= 100
        seen.extend(
            (i["follow_info"]["userid"], i["external_contact"]["external_userid"])
            for i in answer["external_contact_list"]
        )
        calls += 1
        cursor = answer["next_cursor"]
        if not cursor:
            break
    assert calls == 3  # 12 + 250 + 2 = 264 customers, 100 per page
    assert len(seen) == len(set(seen)) == 264
    first = seen[0]
    assert first == ("lisi", "wm_lisi_001")


def test_groupchat_list_with_owner_filter_and_paging(wecom) -> None:
    body = {"status_filter": 0, "owner_filter": {"userid_list": ["bigsales"]}, "limit": 50}
    chat_ids = []
    cursor = ""
    while True:
        answer = wecom.post("/cgi-bin/externalcontact/groupchat/list", {**body, "cursor": cursor})
        assert answer["errcode"] == 0
        chat_ids.extend(item["chat_id"] for item in answer["group_chat_list"])
        cursor = answer["next_cursor"]
        if not cursor:
            break
    assert len(chat_ids) == len(set(chat_ids)) == 120
    assert all(c.startswith("wr_big_") for c in chat_ids)


def test_groupchat_list_status_filter_and_limits(wecom) -> None:
    resigned = wecom.post("/cgi-bin/externalcontact/groupchat/list", {"status_filter": 1, "limit": 1000})
    assert [(i["chat_id"], i["status"]) for i in resigned["group_chat_list"]] == [
        ("wr_resigned_01", 1),
        ("wr_resigned_02", 1),
    ]
    assert (
        wecom.post("/cgi-bin/externalcontact/groupchat/list", {"status_filter": 4, "limit": 10})["errcode"]
        == 40058
    )
    assert wecom.post("/cgi-bin/externalcontact/groupchat/list", {"limit": 1001})["errcode"] == 40058


def test_groupchat_get(wecom) -> None:
    answer = wecom.post("/cgi-bin/externalcontact/groupchat/get", {"chat_id": "wr_lisi_01"})
    chat = answer["group_chat"]
    assert answer["errcode"] == 0 and chat["owner"] == "lisi" and chat["name"] == "李四客户群1"
    types = {m["userid"]: m["type"] for m in chat["member_list"]}
    assert types["lisi"] == 1 and types["wm_lisi_001"] == 2
    assert wecom.post("/cgi-bin/externalcontact/groupchat/get", {"chat_id": "nope"})["errcode"] != 0
