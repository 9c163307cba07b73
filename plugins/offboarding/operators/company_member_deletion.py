"""Delete a batch's members with ``user/batchdelete`` (≤ 200 per call), never twice.

Before the call, the userids are saved in the batch's progress as ``pending_deletion``; after it,
each member's answer. A retry that finds ``pending_deletion`` (the worker died during the call, or
its answer was lost) reads those members from WeCom first: whoever is gone was deleted by that call,
whoever is still there is deleted now. Per member: already gone (40031/60111 in a batch, 60111 alone)
counts as done; the creator (301005) is kept — they go with the enterprise closure; anything else is a
failure kept with WeCom's answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from offboarding.operators.company_member_progress import BatchProgress
from offboarding.operators.handover import read_member
from offboarding.wecom.errcodes import CREATOR_ERRCODE

KEPT_CREATOR = "creator (301005): WeCom refuses to delete the creator; they go with the enterprise closure"


def settle_pending_deletion(hook: Any, progress: BatchProgress) -> list[str]:
    """Members an interrupted deletion call did delete (read back from WeCom); clears the pending list."""
    if not progress.pending_deletion:
        return []
    confirmed = []
    for userid in progress.pending_deletion:
        if read_member(hook, userid) is None:
            progress.record(userid)["deleted"] = "deleted"
            confirmed.append(userid)
    progress.pending_deletion = []
    progress.save()
    return confirmed


def delete_members(hook: Any, progress: BatchProgress, userids: Sequence[str]) -> dict[str, Any]:
    """Delete ``userids`` (those not deleted yet); returns what WeCom answered, per member."""
    confirmed = settle_pending_deletion(hook, progress)
    ready = [u for u in userids if not progress.record(u).get("deleted")]
    answer: dict[str, Any] = {
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
    result = hook.contacts.batch_delete(ready)
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
