"""``Contacts`` (通讯录): read, disable, move and delete members; list member ids and departments.

Member writes need the contacts-sync (通讯录同步) secret (48002 otherwise). Deleting is idempotent:
a member that is already gone (60111) counts as done. The corp creator cannot be deleted (301005).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from offboarding.wecom.errcodes import CREATOR_ERRCODE, NO_SUCH_USER_ERRCODE
from offboarding.wecom.errors import WeComCreatorCannotBeDeleted, WeComDataError
from offboarding.wecom.paging import chunked, iter_cursor, require_id, unique_strings
from offboarding.wecom.results import BatchDeleteResult, ItemFailure

if TYPE_CHECKING:  # the transport imports requests: not needed to import a constant
    from offboarding.wecom.client import WeComClient

BATCH_DELETE_MAX = 200
LIST_ID_MAX = 10000
# A batch answer that means "some id in this chunk is not deletable": retry the chunk one by one.
BATCH_FALLBACK_ERRCODES = frozenset({40031, NO_SUCH_USER_ERRCODE, CREATOR_ERRCODE})

DeleteOutcome = Literal["deleted", "already_gone"]


def _strip(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("errcode", "errmsg")}


class Contacts:
    """Member and department calls of one client."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    def get_user(self, userid: str) -> dict[str, Any]:
        """The member record (``status``: 1 active, 2 disabled, 4 not activated, 5 left).

        WeCom: ``user/get``, https://developer.work.weixin.qq.com/document/path/90196
        """
        require_id(userid, "userid")
        return _strip(self.client.get("user/get", {"userid": userid}, item=userid))

    def update_user(self, userid: str, /, **fields: Any) -> None:
        """Change the given fields of a member (others stay as they are).

        WeCom: ``user/update``, https://developer.work.weixin.qq.com/document/path/90197
        """
        require_id(userid, "userid")
        if not fields:
            raise ValueError("update_user needs at least one field to change")
        if "userid" in fields:
            raise ValueError("userid cannot be changed by update_user")
        department = fields.get("department")
        if department is not None:
            if not isinstance(department, list) or not department:
                raise ValueError(f"department must be a non-empty list of department ids, got {department!r}")
            for name in ("order", "is_leader_in_dept"):
                if name in fields and len(fields[name]) != len(department):
                    raise ValueError(f"{name} must have as many entries as department ({len(department)})")
        self.client.post("user/update", {"userid": userid, **fields}, item=userid)

    def disable_user(self, userid: str) -> None:
        """Disable the member (reversible: they can no longer log in).

        WeCom: ``user/update``, https://developer.work.weixin.qq.com/document/path/90197
        """
        self.update_user(userid, enable=0)

    def delete_user(self, userid: str) -> DeleteOutcome:
        """Delete the member; ``already_gone`` if WeCom does not know them (60111).

        Raises :class:`WeComCreatorCannotBeDeleted` for the corp creator (301005).

        WeCom: ``user/delete``, https://developer.work.weixin.qq.com/document/path/90198
        """
        require_id(userid, "userid")
        try:
            self.client.get("user/delete", {"userid": userid}, item=userid)
        except WeComCreatorCannotBeDeleted:
            raise
        except WeComDataError as err:
            if err.errcode == NO_SUCH_USER_ERRCODE:
                return "already_gone"
            raise
        return "deleted"

    def batch_delete(self, userids: Iterable[str]) -> BatchDeleteResult:
        """Delete many members, ≤200 per call; a refused chunk is retried one by one so valid ids still go.

        WeCom:

        * ``user/batchdelete``: https://developer.work.weixin.qq.com/document/path/90199
        * ``user/delete``: https://developer.work.weixin.qq.com/document/path/90198
        """
        ids = unique_strings(userids, "userids")
        result = BatchDeleteResult()
        for chunk in chunked(ids, BATCH_DELETE_MAX):
            try:
                self.client.post("user/batchdelete", {"useridlist": chunk})
            except WeComDataError as err:
                if err.errcode not in BATCH_FALLBACK_ERRCODES:
                    raise
                self._delete_one_by_one(chunk, result)
            else:
                result.deleted.extend(chunk)
        return result

    def _delete_one_by_one(self, userids: list[str], result: BatchDeleteResult) -> None:
        for userid in userids:
            try:
                outcome = self.delete_user(userid)
            except WeComDataError as err:
                result.failed.append(ItemFailure(userid, err.errcode, err.message))
                continue
            (result.deleted if outcome == "deleted" else result.already_gone).append(userid)

    def iter_member_ids(self, page_size: int = LIST_ID_MAX) -> Iterator[str]:
        """Every member's userid once (``user/list_id`` cursor paging).

        WeCom: ``user/list_id``, https://developer.work.weixin.qq.com/document/path/96067
        """
        if not 1 <= page_size <= LIST_ID_MAX:
            raise ValueError(f"page_size must be between 1 and {LIST_ID_MAX}, got {page_size}")
        seen: set[str] = set()
        pages = iter_cursor(
            lambda cursor: self.client.post("user/list_id", {"cursor": cursor, "limit": page_size}),
            "dept_user",
            path="/cgi-bin/user/list_id",
        )
        for entry in pages:
            userid = entry.get("userid")
            if userid and userid not in seen:
                seen.add(userid)
                yield userid

    def list_departments(self, department_id: int | None = None) -> list[dict[str, Any]]:
        """All departments (or those under ``department_id``).

        WeCom: ``department/list``, https://developer.work.weixin.qq.com/document/path/90208
        """
        params = {"id": department_id} if department_id is not None else None
        return list(self.client.get("department/list", params).get("department") or [])
