"""Back up one person before anything changes: their profile and memberships, customers and groups.

Only reads WeCom and overwrites its own files in the case's backup folder: safe to rerun. What WeCom
will not give (a deleted member's profile, a tag the app may not read, a group it refuses to describe)
is recorded as *not exported*, with WeCom's errcode, for the manifest. The WeDrive export and the
verification of the whole backup are :mod:`offboarding.operators.backup_wedrive` and
:mod:`offboarding.operators.backup_verify`; a company's members are backed up by :mod:`.member_backup`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from offboarding.backup.entries import FileEntry
from offboarding.backup.storage import BackupStore
from offboarding.steps.corp import WeComCorp, read_member
from offboarding.steps.jsonl import Tally, jsonl_chunks
from offboarding.steps.not_exported import not_exported
from offboarding.wecom.customer_contacts import NO_RELATIONSHIP_ERRCODE
from offboarding.wecom.errors import WeComConfigError, WeComDataError

MEMBER_PATH = "profile/member.json"
MEMBERSHIPS_PATH = "profile/memberships.json"
CUSTOMERS_PATH = "customers/customers.jsonl"
UNASSIGNED_PATH = "customers/unassigned_customers.jsonl"
GROUPS_PATH = "customers/groups.jsonl"


@dataclass
class ProfileSnapshot:
    """What the profile snapshot saved and found."""

    files: list[FileEntry]
    not_exported: list[dict[str, str]]
    departments: list[dict[str, Any]]
    tags: list[dict[str, Any]]
    app_chats: list[dict[str, Any]]
    member_exists: bool


def snapshot_profile(corp: WeComCorp, store: BackupStore, case_id: str, userid: str) -> ProfileSnapshot:
    """Save ``user/get`` of the member (``profile/member.json``, absent when already deleted) and their
    departments, the tags and app chats holding them (``profile/memberships.json``)."""
    skipped: list[dict[str, str]] = []
    member = read_member(corp, userid)
    departments = _departments(corp, member, skipped)
    tags = _tags(corp, userid, member, skipped)
    chats = _app_chats(corp, userid, skipped)
    files = []
    if member is None:
        skipped.insert(
            0,
            not_exported(
                f"profile of {userid} (user/get)",
                "the member no longer exists in WeCom (60111): deleted before the backup, so there is "
                "no profile left to read",
                "60111",
            ),
        )
    else:
        files.append(store.write_json(case_id, MEMBER_PATH, member, source="wecom:user/get"))
    memberships = {
        "userid": userid,
        "captured_at": datetime.now(UTC).isoformat(),
        "member_exists": member is not None,
        "departments": departments,
        "tags": tags,
        "app_chats": chats,
        "not_readable": skipped,
    }
    files.append(
        store.write_json(
            case_id,
            MEMBERSHIPS_PATH,
            memberships,
            source="wecom:department/list,tag/list,tag/get,appchat/get",
        )
    )
    return ProfileSnapshot(files, skipped, departments, tags, chats, member is not None)


def _departments(
    corp: WeComCorp, member: dict[str, Any] | None, skipped: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The member's departments with names, leader flag and whether it is the main one."""
    if member is None:
        return []
    ids = [int(d) for d in member.get("department") or []]
    leader = list(member.get("is_leader_in_dept") or [])
    names: dict[int, str] = {}
    try:
        names = {int(d["id"]): str(d.get("name", "")) for d in corp.contacts.list_departments()}
    except (WeComConfigError, WeComDataError) as err:
        skipped.append(
            not_exported("department names (department/list)", err.message, str(err.errcode or ""))
        )
    return [
        {
            "id": dept,
            "name": names.get(dept),
            "is_leader": bool(leader[n]) if n < len(leader) else False,
            "is_main": dept == member.get("main_department"),
        }
        for n, dept in enumerate(ids)
    ]


def _tags(
    corp: WeComCorp, userid: str, member: dict[str, Any] | None, skipped: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """Every tag holding the member, directly (``as_member``) or through one of their departments."""
    member_departments = {int(d) for d in (member or {}).get("department") or []}
    found = []
    for tag in corp.tags.list_tags():
        tagid, name = int(tag["tagid"]), str(tag.get("tagname", ""))
        try:
            detail = corp.tags.get_tag(tagid)
        except (WeComConfigError, WeComDataError) as err:
            skipped.append(
                not_exported(f"membership of tag {tagid} {name}", err.message, str(err.errcode or ""))
            )
            continue
        as_member = any(u.get("userid") == userid for u in detail.get("userlist") or [])
        via = sorted(member_departments & {int(p) for p in detail.get("partylist") or []})
        if as_member or via:
            found.append({"tagid": tagid, "tagname": name, "as_member": as_member, "via_departments": via})
    return found


def _app_chats(corp: WeComCorp, userid: str, skipped: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The app-created group chats (connection extra ``app_chat_ids``) the member is in."""
    found = []
    for chatid in corp.app_chat_ids:
        try:
            chat = corp.app_chats.get(chatid)
        except (WeComConfigError, WeComDataError) as err:
            skipped.append(
                not_exported(f"membership of app chat {chatid}", err.message, str(err.errcode or ""))
            )
            continue
        users = list(chat.get("userlist") or [])
        if userid in users:
            found.append(
                {
                    "chatid": chatid,
                    "name": chat.get("name"),
                    "owner": chat.get("owner"),
                    "is_owner": chat.get("owner") == userid,
                    "userlist": users,
                }
            )
    return found


@dataclass
class CustomersExport:
    """What the customers export saved: its two files, the counts, and what WeCom would not give."""

    files: list[FileEntry]
    member_exists: bool
    customers: int
    groups: int
    not_exported: list[dict[str, str]] = field(default_factory=list)


def export_customers_and_groups(
    corp: WeComCorp, store: BackupStore, case_id: str, userid: str
) -> CustomersExport:
    """Stream the member's customers with details (or, once deleted, their unassigned customers' ids) and
    the customer groups they own with members to JSON Lines; only the current page is in memory."""
    skipped: list[dict[str, str]] = []
    customers, groups = Tally(), Tally()
    exists = read_member(corp, userid) is not None
    if exists:
        customer_file = store.write_stream(
            case_id,
            CUSTOMERS_PATH,
            jsonl_chunks(_customers(corp, userid), customers),
            source="wecom:externalcontact/batch/get_by_user",
        )
    else:
        customer_file = store.write_stream(
            case_id,
            UNASSIGNED_PATH,
            jsonl_chunks(_unassigned(corp, userid), customers),
            source="wecom:externalcontact/get_unassigned_list",
        )
        skipped.append(
            not_exported(
                f"customer details of {userid}",
                "the member was deleted before the backup: WeCom only lists the ids of their "
                f"unassigned customers ({UNASSIGNED_PATH}), not the details",
                "get_unassigned_list",
            )
        )
    group_file = store.write_stream(
        case_id,
        GROUPS_PATH,
        jsonl_chunks(_groups(corp, userid, skipped), groups),
        source="wecom:externalcontact/groupchat/list,groupchat/get",
    )
    return CustomersExport([customer_file, group_file], exists, customers.records, groups.records, skipped)


def _customers(corp: WeComCorp, userid: str) -> Iterator[dict[str, Any]]:
    """Each customer with details; none when WeCom says there is no relationship at all (84061)."""
    try:
        yield from corp.customer_contacts.iter_customer_details(userid)
    except WeComDataError as err:
        if err.errcode != NO_RELATIONSHIP_ERRCODE:
            raise


def _unassigned(corp: WeComCorp, userid: str) -> Iterator[dict[str, Any]]:
    for entry in corp.customer_contacts.iter_unassigned():
        if entry.get("handover_userid") == userid:
            yield entry


def _groups(corp: WeComCorp, userid: str, skipped: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
    """Each customer group the member owns, with its details and members."""
    contacts = corp.customer_contacts
    for group in contacts.iter_group_chats(owner=userid):
        chat_id = str(group["chat_id"])
        try:
            detail = contacts.get_group_chat(chat_id)
        except WeComDataError as err:
            skipped.append(
                not_exported(f"customer group {chat_id} details", err.message, str(err.errcode or ""))
            )
            continue
        yield {**detail, "status": group.get("status")}
