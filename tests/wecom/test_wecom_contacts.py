"""Contacts against the sandbox: read, disable, move, delete (idempotent), batch delete, list ids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from offboarding.wecom import Contacts, WeComClient, WeComDataError


@pytest.fixture
def contacts(client: WeComClient) -> Contacts:
    return Contacts(client)


def test_get_user_returns_the_member_without_the_envelope(contacts: Contacts) -> None:
    member = contacts.get_user("disabled01")
    assert member["userid"] == "disabled01" and member["status"] == 2
    assert "errcode" not in member


def test_disable_user_turns_the_member_off(contacts: Contacts, sandbox: Any) -> None:
    contacts.disable_user("lisi")
    assert contacts.get_user("lisi")["status"] == 2
    assert sandbox.control.stats()["write_calls"].get("/cgi-bin/user/update") == 1


def test_update_user_moves_the_member_to_the_leavers_department(contacts: Contacts, sandbox: Any) -> None:
    contacts.update_user("lisi", department=[99], main_department=99, is_leader_in_dept=[0])
    member = contacts.get_user("lisi")
    assert member["department"] == [99] and member["main_department"] == 99


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "at least one field"),
        ({"department": []}, "department"),
        ({"department": [99, 3], "order": [1]}, "order"),
        ({"userid": "x"}, "userid"),
    ],
)
def test_bad_updates_are_refused_before_any_call(
    contacts: Contacts, calls: Callable[[str], int], fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        contacts.update_user("lisi", **fields)
    assert calls("/cgi-bin/user/update") == 0


def test_delete_user_is_idempotent(contacts: Contacts, sandbox: Any) -> None:
    assert contacts.delete_user("wangwu") == "deleted"
    assert sandbox.control.user("wangwu")["deleted"] is True
    assert contacts.delete_user("wangwu") == "already_gone"


def test_delete_user_refuses_an_empty_userid_before_calling(
    contacts: Contacts, calls: Callable[[str], int]
) -> None:
    with pytest.raises(ValueError, match="userid"):
        contacts.delete_user("")
    assert calls("/cgi-bin/user/delete") == 0


def test_batch_delete_450_members_takes_three_calls(contacts: Contacts, sandbox: Any) -> None:
    sandbox.control.reset(seed="members:450")
    userids = [f"u{n:06d}" for n in range(1, 451)]
    result = contacts.batch_delete(userids)
    assert result.ok and result.deleted == userids
    stats = sandbox.control.stats()
    assert stats["calls"]["/cgi-bin/user/batchdelete"] == 3
    assert stats["write_calls"]["/cgi-bin/user/batchdelete"] == 3
    assert sandbox.control.user("u000450")["deleted"] is True


def test_batch_delete_falls_back_to_single_deletes_for_a_refused_chunk(
    contacts: Contacts, sandbox: Any
) -> None:
    result = contacts.batch_delete(["zhaoliu", "no_such_member", "zhangsan", "zhengshi", "zhaoliu"])
    assert result.deleted == ["zhaoliu", "zhengshi"]
    assert result.already_gone == ["no_such_member"]
    assert [(f.item, f.errcode) for f in result.failed] == [("zhangsan", 301005)]
    assert not result.ok
    assert "transfer the creator role" in result.failed[0].errmsg
    assert sandbox.control.user("zhengshi")["deleted"] is True
    assert sandbox.control.user("zhangsan")["deleted"] is False
    assert result.to_dict()["failed"][0]["item"] == "zhangsan"


def test_batch_delete_refuses_bad_ids_before_any_call(
    contacts: Contacts, calls: Callable[[str], int]
) -> None:
    with pytest.raises(ValueError, match="userids"):
        contacts.batch_delete(["lisi", ""])
    with pytest.raises(ValueError, match="userids"):
        contacts.batch_delete("lisi")
    assert calls("/cgi-bin/user/batchdelete") == 0


def test_iter_member_ids_pages_through_every_member(contacts: Contacts, calls: Callable[[str], int]) -> None:
    everyone = list(contacts.iter_member_ids())
    one_page_calls = calls("/cgi-bin/user/list_id")
    paged = list(contacts.iter_member_ids(page_size=4))
    assert paged == everyone and len(set(everyone)) == len(everyone)
    assert {"lisi", "zhangsan", "bigsales"} <= set(everyone)
    assert calls("/cgi-bin/user/list_id") - one_page_calls >= len(everyone) // 4


def test_list_departments(contacts: Contacts) -> None:
    names = {d["id"]: d["name"] for d in contacts.list_departments()}
    assert names[1] == "示例科技有限公司" and names[99] == "离职人员"


def test_unknown_member_on_update_carries_the_item(contacts: Contacts) -> None:
    with pytest.raises(WeComDataError) as caught:
        contacts.disable_user("no_such_member")
    assert caught.value.errcode == 60111 and caught.value.item == "no_such_member"
