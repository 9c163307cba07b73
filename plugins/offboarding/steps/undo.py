"""Undo what an offboarding did to a member who stays (rescind), in reverse order, as far as WeCom allows.

Each function makes the WeCom calls for one kind of thing and returns one outcome per item — never
dropping an item WeCom refuses: ``{"outcome": "restored" | "already" | "handed_back" | "stayed_with_person"
| "failed" | "nothing_to_undo", "errcode": ..., "reason": ...}``.

* :func:`re_enable_member` — ``user/update`` ``enable: 1`` and the departments of the profile snapshot, in
  one call (disabling and moving to the leavers' department were one call too), then read back;
* :func:`restore_tags_and_chats` — ``tag/addtagusers`` for the app-created tags and ``appchat/update``
  ``add_user_list`` (and ``owner`` when the member owned the chat) for the app chats the member left;
* :func:`hand_back_groups` — ``groupchat/onjob_transfer`` of the customer groups the successor got;
* :func:`hand_back_customers` — ``transfer_customer`` (在职继承) successor → member of the customers the
  successor took over; at most two on-job transfers of a customer in 90 days (40128), so some come back
  refused: listed with the errcode and WeCom's reason.

A member deleted from WeCom cannot be undone (:class:`MemberDeleted`): a new account would be a new person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from offboarding.steps.corp import WeComCorp
from offboarding.steps.transfer import transfer_customers, transfer_groups
from offboarding.wecom.errors import WeComDataError, WeComError
from offboarding.wecom.results import ItemResults

MEMBER_GONE_ERRCODES = frozenset({60111, 40003})
ENABLED, DISABLED = 1, 2
PROFILE_FIELDS = ("department", "main_department", "is_leader_in_dept", "order")
PER_ITEM_ERRCODES = frozenset({81011, 40068, 40070, 40031, 86003, 86008, 86216})
"""Answers about one tag or app chat (not this app's, gone, not allowed): listed, not fatal."""


class MemberDeleted(Exception):
    """The member is no longer in WeCom: nothing of the offboarding can be undone."""


def read_member(contacts: Any, userid: str) -> dict[str, Any] | None:
    """``user/get``, or None when WeCom no longer knows the member."""
    try:
        return contacts.get_user(userid)
    except WeComDataError as err:
        if err.errcode in MEMBER_GONE_ERRCODES:
            return None
        raise


def require_member(contacts: Any, userid: str) -> dict[str, Any]:
    member = read_member(contacts, userid)
    if member is None:
        raise MemberDeleted(userid)
    return member


def re_enable_member(
    contacts: Any, userid: str, *, before: Mapping[str, Any] | None, disabled: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Enable the member again and put them back in their departments.

    ``before``: the profile snapshot (``user/get`` before anything changed); ``disabled``: the changes the
    disabling step sent (its ledger entry's ``changes``), None if it never ran. Only what that step changed
    is changed back: a member already disabled before the case stays disabled.
    """
    current = require_member(contacts, userid)
    changes: dict[str, Any] = {}
    sent = dict(disabled or {})
    if sent.get("enable") == 0 and current.get("status") == DISABLED:
        changes["enable"] = 1
    if "department" in sent and before and before.get("department"):
        wanted = {name: before.get(name) for name in PROFILE_FIELDS if before.get(name) is not None}
        if any(current.get(name) != value for name, value in wanted.items()):
            changes.update(wanted)
    if changes:
        contacts.update_user(userid, **changes)
    after = require_member(contacts, userid)
    read_back = {"status": after.get("status"), "department": after.get("department")}
    outcome = "restored" if changes else ("nothing_to_undo" if not sent else "already")
    return {"member": userid, "outcome": outcome, "changes": changes, "read_back": read_back}


def _failure(err: WeComError) -> dict[str, Any]:
    if err.errcode not in PER_ITEM_ERRCODES:
        raise err
    return {"outcome": "failed", "errcode": err.errcode, "reason": err.message}


def restore_tags_and_chats(
    tags: Any, app_chats: Any, userid: str, left: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Put the member back in the tags and app chats the handover took them out of.

    ``left``: the handover's per-item record (``tag:<id>`` / ``chat:<id>`` → ``{"outcome": "removed" |
    "removed_owner_handed_over", ...}``); items it did not remove the member from are not touched.
    """
    items: dict[str, dict[str, Any]] = {}
    for key, record in left.items():
        outcome = str(record.get("outcome") or "")
        if not outcome.startswith("removed"):
            continue
        kind, _, ident = key.partition(":")
        try:
            if kind == "tag":
                items[key] = _restore_tag(tags, int(ident), userid)
            elif kind == "chat":
                items[key] = _restore_chat(
                    app_chats, ident, userid, owner=outcome == "removed_owner_handed_over"
                )
        except WeComError as err:
            items[key] = _failure(err)
    return items


def _restore_tag(tags: Any, tagid: int, userid: str) -> dict[str, Any]:
    tag = tags.get_tag(tagid)
    if any(u.get("userid") == userid for u in tag.get("userlist") or []):
        return {"outcome": "already"}
    results: ItemResults = tags.add_members(tagid, [userid])
    if results.failed:
        failure = results.failed[0]
        return {"outcome": "failed", "errcode": failure.errcode, "reason": failure.errmsg}
    return {"outcome": "restored"}


def _restore_chat(app_chats: Any, chatid: str, userid: str, *, owner: bool) -> dict[str, Any]:
    chat = app_chats.get(chatid)
    inside = userid in (chat.get("userlist") or [])
    owns = chat.get("owner") == userid
    if inside and (owns or not owner):
        return {"outcome": "already"}
    app_chats.add_member(chatid, userid, make_owner=owner)
    return {"outcome": "restored", **({"owner": userid} if owner else {})}


def _as_handed_back(record: Mapping[str, Any]) -> dict[str, Any]:
    """A transfer record in the words of a rescind: started → ``handed_back``, WeCom's errmsg as ``reason``."""
    back = dict(record)
    if back.get("outcome") == "started":
        back["outcome"] = "handed_back"
    if "errmsg" in back:
        back["reason"] = back.pop("errmsg")
    return back


def hand_back_groups(
    corp: WeComCorp, person: str, successor: str, chat_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """Customer groups the successor got on-job → back to ``person`` (on-job group transfer).

    A group whose owner is no longer the successor is not touched (``not_with_successor``). The transfer
    itself is the core's one algorithm (:func:`offboarding.steps.transfer.transfer_groups`).
    """
    items: dict[str, dict[str, Any]] = {}
    send: list[str] = []
    for chat_id in dict.fromkeys(chat_ids):
        try:
            owner = corp.customer_contacts.get_group_chat(chat_id).get("owner")
        except WeComDataError as err:
            items[chat_id] = {"outcome": "failed", "errcode": err.errcode, "reason": err.message}
            continue
        if owner == person:
            items[chat_id] = {"outcome": "already"}
        elif owner != successor:
            items[chat_id] = {"outcome": "not_with_successor", "owner": owner}
        else:
            send.append(chat_id)
    if send:
        back = transfer_groups(corp, person, {successor: send}, resigned=False)[successor]
        items.update({chat: _as_handed_back(record) for chat, record in back.items.items()})
    return items


def hand_back_customers(
    corp: WeComCorp,
    person: str,
    successor: str,
    taken_over: Iterable[str],
    stayed: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Customers the successor took over → back to ``person`` (在职继承); per customer WeCom's answer.

    ``stayed``: customers the handover sent but that never left the person (refused, limit) → listed as
    ``stayed_with_person`` with why, nothing sent. ``handed_back`` means WeCom started the transfer
    (the customer is the person's again after WeCom's takeover delay, unless they refuse). The transfer
    itself is the core's one algorithm (:func:`offboarding.steps.transfer.transfer_customers`).
    """
    items: dict[str, dict[str, Any]] = {
        c: {"outcome": "stayed_with_person", "reason": why} for c, why in (stayed or {}).items()
    }
    send = [c for c in dict.fromkeys(taken_over) if c not in items]
    if send:
        back = transfer_customers(corp, person, {successor: send}, resigned=False, read_takeover=False)
        items.update({c: _as_handed_back(record) for c, record in back[successor].items.items()})
    return items
