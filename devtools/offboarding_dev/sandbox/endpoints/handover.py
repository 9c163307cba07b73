"""Customer and customer-group handover: on-job (在职继承) and resigned (离职继承) transfers.

A transferred customer waits in status 2 until ``takeover_time`` (submission + 24 h, compressed by the
time scale), then becomes 1 and moves to the new follower — unless the seed marks it as refusing (3) or
the takeover member is at its customer limit (4). Per-item errcodes come back inside ``customer`` /
``failed_chat_list``; the call itself answers errcode 0.
"""

from __future__ import annotations

from typing import Any

from offboarding_dev.sandbox.clock import epoch_seconds_ceil
from offboarding_dev.sandbox.config import SCOPE_CUSTOMER
from offboarding_dev.sandbox.endpoints.base import (
    Answer,
    Call,
    WeComRoute,
    int_field,
    live_member,
    make_cursor,
    parse_cursor,
    str_list,
    text_field,
)
from offboarding_dev.sandbox.errors import ERRMSG, WeComAnswer
from offboarding_dev.sandbox.world import (
    GROUP_INHERITED,
    GROUP_INHERITING,
    TransferKind,
)

CUSTOMER_ONLY = frozenset({SCOPE_CUSTOMER})
MAX_ITEMS = 100
MAX_SUCCESS_MESSAGE_CHARS = 200
RESULT_PAGE_SIZE = 1000


def _ids(body: dict[str, Any], name: str) -> list[str]:
    ids = str_list(body, name, 40058)
    if not 1 <= len(ids) <= MAX_ITEMS:
        raise WeComAnswer(40032 if ids else 40058, f"{name} must hold 1 to {MAX_ITEMS} ids, got {len(ids)}")
    return ids


def _transfer_customers(call: Call, kind: TransferKind) -> Answer:
    body = call.body()
    world = call.world
    handover_id = text_field(body, "handover_userid", 60111)
    takeover = live_member(call, text_field(body, "takeover_userid", 60111))
    external_userids = _ids(body, "external_userid")
    if kind == "onjob":
        live_member(call, handover_id)
        message = body.get("transfer_success_msg")
        if message is not None and (not isinstance(message, str) or len(message) > MAX_SUCCESS_MESSAGE_CHARS):
            raise WeComAnswer(
                40058, f"transfer_success_msg must be text of at most {MAX_SUCCESS_MESSAGE_CHARS} chars"
            )
    else:
        handover = world.members.get(handover_id)
        if handover is None:
            raise WeComAnswer(60111, f"userid {handover_id} not found")
        if not handover.deleted:
            raise WeComAnswer(
                40097, f"{handover_id} is still a member; use the on-job transfer or delete first"
            )

    now = call.now
    durations = call.app.durations
    due = now + call.app.clock.wall_seconds(durations.customer_takeover_seconds)
    window = call.app.clock.wall_seconds(durations.transfer_window_seconds)
    results: list[dict[str, Any]] = []
    started: list[str] = []
    for external_userid in external_userids:
        customer = world.customers.get(external_userid)
        if customer is None:
            errcode = 40096
        elif handover_id == takeover.userid:
            errcode = 40130
        elif handover_id not in customer.follow:
            errcode = 40131
        elif external_userid in world.waiting_transfer or external_userid in started:
            errcode = 40129
        elif (
            kind == "onjob"
            and sum(1 for t in customer.onjob_transfer_times if t > now - window)
            >= durations.transfers_per_window
        ):
            errcode = 40128
        else:
            errcode = 0
            if kind == "onjob":
                customer.onjob_transfer_times.append(now)
            world.start_transfer(kind, handover_id, takeover.userid, external_userid, now, due)
            started.append(external_userid)
        results.append({"external_userid": external_userid, "errcode": errcode})
    write = None
    if started:
        write = {
            "kind": kind,
            "handover_userid": handover_id,
            "takeover_userid": takeover.userid,
            "external_userid": started,
        }
    return Answer({"customer": results}, write=write)


def transfer_customer(call: Call) -> Answer:
    return _transfer_customers(call, "onjob")


def resigned_transfer_customer(call: Call) -> Answer:
    return _transfer_customers(call, "resigned")


def _transfer_result(call: Call, kind: TransferKind) -> Answer:
    body = call.body()
    handover = text_field(body, "handover_userid", 60111)
    takeover = text_field(body, "takeover_userid", 60111)
    for userid in (handover, takeover):
        if userid not in call.world.members:
            raise WeComAnswer(60111, f"userid {userid} not found")
    book = call.world.transfer_books.get((kind, handover, takeover))
    if book is None:
        return Answer({"customer": [], "next_cursor": ""})
    page, next_seq = book.order.page(
        parse_cursor(text_field(body, "cursor", required=False)), RESULT_PAGE_SIZE
    )
    items = []
    for external_userid in page:
        record = book.records[external_userid]
        items.append(
            {
                "external_userid": external_userid,
                "status": record.status,
                "takeover_time": epoch_seconds_ceil(record.takeover_at) if record.status in (1, 2) else 0,
            }
        )
    return Answer({"customer": items, "next_cursor": make_cursor(next_seq)})


def transfer_result(call: Call) -> Answer:
    return _transfer_result(call, "onjob")


def resigned_transfer_result(call: Call) -> Answer:
    return _transfer_result(call, "resigned")


def get_unassigned_list(call: Call) -> Answer:
    body = call.body()
    page_size = int_field(body, "page_size", 1000, 1, 1000)
    world = call.world
    page, next_seq = world.unassigned.page(
        parse_cursor(text_field(body, "cursor", required=False)), page_size
    )
    info = [
        {
            "handover_userid": handover,
            "external_userid": external_userid,
            "dimission_time": int(world.members[handover].deleted_at or 0),
        }
        for handover, external_userid in page
    ]
    return Answer({"info": info, "is_last": next_seq is None, "next_cursor": make_cursor(next_seq)})


def _failed(chat_id: str, errcode: int) -> dict[str, Any]:
    return {"chat_id": chat_id, "errcode": errcode, "errmsg": ERRMSG[errcode]}


def groupchat_transfer(call: Call) -> Answer:
    """Resigned owners' groups: status 2 (inheriting) now, new owner and status 3 after the takeover time."""
    body = call.body()
    chat_ids = _ids(body, "chat_id_list")
    new_owner = live_member(call, text_field(body, "new_owner", 60111))
    world, clock = call.world, call.app.clock
    day = clock.sandbox_day(call.now).isoformat()
    due = call.now + clock.wall_seconds(call.app.durations.customer_takeover_seconds)
    failed: list[dict[str, Any]] = []
    started: list[str] = []
    for chat_id in dict.fromkeys(chat_ids):
        chat = world.group_chats.get(chat_id)
        if chat is None:
            failed.append(_failed(chat_id, 90501))
        elif chat.status == GROUP_INHERITED:
            failed.append(_failed(chat_id, 90508))
        elif chat.status == GROUP_INHERITING:
            failed.append(_failed(chat_id, 90507))
        elif chat.owner == new_owner.userid:
            failed.append(_failed(chat_id, 90504))
        elif not world.members[chat.owner].deleted:
            failed.append(_failed(chat_id, 90500))
        else:
            key = (chat.owner, new_owner.userid, day)
            if world.group_transfers_per_day.get(key, 0) >= call.app.durations.group_transfers_per_day:
                failed.append(_failed(chat_id, 90503))
                continue
            world.group_transfers_per_day[key] = world.group_transfers_per_day.get(key, 0) + 1
            world.start_group_inheritance(chat, new_owner.userid, due)
            started.append(chat_id)
    write = {"kind": "resigned", "new_owner": new_owner.userid, "chat_id_list": started} if started else None
    return Answer({"failed_chat_list": failed}, write=write)


def groupchat_onjob_transfer(call: Call) -> Answer:
    """On-job owners' groups: the new owner takes over at once.

    A group may be transferred on-job at most ``transfers_per_window`` times (2) in ``transfer_window_days``
    (90) — WeCom's documented rule (path/95703); the errcode for it is not documented, the sandbox answers
    90503 (transfer limit reached) for that group in ``failed_chat_list``.
    """
    body = call.body()
    chat_ids = _ids(body, "chat_id_list")
    new_owner = live_member(call, text_field(body, "new_owner", 60111))
    world = call.world
    window = call.app.clock.wall_seconds(call.app.durations.transfer_window_seconds)
    limit = call.app.durations.transfers_per_window
    failed: list[dict[str, Any]] = []
    moved: list[str] = []
    for chat_id in dict.fromkeys(chat_ids):
        chat = world.group_chats.get(chat_id)
        if chat is None:
            failed.append(_failed(chat_id, 90501))
        elif chat.owner == new_owner.userid:
            failed.append(_failed(chat_id, 90504))
        elif world.members[chat.owner].deleted:
            failed.append(_failed(chat_id, 90502))
        elif sum(1 for t in chat.onjob_transfer_times if t > call.now - window) >= limit:
            failed.append(_failed(chat_id, 90503))
        else:
            chat.onjob_transfer_times.append(call.now)
            world.change_group_owner(chat, new_owner.userid)
            moved.append(chat_id)
    write = {"kind": "onjob", "new_owner": new_owner.userid, "chat_id_list": moved} if moved else None
    return Answer({"failed_chat_list": failed}, write=write)


ROUTES = [
    WeComRoute("/cgi-bin/externalcontact/transfer_customer", "POST", transfer_customer, CUSTOMER_ONLY),
    WeComRoute("/cgi-bin/externalcontact/transfer_result", "POST", transfer_result, CUSTOMER_ONLY),
    WeComRoute(
        "/cgi-bin/externalcontact/groupchat/onjob_transfer", "POST", groupchat_onjob_transfer, CUSTOMER_ONLY
    ),
    WeComRoute("/cgi-bin/externalcontact/get_unassigned_list", "POST", get_unassigned_list, CUSTOMER_ONLY),
    WeComRoute(
        "/cgi-bin/externalcontact/resigned/transfer_customer",
        "POST",
        resigned_transfer_customer,
        CUSTOMER_ONLY,
    ),
    WeComRoute(
        "/cgi-bin/externalcontact/resigned/transfer_result", "POST", resigned_transfer_result, CUSTOMER_ONLY
    ),
    WeComRoute("/cgi-bin/externalcontact/groupchat/transfer", "POST", groupchat_transfer, CUSTOMER_ONLY),
]
