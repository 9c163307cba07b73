"""Tags and app group chats against the sandbox: per-item failures, chunking, ownership rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from offboarding.wecom import AppChats, Tags, WeComClient, WeComConfigError, WeComDataError


def test_list_and_get_tags(client: WeComClient) -> None:
    tags = Tags(client)
    assert {t["tagid"]: t["tagname"] for t in tags.list_tags()}[1] == "销售一组"
    members = {u["userid"] for u in tags.get_tag(1)["userlist"]}
    assert {"lisi", "wangwu"} <= members


def test_remove_members_reports_the_invalidlist_per_item(client: WeComClient, sandbox: Any) -> None:
    result = Tags(client).remove_members(1, ["lisi", "no_such_member"])
    assert result.succeeded == ["lisi"]
    assert [(f.item, f.errcode) for f in result.failed] == [("no_such_member", 40031)]
    assert not result.ok
    assert 1 not in sandbox.control.user("lisi")["tags"]


def test_remove_members_all_invalid_is_a_per_item_failure(client: WeComClient) -> None:
    result = Tags(client).remove_members(2, ["ghost1", "ghost2"])
    assert result.succeeded == [] and [f.item for f in result.failed] == ["ghost1", "ghost2"]
    assert {f.errcode for f in result.failed} == {40031}


def test_remove_members_chunks_by_1000(client: WeComClient, calls: Callable[[str], int]) -> None:
    userids = ["lisi", *[f"ghost{n:04d}" for n in range(1500)]]
    result = Tags(client).remove_members(1, userids)
    assert calls("/cgi-bin/tag/deltagusers") == 2
    assert result.succeeded == ["lisi"] and len(result.failed) == 1500


def test_a_tag_the_app_did_not_create_is_a_config_error(
    client: WeComClient, calls: Callable[[str], int]
) -> None:
    with pytest.raises(WeComConfigError) as caught:
        Tags(client).remove_members(3, ["lisi"])
    assert caught.value.errcode == 81011
    assert calls("/cgi-bin/tag/deltagusers") == 1


def test_tagid_is_checked(client: WeComClient) -> None:
    with pytest.raises(ValueError, match="tagid"):
        Tags(client).remove_members("1", ["lisi"])  # type: ignore[arg-type]


def test_app_chat_get_and_remove_the_owner_with_a_new_owner(client: WeComClient) -> None:
    chats = AppChats(client)
    assert chats.get("chat_sales_weekly")["owner"] == "lisi"
    with pytest.raises(WeComDataError):
        chats.remove_member("chat_sales_weekly", "lisi")  # the owner needs a successor
    chats.remove_member("chat_sales_weekly", "lisi", new_owner="wangwu")
    chat = chats.get("chat_sales_weekly")
    assert chat["owner"] == "wangwu" and "lisi" not in chat["userlist"]


def test_app_chat_remove_a_plain_member(client: WeComClient) -> None:
    chats = AppChats(client)
    chats.remove_member("chat_sales_weekly", "zhaoliu")
    assert "zhaoliu" not in chats.get("chat_sales_weekly")["userlist"]


@pytest.mark.parametrize(("chatid", "errcode"), [("chat_other_app", 86008), ("chat_nowhere", 86003)])
def test_app_chat_errors_carry_the_chat(client: WeComClient, chatid: str, errcode: int) -> None:
    with pytest.raises(WeComDataError) as caught:
        AppChats(client).get(chatid)
    assert caught.value.errcode == errcode and caught.value.item == chatid


def test_new_owner_must_differ(client: WeComClient, calls: Callable[[str], int]) -> None:
    with pytest.raises(ValueError, match="new_owner"):
        AppChats(client).remove_member("chat_sales_weekly", "lisi", new_owner="lisi")
    assert calls("/cgi-bin/appchat/update") == 0
