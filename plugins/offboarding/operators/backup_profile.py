"""``SnapshotProfileOperator``: the member's profile and memberships, saved before anything changes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Context

from offboarding.operators.backup_common import (
    is_member_gone,
    member_userid,
    not_exported,
    record_evidence,
)
from offboarding.operators.base import Case, CaseOperator
from offboarding.wecom.errors import WeComConfigError, WeComDataError

MEMBER_PATH = "profile/member.json"
MEMBERSHIPS_PATH = "profile/memberships.json"


class SnapshotProfileOperator(CaseOperator):
    """Save ``user/get`` of the member, their departments, the tags and app group chats holding them.

    Writes ``profile/member.json`` (WeCom's record; absent when the member was already deleted, which is
    recorded as not exported) and ``profile/memberships.json``. Tags and app chats the app may not read
    are listed there and as not exported, with WeCom's errcode. Only reads WeCom: safe to rerun.

    XCom: ``{"files": [FileEntry dicts], "not_exported": [...], "tags": [tag ids holding the member],
    "app_chats": [app chat ids holding the member], "member_exists": bool}``.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        userid = member_userid(case)
        skipped: list[dict[str, str]] = []
        member = self._read_member(userid)
        departments = self._departments(member, skipped)
        tags = self._tags(userid, member, skipped)
        chats = self._app_chats(userid, skipped)
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
            files.append(case.store.write_json(case.case_id, MEMBER_PATH, member, source="wecom:user/get"))
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
            case.store.write_json(
                case.case_id,
                MEMBERSHIPS_PATH,
                memberships,
                source="wecom:department/list,tag/list,tag/get,appchat/get",
            )
        )
        result = {
            "files": [entry.to_dict() for entry in files],
            "not_exported": skipped,
            "tags": [tag["tagid"] for tag in tags if tag["as_member"]],
            "app_chats": [chat["chatid"] for chat in chats],
            "member_exists": member is not None,
        }
        record_evidence(
            case,
            self.task_id,
            "backup.profile_saved",
            key=userid,
            request={"userid": userid},
            result={
                "paths": [entry.path for entry in files],
                "member_exists": member is not None,
                "departments": [d["id"] for d in departments],
                "tags": result["tags"],
                "app_chats": result["app_chats"],
                "not_exported": len(skipped),
            },
        )
        self.log.info(
            "Saved the profile of %s: %d tags, %d app chats, %d items not readable",
            userid,
            len(result["tags"]),
            len(chats),
            len(skipped),
        )
        return result

    # -- reading WeCom ------------------------------------------------------------------------------

    def _read_member(self, userid: str) -> dict[str, Any] | None:
        try:
            return self.hook.contacts.get_user(userid)
        except WeComDataError as err:
            if is_member_gone(err):
                self.log.info(
                    "%s is no longer in WeCom (%s): recording the profile as not exported",
                    userid,
                    err.errcode,
                )
                return None
            raise

    def _departments(
        self, member: dict[str, Any] | None, skipped: list[dict[str, str]]
    ) -> list[dict[str, Any]]:
        """The member's departments with names, leader flag and whether it is the main one."""
        if member is None:
            return []
        ids = [int(d) for d in member.get("department") or []]
        leader = list(member.get("is_leader_in_dept") or [])
        names: dict[int, str] = {}
        try:
            names = {int(d["id"]): str(d.get("name", "")) for d in self.hook.contacts.list_departments()}
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
        self, userid: str, member: dict[str, Any] | None, skipped: list[dict[str, str]]
    ) -> list[dict[str, Any]]:
        """Every tag holding the member, directly (``as_member``) or through one of their departments."""
        member_departments = {int(d) for d in (member or {}).get("department") or []}
        found = []
        for tag in self.hook.tags.list_tags():
            tagid, name = int(tag["tagid"]), str(tag.get("tagname", ""))
            try:
                detail = self.hook.tags.get_tag(tagid)
            except (WeComConfigError, WeComDataError) as err:
                skipped.append(
                    not_exported(f"membership of tag {tagid} {name}", err.message, str(err.errcode or ""))
                )
                continue
            as_member = any(u.get("userid") == userid for u in detail.get("userlist") or [])
            via = sorted(member_departments & {int(p) for p in detail.get("partylist") or []})
            if as_member or via:
                found.append(
                    {"tagid": tagid, "tagname": name, "as_member": as_member, "via_departments": via}
                )
        return found

    def _app_chats(self, userid: str, skipped: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The app-created group chats (connection extra ``app_chat_ids``) the member is in."""
        found = []
        for chatid in self.hook.app_chat_ids:
            try:
                chat = self.hook.app_chats.get(chatid)
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
