"""Take members out of the app-created tags and app chats that hold them.

Each tag and chat is read first, so a rerun touches only those still holding the member. When the member
owns an app chat, the successor becomes its owner in the same update (added to the chat if needed). Tags
and chats WeCom does not let this app change (81011, 86008, ...) are per-item failures with what to do
by hand; one that was refused before is not asked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from offboarding.steps.corp import WeComCorp
from offboarding.wecom.errors import WeComError

PER_ITEM_ERRCODES = frozenset({81011, 40068, 40031, 86003, 86008, 86216})
"""Answers about one tag or app chat (not created by this app, gone, not allowed): surfaced, not fatal."""
MANUAL_STEP = {
    81011: "the tag was not created by this app: remove the member in the WeCom admin console",
    86008: "the chat was created by another app or a person: remove the member in the WeCom client",
    86003: "no such chat: remove its id from the connection extra app_chat_ids",
    40068: "no such tag any more: nothing to do",
}


@dataclass(frozen=True)
class Memberships:
    """The tags and app chats to take one member out of."""

    tag_ids: tuple[int, ...]
    chat_ids: tuple[str, ...]


def candidate_tags(corp: WeComCorp, snapshot: Mapping[str, Any] | None) -> list[int]:
    """The snapshot's ``tags`` when it has them, else every tag this app sees (``tag/list``)."""
    from_snapshot = snapshot is not None and "tags" in snapshot
    raw = (snapshot or {}).get("tags") or [] if from_snapshot else corp.tags.list_tags()
    ids = [int(t["tagid"]) if isinstance(t, Mapping) else int(t) for t in raw]
    return list(dict.fromkeys(ids))


def leave_tags_and_chats(
    corp: WeComCorp,
    successor: str,
    memberships: Mapping[str, Memberships],
    previous: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per member, one record per ``tag:<id>`` and ``chat:<id>``: ``removed``, ``removed_owner_handed_over``,
    ``not_a_member`` or ``failed`` (errcode, errmsg, what_to_do)."""
    done: dict[str, dict[str, dict[str, Any]]] = {}
    for member, held in memberships.items():
        earlier = (previous or {}).get(member) or {}
        items: dict[str, dict[str, Any]] = {}
        for tagid in held.tag_ids:
            key = f"tag:{tagid}"
            items[key] = _refused_before(earlier, key) or _latest(
                earlier, key, _leave_tag(corp, tagid, member)
            )
        for chatid in held.chat_ids:
            key = f"chat:{chatid}"
            items[key] = _refused_before(earlier, key) or _latest(
                earlier, key, _leave_chat(corp, str(chatid), member, successor)
            )
        done[member] = items
    return done


def _leave_tag(corp: WeComCorp, tagid: int, member: str) -> dict[str, Any]:
    try:
        tag = corp.tags.get_tag(tagid)
        if not any(u.get("userid") == member for u in tag.get("userlist") or []):
            return {"outcome": "not_a_member"}
        results = corp.tags.remove_members(tagid, [member])
    except WeComError as err:
        return _item_failure(err)
    if results.failed:
        failure = results.failed[0]
        return {"outcome": "failed", "errcode": failure.errcode, "errmsg": failure.errmsg}
    return {"outcome": "removed"}


def _leave_chat(corp: WeComCorp, chatid: str, member: str, successor: str) -> dict[str, Any]:
    try:
        chat = corp.app_chats.get(chatid)
        users = list(chat.get("userlist") or [])
        if member not in users:
            return {"outcome": "not_a_member"}
        if chat.get("owner") != member:
            corp.app_chats.remove_member(chatid, member)
            return {"outcome": "removed"}
        if successor in users:
            corp.app_chats.remove_member(chatid, member, new_owner=successor)
        else:
            # AppChats.remove_member cannot add the new owner; WeCom needs the owner in the chat.
            corp.app_chats.client.post(
                "appchat/update",
                {
                    "chatid": chatid,
                    "add_user_list": [successor],
                    "del_user_list": [member],
                    "owner": successor,
                },
                item=chatid,
            )
    except WeComError as err:
        return _item_failure(err)
    return {"outcome": "removed_owner_handed_over", "new_owner": successor}


def _refused_before(previous: Mapping[str, Mapping[str, Any]], key: str) -> dict[str, Any] | None:
    """The earlier record of a tag or chat WeCom refused to this app (retrying cannot help), else None."""
    record = previous.get(key)
    if record and record.get("outcome") == "failed" and record.get("errcode") in MANUAL_STEP:
        return dict(record)
    return None


def _latest(previous: Mapping[str, Mapping[str, Any]], key: str, now: dict[str, Any]) -> dict[str, Any]:
    """``now``, unless it only says "not a member" of what an earlier try removed the member from."""
    earlier = previous.get(key) or {}
    if now["outcome"] == "not_a_member" and str(earlier.get("outcome", "")).startswith("removed"):
        return dict(earlier)
    return now


def _item_failure(err: WeComError) -> dict[str, Any]:
    """A tag or chat this app may not change, as a surfaced failure; other errors are re-raised."""
    if err.errcode not in PER_ITEM_ERRCODES:
        raise err
    record: dict[str, Any] = {"outcome": "failed", "errcode": err.errcode, "errmsg": err.message}
    if err.errcode in MANUAL_STEP:
        record["what_to_do"] = MANUAL_STEP[err.errcode]
    return record


def chat_candidates(corp: WeComCorp, snapshot: Mapping[str, Any] | None) -> list[str]:
    """The snapshot's ``app_chats`` and the connection's ``app_chat_ids``, each once."""
    return list(dict.fromkeys([*(snapshot or {}).get("app_chats", []), *corp.app_chat_ids]))


def memberships_of(
    corp: WeComCorp, snapshot: Mapping[str, Any] | None, members: Sequence[str]
) -> dict[str, Memberships]:
    """The candidate tags and chats for each of ``members`` (read once for all)."""
    held = Memberships(tuple(candidate_tags(corp, snapshot)), tuple(chat_candidates(corp, snapshot)))
    return dict.fromkeys(members, held)
