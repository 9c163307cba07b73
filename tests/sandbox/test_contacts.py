"""Members and departments: user/get, user/update, user/delete, user/batchdelete, user/list_id, department/list."""

from __future__ import annotations

from offboarding_dev.sandbox.testing import running_sandbox


def test_user_get_fields_and_status(wecom) -> None:
    lisi = wecom.get("/cgi-bin/user/get", userid="lisi")
    assert lisi["errcode"] == 0 and lisi["errmsg"] == "ok"
    assert lisi["userid"] == "lisi" and lisi["name"] == "李四"
    assert lisi["department"] == [3] and lisi["main_department"] == 3 and lisi["is_leader_in_dept"] == [1]
    assert lisi["status"] == 1
    assert wecom.get("/cgi-bin/user/get", userid="disabled01")["status"] == 2
    assert wecom.get("/cgi-bin/user/get", userid="inactive01")["status"] == 4
    assert wecom.get("/cgi-bin/user/get", userid="quit01")["status"] == 5


def test_user_get_unknown_and_deleted_are_60111(wecom) -> None:
    assert wecom.get("/cgi-bin/user/get", userid="nobody")["errcode"] == 60111
    assert wecom.get("/cgi-bin/user/get", userid="resigned01")["errcode"] == 60111
    assert wecom.get("/cgi-bin/user/get", userid="")["errcode"] == 60111


def test_update_disables_and_moves_departments(wecom, sandbox) -> None:
    body = {
        "userid": "lisi",
        "enable": 0,
        "department": [99],
        "main_department": 99,
        "is_leader_in_dept": [0],
    }
    answer = wecom.post("/cgi-bin/user/update", body)
    assert answer == {"errcode": 0, "errmsg": "updated"}
    lisi = wecom.get("/cgi-bin/user/get", userid="lisi")
    assert lisi["status"] == 2 and lisi["department"] == [99] and lisi["main_department"] == 99
    assert lisi["is_leader_in_dept"] == [0]
    assert wecom.post("/cgi-bin/user/update", {"userid": "lisi", "enable": 1})["errmsg"] == "updated"
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["status"] == 1
    stats = sandbox.control.stats()
    assert stats["write_calls"]["/cgi-bin/user/update"] == 2
    assert stats["writes"][0]["summary"]["userid"] == "lisi"


def test_update_rejects_bad_input_without_changing_anything(wecom, sandbox) -> None:
    mismatch = {"userid": "lisi", "enable": 0, "department": [2, 3], "is_leader_in_dept": [0]}
    assert wecom.post("/cgi-bin/user/update", mismatch)["errcode"] == 60132
    order_mismatch = {"userid": "lisi", "department": [2, 3], "order": [1, 2, 3]}
    assert wecom.post("/cgi-bin/user/update", order_mismatch)["errcode"] == 60132
    assert wecom.post("/cgi-bin/user/update", {"userid": "lisi", "department": [12345]})["errcode"] == 60123
    assert wecom.post("/cgi-bin/user/update", {"userid": "lisi", "enable": 3})["errcode"] == 40058
    assert wecom.post("/cgi-bin/user/update", {"userid": "ghost", "enable": 0})["errcode"] == 60111
    lisi = sandbox.control.user("lisi")
    assert lisi["status"] == 1 and lisi["department"] == [3]
    assert sandbox.control.stats()["write_calls"] == {}


def test_delete_member_then_again_is_60111(wecom, sandbox) -> None:
    assert wecom.get("/cgi-bin/user/delete", userid="lisi") == {"errcode": 0, "errmsg": "deleted"}
    record = sandbox.control.user("lisi")
    assert record["deleted"] is True and record["deleted_at"]
    assert record["tags"] == []  # a deleted member leaves its tags
    assert len(record["unassigned_customers"]) == 12  # its customers now await inheritance
    assert wecom.get("/cgi-bin/user/delete", userid="lisi")["errcode"] == 60111
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 60111
    stats = sandbox.control.stats()
    assert stats["calls"]["/cgi-bin/user/delete"] == 2
    assert stats["write_calls"]["/cgi-bin/user/delete"] == 1
    assert stats["errors"]["60111"] == 2


def test_delete_creator_is_301005(wecom, sandbox) -> None:
    assert wecom.get("/cgi-bin/user/delete", userid="zhangsan")["errcode"] == 301005
    assert sandbox.control.user("zhangsan")["deleted"] is False


def test_batchdelete_limits_and_all_or_nothing(wecom, sandbox) -> None:
    assert (
        wecom.post("/cgi-bin/user/batchdelete", {"useridlist": [f"u{i}" for i in range(201)]})["errcode"]
        == 40032
    )
    assert wecom.post("/cgi-bin/user/batchdelete", {"useridlist": []})["errcode"] == 40032
    answer = wecom.post("/cgi-bin/user/batchdelete", {"useridlist": ["wangwu", "ghost", "zhaoliu"]})
    assert answer["errcode"] == 40031
    assert sandbox.control.user("wangwu")["deleted"] is False  # nothing deleted
    answer = wecom.post("/cgi-bin/user/batchdelete", {"useridlist": ["wangwu", "zhaoliu"]})
    assert answer == {"errcode": 0, "errmsg": "deleted"}
    assert sandbox.control.user("wangwu")["deleted"] and sandbox.control.user("zhaoliu")["deleted"]


def test_list_id_pages_with_cursor(wecom) -> None:
    assert wecom.post("/cgi-bin/user/list_id", {"limit": 0})["errcode"] == 40058
    assert wecom.post("/cgi-bin/user/list_id", {"limit": 10001})["errcode"] == 40058
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        answer = wecom.post("/cgi-bin/user/list_id", {"cursor": cursor, "limit": 4})
        assert answer["errcode"] == 0
        seen.extend(item["userid"] for item in answer["dept_user"])
        pages += 1
        cursor = answer["next_cursor"]
        if not cursor:
            break
    assert pages == 4  # 16 live members, 4 per page
    assert len(seen) == len(set(seen)) == 16
    assert "resigned01" not in seen and {"lisi", "Lin..Feng@corp.cn"} <= set(seen)


def test_list_id_cursor_survives_deletions_while_paging(wecom) -> None:
    first = wecom.post("/cgi-bin/user/list_id", {"limit": 3})
    first_ids = [item["userid"] for item in first["dept_user"]]
    assert wecom.get("/cgi-bin/user/delete", userid="wangwu")["errcode"] == 0  # on a later page
    rest = wecom.post("/cgi-bin/user/list_id", {"cursor": first["next_cursor"], "limit": 100})
    rest_ids = [item["userid"] for item in rest["dept_user"]]
    assert not set(first_ids) & set(rest_ids)
    assert len(first_ids) + len(rest_ids) == 15
    assert wecom.post("/cgi-bin/user/list_id", {"cursor": "not-a-cursor"})["errcode"] == 40058


def test_department_list(wecom) -> None:
    answer = wecom.get("/cgi-bin/department/list")
    by_id = {d["id"]: d for d in answer["department"]}
    assert set(by_id) == {1, 2, 3, 4, 99}
    assert by_id[3]["name"] == "销售部" and by_id[3]["parentid"] == 1
    assert [d["id"] for d in wecom.get("/cgi-bin/department/list", id="3")["department"]] == [3]
    assert wecom.get("/cgi-bin/department/list", id="77")["errcode"] == 60123


def test_members_seed_at_scale(caller_for) -> None:
    with running_sandbox(seed="members:2000") as sb:
        wecom = caller_for(sb)
        answer = wecom.post("/cgi-bin/user/list_id", {"limit": 10000})
        userids = {item["userid"] for item in answer["dept_user"]}
        assert len(userids) == 2003 and answer["next_cursor"] == ""
        assert {"zhangsan", "admin01", "admin02", "u000001", "u002000"} <= userids
        assert wecom.get("/cgi-bin/user/delete", userid="zhangsan")["errcode"] == 301005
        assert len(wecom.get("/cgi-bin/externalcontact/list", userid="u000042")["external_userid"]) == 3
        state = sb.control.state()
        assert state["members"]["active"] == 2003 and state["customers"] == 6000
        assert state["group_chats"]["normal"] == 2000
