"""Leaving tags and app chats, disabling and deleting, for lists of members, against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from offboarding.steps.deleting import delete_member, deletion_call, send_deletion
from offboarding.steps.disabling import DISABLED_STATUS, disable_members
from offboarding.steps.leaving import MANUAL_STEP, leave_tags_and_chats, memberships_of
from offboarding.wecom.errors import WeComCreatorCannotBeDeleted


def test_leaving_tags_and_chats_of_several_members(corp: Any, sandbox: Any) -> None:
    snapshot = {"tags": [1, 2, 3], "app_chats": ["chat_sales_weekly"]}
    held = memberships_of(corp, snapshot, ["lisi", "bigsales"])

    done = leave_tags_and_chats(corp, "wangwu", held)

    lisi = done["lisi"]
    assert lisi["tag:1"] == {"outcome": "removed"}
    assert lisi["tag:3"]["errcode"] == 81011  # not created by this app: a per-item failure with what to do
    assert lisi["tag:3"]["what_to_do"] == MANUAL_STEP[81011]
    assert lisi["chat:chat_sales_weekly"] == {"outcome": "removed_owner_handed_over", "new_owner": "wangwu"}
    assert lisi["chat:chat_other_app"]["errcode"] == 86008
    assert done["bigsales"]["tag:2"] == {"outcome": "removed"}
    assert done["bigsales"]["chat:chat_sales_weekly"] == {"outcome": "removed"}  # a member, not the owner
    assert sandbox.control.user("lisi")  # the member is still there: only memberships changed

    # A rerun: what was removed stays removed, what WeCom refused is not asked again.
    again = leave_tags_and_chats(corp, "wangwu", held, previous=done)
    assert again["lisi"]["tag:1"] == {"outcome": "removed"}
    assert again["lisi"]["tag:3"] == lisi["tag:3"]


def test_disabling_several_members_reads_them_back(corp: Any) -> None:
    corp.leavers_department_id = 99

    done = {d.member: d for d in disable_members(corp, ["zhaoliu", "zhengshi", "resigned01"])}

    assert done["resigned01"].gone and done["resigned01"].done
    for member in ("zhaoliu", "zhengshi"):
        assert done[member].done
        assert done[member].read_back == {"status": DISABLED_STATUS, "department": [99]}
        assert done[member].changes["enable"] == 0

    again = disable_members(corp, ["zhaoliu"])[0]
    assert again.changes == {} and again.done  # already disabled and in place: nothing sent


def test_deleting_one_member_reads_back_and_refuses_the_creator(corp: Any) -> None:
    deleted = delete_member(corp, "zhengshi")
    assert (deleted.answer, deleted.still_there) == ("deleted", False)
    assert deleted.read_back == {"call": "user/get", "member_found": False, "errcode": 60111}
    assert delete_member(corp, "zhengshi").answer == "already_gone"  # nothing sent a second time

    with pytest.raises(WeComCreatorCannotBeDeleted):
        delete_member(corp, "zhangsan")


def test_deleting_a_list_answers_per_member(corp: Any, calls: Any) -> None:
    members = ["zhaoliu", "zhengshi", "zhangsan", "resigned01"]
    assert deletion_call(members) == "user/batchdelete" and deletion_call(["zhaoliu"]) == "user/delete"

    result = send_deletion(corp, members)

    assert sorted(result.deleted) == ["zhaoliu", "zhengshi"]
    assert {f.item: f.errcode for f in result.failed}.get("zhangsan") == 301005
    assert calls("user/batchdelete") >= 1
