"""Delete members from WeCom: one member (:func:`delete_member`) or a batch, never twice.

Deleting is irreversible: the caller checks the deletion gates first (an intact ledger, the legal
deadline, a verified backup, the approval recorded by Airflow) — see ``DeleteMemberOperator`` and
``OffboardMemberBatchOperator`` — and calls these only once every gate passed.

One person: :func:`delete_member` reads the member first (already gone → nothing sent), sends
``user/delete`` and reads back. The creator (301005) raises ``WeComCreatorCannotBeDeleted``.

A batch: ``user/batchdelete`` (≤ 200 per call).

A single member (e.g. the leaders' batch, whose only member to delete is often the creator) goes to
``user/delete`` instead: one call either way, but its answer is that member's, where a refused
``user/batchdelete`` would be sent again member by member (WeCom names no creator before refusing).

Before the call, the userids are saved in the batch's progress as ``pending_deletion``; after it,
each member's answer. A retry that finds ``pending_deletion`` (the worker died during the call, or
its answer was lost) reads those members from WeCom first: whoever is gone was deleted by that call,
whoever is still there is deleted now. Per member: already gone (40031/60111 in a batch, 60111 alone)
counts as done; the creator (301005) is kept — they go with the enterprise closure; anything else is a
failure kept with WeCom's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from offboarding.steps.corp import WeComCorp, read_member
from offboarding.steps.progress import BatchProgress
from offboarding.wecom.errcodes import CREATOR_ERRCODE
from offboarding.wecom.errors import WeComDataError
from offboarding.wecom.results import BatchDeleteResult, ItemFailure

KEPT_CREATOR = "creator (301005): WeCom refuses to delete the creator; they go with the enterprise closure"
BATCH_DELETE_CALL = "user/batchdelete"
SINGLE_DELETE_CALL = "user/delete"


@dataclass(frozen=True)
class Deletion:
    """One member's deletion: WeCom's answer (``deleted``/``already_gone``) and whether the read-back
    (``user/get``) still finds them."""

    member: str
    answer: str
    still_there: bool

    @property
    def read_back(self) -> dict[str, Any]:
        return {
            "call": "user/get",
            "member_found": self.still_there,
            "errcode": None if self.still_there else 60111,
        }


def delete_member(corp: WeComCorp, userid: str) -> Deletion:
    """Read the member, delete them (``user/delete``) unless already gone, read back."""
    if read_member(corp, userid) is None:
        return Deletion(userid, "already_gone", still_there=False)  # that read was the read-back
    answer = corp.contacts.delete_user(userid)
    return Deletion(userid, answer, still_there=read_member(corp, userid) is not None)


def deletion_call(userids: Sequence[str]) -> str:
    """The call that deletes ``userids``: ``user/delete`` for one member, else ``user/batchdelete``."""
    return SINGLE_DELETE_CALL if len(userids) == 1 else BATCH_DELETE_CALL


def send_deletion(corp: WeComCorp, userids: Sequence[str]) -> BatchDeleteResult:
    """Delete ``userids`` in one call (see :func:`deletion_call`); WeCom's answer per member."""
    if deletion_call(userids) == BATCH_DELETE_CALL:
        return corp.contacts.batch_delete(userids)
    (userid,) = userids
    result = BatchDeleteResult()
    try:
        outcome = corp.contacts.delete_user(userid)
    except WeComDataError as err:
        result.failed.append(ItemFailure(userid, err.errcode, err.message))
        return result
    (result.deleted if outcome == "deleted" else result.already_gone).append(userid)
    return result


def settle_pending_deletion(corp: WeComCorp, progress: BatchProgress) -> list[str]:
    """Members an interrupted deletion call did delete (read back from WeCom); clears the pending list."""
    if not progress.pending_deletion:
        return []
    confirmed = []
    for userid in progress.pending_deletion:
        if read_member(corp, userid) is None:
            progress.record(userid)["deleted"] = "deleted"
            confirmed.append(userid)
    progress.pending_deletion = []
    progress.save()
    return confirmed


def delete_members(corp: WeComCorp, progress: BatchProgress, userids: Sequence[str]) -> dict[str, Any]:
    """Delete ``userids`` (those not deleted yet); returns what WeCom answered, per member."""
    confirmed = settle_pending_deletion(corp, progress)
    ready = [u for u in userids if not progress.record(u).get("deleted")]
    answer: dict[str, Any] = {
        "call": None,
        "confirmed_after_interruption": confirmed,
        "deleted": [],
        "already_gone": [],
        "failed": [],
    }
    if not ready:
        return answer
    for userid in ready:
        progress.record(userid).pop("delete_error", None)
    progress.pending_deletion = list(ready)
    progress.save()
    progress.notify(progress.batch_id, "deletion_requested")
    answer["call"] = deletion_call(ready)
    result = send_deletion(corp, ready)
    for userid in result.deleted:
        progress.record(userid)["deleted"] = "deleted"
    for userid in result.already_gone:
        progress.record(userid)["deleted"] = "already_gone"
    for failure in result.failed:
        record = progress.record(failure.item)
        if failure.errcode == CREATOR_ERRCODE:
            record["kept"] = KEPT_CREATOR
        else:
            record["delete_error"] = {"step": "delete", "errcode": failure.errcode, "errmsg": failure.errmsg}
    progress.pending_deletion = []
    progress.save()
    answer.update(result.to_dict())
    return answer
