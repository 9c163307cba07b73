"""Members and departments: user/get, user/update, user/delete, user/batchdelete, user/list_id,
department/list. Member writes need the contact-sync secret (48002 otherwise)."""

from __future__ import annotations

from typing import Any

from offboarding_dev.sandbox.config import SCOPE_CONTACT
from offboarding_dev.sandbox.endpoints.base import (
    Answer,
    Call,
    WeComRoute,
    int_field,
    int_list,
    live_member,
    make_cursor,
    parse_cursor,
    str_list,
    text_field,
)
from offboarding_dev.sandbox.errors import WeComAnswer
from offboarding_dev.sandbox.world import STATUS_ACTIVE, STATUS_DISABLED

CONTACT_WRITE = frozenset({SCOPE_CONTACT})
MAX_BATCH_DELETE = 200
MAX_DEPARTMENTS = 100
UPDATABLE_TEXT_FIELDS = ("name", "position", "alias", "email", "mobile", "gender")


def user_get(call: Call) -> Answer:
    member = live_member(call, call.query("userid"))
    return Answer(member.as_wecom())


def user_update(call: Call) -> Answer:
    body = call.body()
    member = live_member(call, text_field(body, "userid", 60111))
    changes: dict[str, Any] = {}

    if "enable" in body:
        enable = body["enable"]
        if enable not in (0, 1) or isinstance(enable, bool):
            raise WeComAnswer(40058, "enable must be 0 or 1")
        changes["enable"] = enable

    departments = int_list(body, "department", 60123)
    order = int_list(body, "order")
    leaders = int_list(body, "is_leader_in_dept")
    if departments is not None:
        if not departments:
            raise WeComAnswer(60123, "department must not be empty")
        if len(departments) > MAX_DEPARTMENTS:
            raise WeComAnswer(60110)
        unknown = [d for d in departments if d not in call.world.departments]
        if unknown:
            raise WeComAnswer(60123, f"department {unknown[0]} not found")
    effective = departments if departments is not None else member.department
    for name, values in (("order", order), ("is_leader_in_dept", leaders)):
        if values is not None and len(values) != len(effective):
            raise WeComAnswer(60132, f"{name} has {len(values)} items, department has {len(effective)}")
    main = body.get("main_department")
    if main is not None and (not isinstance(main, int) or main not in effective):
        raise WeComAnswer(60123, "main_department must be one of the member's departments")
    leader_list = str_list(body, "direct_leader")
    for field_name in UPDATABLE_TEXT_FIELDS:
        if field_name in body and not isinstance(body[field_name], str):
            raise WeComAnswer(40058, f"{field_name} must be a string")

    # Everything checked: apply.
    if "enable" in changes:
        if changes["enable"] == 0:
            member.status = STATUS_DISABLED
        elif member.status == STATUS_DISABLED:
            member.status = STATUS_ACTIVE
    if departments is not None:
        member.department = list(departments)
        changes["department"] = list(departments)
        if order is None:
            member.order = [0] * len(departments)
        if leaders is None:
            member.is_leader_in_dept = [0] * len(departments)
        if main is None and member.main_department not in departments:
            member.main_department = departments[0]
    if order is not None:
        member.order = list(order)
        changes["order"] = list(order)
    if leaders is not None:
        member.is_leader_in_dept = list(leaders)
        changes["is_leader_in_dept"] = list(leaders)
    if main is not None:
        member.main_department = main
        changes["main_department"] = main
    if "direct_leader" in body:
        member.direct_leader = leader_list
        changes["direct_leader"] = leader_list
    for field_name in UPDATABLE_TEXT_FIELDS:
        if field_name in body:
            setattr(member, field_name, body[field_name])
            changes[field_name] = body[field_name]
    return Answer(errmsg="updated", write={"userid": member.userid, "changes": changes})


def user_delete(call: Call) -> Answer:
    member = live_member(call, call.query("userid"))
    if member.is_creator:
        raise WeComAnswer(301005)
    call.world.delete_member(member, call.now)
    return Answer(errmsg="deleted", write={"userid": member.userid})


def user_batchdelete(call: Call) -> Answer:
    body = call.body()
    userids = str_list(body, "useridlist", 40031)
    if not 1 <= len(userids) <= MAX_BATCH_DELETE:
        raise WeComAnswer(40032, f"useridlist must hold 1 to {MAX_BATCH_DELETE} userids, got {len(userids)}")
    members = []
    for userid in dict.fromkeys(userids):
        member = call.world.live_member(userid)
        if member is None:
            raise WeComAnswer(40031, f"userid {userid} not found")
        if member.is_creator:
            raise WeComAnswer(301005, f"userid {userid} is the creator")
        members.append(member)
    for member in members:
        call.world.delete_member(member, call.now)
    return Answer(errmsg="deleted", write={"userids": [m.userid for m in members]})


def user_list_id(call: Call) -> Answer:
    body = call.body()
    limit = int_field(body, "limit", 10000, 1, 10000)
    after = parse_cursor(text_field(body, "cursor", required=False))
    world = call.world
    userids, next_seq = world.member_order.page(after, limit, lambda u: not world.members[u].deleted)
    dept_user = [
        {"userid": userid, "department": dept}
        for userid in userids
        for dept in world.members[userid].department
    ]
    return Answer({"next_cursor": make_cursor(next_seq), "dept_user": dept_user})


def department_list(call: Call) -> Answer:
    departments = call.world.departments
    wanted = call.query("id")
    if not wanted:
        return Answer({"department": [d.as_wecom() for d in departments.values()]})
    if not wanted.isdigit() or int(wanted) not in departments:
        raise WeComAnswer(60123, f"department {wanted} not found")
    root = int(wanted)
    found: list[int] = [root]
    for dept_id in found:  # breadth-first over the (small) department tree
        found.extend(d.id for d in departments.values() if d.parentid == dept_id and d.id not in found)
    return Answer({"department": [departments[d].as_wecom() for d in found]})


ROUTES = [
    WeComRoute("/cgi-bin/user/get", "GET", user_get),
    WeComRoute("/cgi-bin/user/update", "POST", user_update, CONTACT_WRITE),
    WeComRoute("/cgi-bin/user/delete", "GET", user_delete, CONTACT_WRITE),
    WeComRoute("/cgi-bin/user/batchdelete", "POST", user_batchdelete, CONTACT_WRITE),
    WeComRoute("/cgi-bin/user/list_id", "POST", user_list_id),
    WeComRoute("/cgi-bin/department/list", "GET", department_list),
]
