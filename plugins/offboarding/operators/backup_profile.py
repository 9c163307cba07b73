"""``SnapshotProfileOperator``: the member's profile and memberships, saved before anything changes."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Context

from offboarding.operators.base import Case, CaseOperator


class SnapshotProfileOperator(CaseOperator):
    """Save ``user/get`` of the member, their departments, the tags and app group chats holding them.

    Writes ``profile/member.json`` (WeCom's record; absent when the member was already deleted, which is
    recorded as not exported) and ``profile/memberships.json``. Tags and app chats the app may not read
    are listed there and as not exported, with WeCom's errcode. Only reads WeCom: safe to rerun
    (:func:`offboarding.steps.person_backup.snapshot_profile`).

    XCom: ``{"files": [FileEntry dicts], "not_exported": [...], "tags": [tag ids holding the member],
    "app_chats": [app chat ids holding the member], "member_exists": bool}``.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import member_userid, record_evidence
        from offboarding.steps.person_backup import snapshot_profile

        userid = member_userid(case)
        snapshot = snapshot_profile(self.hook, case.store, case.case_id, userid)
        if not snapshot.member_exists:
            self.log.info("%s is no longer in WeCom (60111): recording the profile as not exported", userid)
        result = {
            "files": [entry.to_dict() for entry in snapshot.files],
            "not_exported": snapshot.not_exported,
            "tags": [tag["tagid"] for tag in snapshot.tags if tag["as_member"]],
            "app_chats": [chat["chatid"] for chat in snapshot.app_chats],
            "member_exists": snapshot.member_exists,
        }
        record_evidence(
            case,
            self.task_id,
            "backup.profile_saved",
            key=userid,
            request={"userid": userid},
            result={
                "paths": [entry.path for entry in snapshot.files],
                "member_exists": snapshot.member_exists,
                "departments": [d["id"] for d in snapshot.departments],
                "tags": result["tags"],
                "app_chats": result["app_chats"],
                "not_exported": len(snapshot.not_exported),
            },
        )
        self.log.info(
            "Saved the profile of %s: %d tags, %d app chats, %d items not readable",
            userid,
            len(result["tags"]),
            len(snapshot.app_chats),
            len(snapshot.not_exported),
        )
        return result
