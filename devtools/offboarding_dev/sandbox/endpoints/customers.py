"""Customers (客户联系): externalcontact/list, batch/get_by_user, groupchat/list, groupchat/get."""

from __future__ import annotations

from typing import Any

from offboarding_dev.sandbox.config import SCOPE_CUSTOMER
from offboarding_dev.sandbox.endpoints.base import (
    Answer,
    Call,
    WeComRoute,
    int_field,
    make_cursor,
    make_pair_cursor,
    parse_cursor,
    parse_pair_cursor,
    str_list,
    text_field,
)
from offboarding_dev.sandbox.errors import WeComAnswer
from offboarding_dev.sandbox.world import Customer, GroupChat

CUSTOMER_ONLY = frozenset({SCOPE_CUSTOMER})
MAX_USERS_PER_BATCH = 100


def external_contact_list(call: Call) -> Answer:
    userid = call.query("userid")
    if not userid or userid not in call.world.members:
        raise WeComAnswer(60111, f"userid {userid} not found")
    member = call.world.members[userid]
    if not len(member.customers):
        raise WeComAnswer(84061, f"{userid} has no external contact")
    return Answer({"external_userid": list(member.customers)})


def _customer_json(customer: Customer, follower: str) -> dict[str, Any]:
    follow = customer.follow[follower]
    return {
        "external_contact": {
            "external_userid": customer.external_userid,
            "name": customer.name,
            "type": customer.type,
            "gender": customer.gender,
            "corp_name": customer.corp_name,
        },
        "follow_info": {
            "userid": follower,
            "remark": follow.remark,
            "description": "",
            "createtime": follow.createtime,
            "tag_id": [],
            "add_way": follow.add_way,
        },
    }


def batch_get_by_user(call: Call) -> Answer:
    body = call.body()
    userids = str_list(body, "userid_list")
    if not 1 <= len(userids) <= MAX_USERS_PER_BATCH:
        raise WeComAnswer(40058, f"userid_list must hold 1 to {MAX_USERS_PER_BATCH} userids")
    limit = int_field(body, "limit", 50, 1, 100)
    index, after = parse_pair_cursor(text_field(body, "cursor", required=False))
    world = call.world
    for userid in userids:
        if userid not in world.members:
            raise WeComAnswer(60111, f"userid {userid} not found")
    items: list[dict[str, Any]] = []
    next_cursor = ""
    while index < len(userids):
        follower = userids[index]
        page, next_seq = world.members[follower].customers.page(after, limit - len(items))
        items.extend(_customer_json(world.customers[ext], follower) for ext in page)
        if next_seq is not None:
            next_cursor = make_pair_cursor(index, next_seq)
            break
        index, after = index + 1, 0
        if len(items) == limit:
            if index < len(userids):
                next_cursor = make_pair_cursor(index, 0)
            break
    return Answer({"external_contact_list": items, "next_cursor": next_cursor})


def groupchat_list(call: Call) -> Answer:
    body = call.body()
    status_filter = int_field(body, "status_filter", 0, 0, 3)
    limit = int_field(body, "limit", 100, 1, 1000)
    world = call.world
    owner_filter = body.get("owner_filter")
    owners: list[str] | None = None
    if owner_filter is not None:
        if not isinstance(owner_filter, dict):
            raise WeComAnswer(40058, "owner_filter must be an object with userid_list")
        owners = str_list(owner_filter, "userid_list") or None

    def wanted(chat_id: str) -> bool:
        return status_filter == 0 or world.group_chats[chat_id].status == status_filter

    cursor_text = text_field(body, "cursor", required=False)
    if owners is None:
        chat_ids, next_seq = world.group_order.page(parse_cursor(cursor_text), limit, wanted)
        next_cursor = make_cursor(next_seq)
    else:
        chat_ids, next_cursor = [], ""
        index, after = parse_pair_cursor(cursor_text)
        while index < len(owners):
            owner = world.members.get(owners[index])
            if owner is None:
                index, after = index + 1, 0
                continue
            page, next_seq = owner.group_chats.page(after, limit - len(chat_ids), wanted)
            chat_ids.extend(page)
            if next_seq is not None:
                next_cursor = make_pair_cursor(index, next_seq)
                break
            index, after = index + 1, 0
            if len(chat_ids) == limit:
                if index < len(owners):
                    next_cursor = make_pair_cursor(index, 0)
                break
    items = [{"chat_id": c, "status": world.group_chats[c].status} for c in chat_ids]
    return Answer({"group_chat_list": items, "next_cursor": next_cursor})


def _group_json(chat: GroupChat) -> dict[str, Any]:
    return {
        "chat_id": chat.chat_id,
        "name": chat.name,
        "owner": chat.owner,
        "create_time": chat.create_time,
        "notice": chat.notice,
        "member_list": [
            {"userid": m.userid, "type": m.type, "join_time": m.join_time, "join_scene": m.join_scene}
            for m in chat.members
        ],
        "admin_list": [],
    }


def groupchat_get(call: Call) -> Answer:
    chat_id = text_field(call.body(), "chat_id", 40050)
    chat = call.world.group_chats.get(chat_id)
    if chat is None:
        raise WeComAnswer(40050, f"chat {chat_id} not found")
    return Answer({"group_chat": _group_json(chat)})


ROUTES = [
    WeComRoute("/cgi-bin/externalcontact/list", "GET", external_contact_list, CUSTOMER_ONLY),
    WeComRoute("/cgi-bin/externalcontact/batch/get_by_user", "POST", batch_get_by_user, CUSTOMER_ONLY),
    WeComRoute("/cgi-bin/externalcontact/groupchat/list", "POST", groupchat_list, CUSTOMER_ONLY),
    WeComRoute("/cgi-bin/externalcontact/groupchat/get", "POST", groupchat_get, CUSTOMER_ONLY),
]
