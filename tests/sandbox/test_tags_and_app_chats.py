"""Tags (tag/list, tag/get, tag/deltagusers) and app chats (appchat/get, appchat/update)."""

from __future__ import annotations


def test_tag_list_and_get(wecom) -> None:
    tags = {t["tagid"]: t["tagname"] for t in wecom.get("/cgi-bin/tag/list")["taglist"]}
    assert tags == {1: "销售一组", 2: "重点客户负责人", 3: "全员通知"}
    tag = wecom.get("/cgi-bin/tag/get", tagid=1)
    assert tag["errcode"] == 0 and tag["tagname"] == "销售一组"
    assert {u["userid"] for u in tag["userlist"]} == {"lisi", "wangwu", "bigsales", "fullsales"}
    assert tag["partylist"] == [3]
    assert wecom.get("/cgi-bin/tag/get", tagid=404)["errcode"] == 40068


def test_deltagusers_removes_and_reports_invalid(wecom, sandbox) -> None:
    answer = wecom.post("/cgi-bin/tag/deltagusers", {"tagid": 1, "userlist": ["lisi"]})
    assert answer == {"errcode": 0, "errmsg": "deleted"}
    assert 1 not in sandbox.control.user("lisi")["tags"]
    partial = wecom.post(
        "/cgi-bin/tag/deltagusers", {"tagid": 2, "userlist": ["lisi", "ghost", "zhaoliu"], "partylist": [3]}
    )
    assert partial["errcode"] == 0 and partial["errmsg"] == "deleted"
    assert partial["invalidlist"] == "ghost|zhaoliu"
    assert partial["invalidparty"] == [3]
    assert {u["userid"] for u in wecom.get("/cgi-bin/tag/get", tagid=2)["userlist"]} == {"bigsales"}


def test_deltagusers_all_invalid_is_40031(wecom, sandbox) -> None:
    answer = wecom.post("/cgi-bin/tag/deltagusers", {"tagid": 1, "userlist": ["ghost", "zhaoliu"]})
    assert answer == {"errcode": 40031, "errmsg": "all list invalid"}
    assert sandbox.control.stats()["write_calls"] == {}


def test_deltagusers_on_tag_not_created_by_the_app_is_81011(wecom, sandbox) -> None:
    assert wecom.post("/cgi-bin/tag/deltagusers", {"tagid": 3, "userlist": ["lisi"]})["errcode"] == 81011
    assert 3 in sandbox.control.user("lisi")["tags"]
    assert wecom.post("/cgi-bin/tag/deltagusers", {"tagid": 99, "userlist": ["lisi"]})["errcode"] == 40068
    assert wecom.post("/cgi-bin/tag/deltagusers", {"tagid": 1})["errcode"] == 40058


def test_appchat_get(wecom) -> None:
    chat = wecom.get("/cgi-bin/appchat/get", chatid="chat_sales_weekly")
    assert chat["errcode"] == 0
    assert chat["chat_info"]["owner"] == "lisi"
    assert chat["chat_info"]["userlist"] == ["lisi", "wangwu", "zhaoliu", "bigsales"]
    assert wecom.get("/cgi-bin/appchat/get", chatid="nope")["errcode"] == 86003
    assert wecom.get("/cgi-bin/appchat/get", chatid="chat_other_app")["errcode"] == 86008


def test_appchat_update_removing_the_owner_needs_a_new_owner(wecom, sandbox) -> None:
    without_owner = wecom.post(
        "/cgi-bin/appchat/update", {"chatid": "chat_sales_weekly", "del_user_list": ["lisi"]}
    )
    assert without_owner["errcode"] == 40058 and "owner" in without_owner["errmsg"]
    assert wecom.get("/cgi-bin/appchat/get", chatid="chat_sales_weekly")["chat_info"]["owner"] == "lisi"
    answer = wecom.post(
        "/cgi-bin/appchat/update",
        {"chatid": "chat_sales_weekly", "del_user_list": ["lisi"], "owner": "wangwu"},
    )
    assert answer == {"errcode": 0, "errmsg": "ok"}
    chat = wecom.get("/cgi-bin/appchat/get", chatid="chat_sales_weekly")["chat_info"]
    assert chat["owner"] == "wangwu" and "lisi" not in chat["userlist"]
    assert "chat_sales_weekly" not in sandbox.control.user("lisi")["chats"]
    assert sandbox.control.stats()["write_calls"]["/cgi-bin/appchat/update"] == 1


def test_appchat_update_errors(wecom) -> None:
    assert (
        wecom.post("/cgi-bin/appchat/update", {"chatid": "nope", "del_user_list": ["lisi"]})["errcode"]
        == 86003
    )
    assert (
        wecom.post("/cgi-bin/appchat/update", {"chatid": "chat_other_app", "del_user_list": ["lisi"]})[
            "errcode"
        ]
        == 86008
    )
    bad_member = {"chatid": "chat_sales_weekly", "add_user_list": ["ghost"]}
    assert wecom.post("/cgi-bin/appchat/update", bad_member)["errcode"] == 86216
