"""Per-member progress of one batch: what was done to whom, saved after every step.

``members/<batch>/progress.json`` in the case's backup store holds one record per member of the batch.
It is written after each member's step (and before and after each deletion call), so a retry of the
batch — after a crash, a rate-limit block or a fix by the ops engineer — reads it first and redoes only
what is left. A member is deleted at most once: the userids of a deletion call are saved as
``pending_deletion`` before the call, and a retry that finds them reads WeCom (``user/get``) before
deleting anything again.

A member record (every key optional until its step ran)::

    {"backup": "verified" | "gone" | "failed", "backup_part": 1, "backup_error": {...},
     "kept": "successor: ...",
     "customers": {"sent": 3, "started": 3, "in_progress": 0, "failed": {"wm_x": {"errcode": 40128, ...}}},
     "groups": {"started": 1, "in_progress": 0, "failed": {...}, "deferred": [...]},
     "deleted": "deleted" | "already_gone", "delete_error": {...},
     "resigned": {"customers_started": 1, "groups_started": 0, "failed": {...}, "deferred": [...]}}
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from offboarding.backup.storage import BackupStore
from offboarding.steps.batches import batch_dir

PROGRESS_FORMAT = "offboarding-member-batch-progress/1"

#: Member outcomes, in the words of the per-member results file.
OFFBOARDED = "offboarded"  # backed up, handed over, deleted (item failures are listed separately)
KEPT = "kept"  # the successor, the admin who closes the enterprise, the creator (301005)
ALREADY_GONE = "already_gone"  # not in WeCom any more when the batch reached them
BACKUP_FAILED = "backup_failed"  # WeCom refused to read them: not deleted
DELETE_FAILED = "delete_failed"  # WeCom refused to delete them
PENDING = "pending"  # not finished yet (the batch stopped before)
MEMBER_FAILURES = frozenset({BACKUP_FAILED, DELETE_FAILED})

#: Test hook / observer: called after a step was saved, with (userid, step) — or (batch id,
#: "deletion_requested") once the userids of a deletion call are saved, just before the call.
StepObserver = Callable[[str, str], None]


def progress_path(batch_id: str) -> str:
    return f"{batch_dir(batch_id)}/progress.json"


class BatchProgress:
    """The saved progress of one batch; ``save()`` after every change that must survive a crash."""

    def __init__(
        self,
        store: BackupStore,
        case_id: str,
        batch_id: str,
        members: Sequence[str],
        data: dict[str, Any] | None = None,
        observer: StepObserver | None = None,
    ) -> None:
        self.store = store
        self.case_id = case_id
        self.batch_id = batch_id
        self.order = list(members)
        self.observer = observer
        data = data or {}
        saved = data.get("members") or {}
        self.members: dict[str, dict[str, Any]] = {m: dict(saved.get(m) or {}) for m in self.order}
        self.backup_parts: list[dict[str, Any]] = list(data.get("backup_parts") or [])
        self.pending_deletion: list[str] = list(data.get("pending_deletion") or [])

    @classmethod
    def load(
        cls,
        store: BackupStore,
        case_id: str,
        batch_id: str,
        members: Sequence[str],
        observer: StepObserver | None = None,
    ) -> BatchProgress:
        """The batch's saved progress (empty on its first try); refuses a file of another batch."""
        path = progress_path(batch_id)
        if not store.exists(case_id, path):
            return cls(store, case_id, batch_id, members, observer=observer)
        data = json.loads(store.read_bytes(case_id, path))
        if data.get("format") != PROGRESS_FORMAT or data.get("batch_id") != batch_id:
            raise ValueError(f"{path} is not the progress file of {batch_id}; move it away and retry")
        unknown = sorted(set(data.get("members") or {}) - set(members))
        if unknown:
            raise ValueError(
                f"{path} tracks members that are not in {batch_id} of the plan ({', '.join(unknown[:5])}); "
                "the plan changed after the batch started: restore members/plan.json"
            )
        return cls(store, case_id, batch_id, members, data, observer)

    def record(self, userid: str) -> dict[str, Any]:
        return self.members[userid]

    def save(self) -> None:
        data = {
            "format": PROGRESS_FORMAT,
            "batch_id": self.batch_id,
            "updated_at": datetime.now(UTC).isoformat(),
            "counts": self.counts(),
            "backup_parts": self.backup_parts,
            "pending_deletion": self.pending_deletion,
            "members": self.members,
        }
        self.store.write_bytes(
            self.case_id,
            progress_path(self.batch_id),
            json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(),
            source="offboard_member_batch",
        )

    def step_done(self, userid: str, step: str) -> None:
        """Save after one member's step, then tell the observer."""
        self.save()
        self.notify(userid, step)

    def notify(self, who: str, step: str) -> None:
        """Tell the observer (if any) that ``step`` was saved for ``who`` (a userid, or the batch id)."""
        if self.observer is not None:
            self.observer(who, step)

    # -- reading the state ----------------------------------------------------------------------------

    def outcome(self, userid: str) -> str:
        record = self.members[userid]
        if record.get("kept"):
            return KEPT
        if record.get("backup") == "gone":
            return ALREADY_GONE
        if record.get("backup") == "failed":
            return BACKUP_FAILED
        if record.get("delete_error"):
            return DELETE_FAILED
        if record.get("deleted") and record.get("resigned") is not None:
            return OFFBOARDED
        return PENDING

    def counts(self) -> dict[str, int]:
        counted = Counter(self.outcome(m) for m in self.order)
        return {
            name: counted.get(name, 0) for name in (OFFBOARDED, KEPT, ALREADY_GONE, *MEMBER_FAILURES, PENDING)
        }

    def item_failures(self) -> list[dict[str, Any]]:
        """Every customer or group that could not be handed over, with the member and WeCom's errcode."""
        failures = []
        for userid in self.order:
            record = self.members[userid]
            resigned = record.get("resigned") or {}
            for item, error in (resigned.get("failed") or {}).items():
                failures.append({"member": userid, "item": item, "step": "resigned_transfer", **error})
            for item in resigned.get("deferred") or []:
                failures.append(
                    {"member": userid, "item": item, "step": "resigned_transfer", "status": "deferred"}
                )
        return failures

    def member_failures(self) -> list[dict[str, Any]]:
        """Members that could not be backed up or deleted, with WeCom's answer."""
        failures = []
        for userid in self.order:
            outcome = self.outcome(userid)
            if outcome in MEMBER_FAILURES:
                record = self.members[userid]
                error = record.get("backup_error") or record.get("delete_error") or {}
                failures.append({"member": userid, "outcome": outcome, "status": "failed", **error})
        return failures

    def outcome_rows(self) -> list[dict[str, Any]]:
        """One row per member for the per-member results file."""
        rows = []
        for position, userid in enumerate(self.order, start=1):
            record = self.members[userid]
            customers = record.get("customers") or {}
            groups = record.get("groups") or {}
            resigned = record.get("resigned") or {}
            rows.append(
                {
                    "userid": userid,
                    "batch": self.batch_id,
                    "position_in_batch": position,
                    "outcome": self.outcome(userid),
                    "kept_reason": record.get("kept") or "",
                    "backup": record.get("backup") or "",
                    "customers_handed_over": int(customers.get("started", 0))
                    + int(customers.get("in_progress", 0)),
                    "groups_handed_over": int(groups.get("started", 0)) + int(groups.get("in_progress", 0)),
                    "deleted": record.get("deleted") or "",
                    "resigned_customers": int(resigned.get("customers_started", 0)),
                    "resigned_groups": int(resigned.get("groups_started", 0)),
                    "items_not_handed_over": len(resigned.get("failed") or {})
                    + len(resigned.get("deferred") or []),
                    "error": _error_text(record.get("backup_error") or record.get("delete_error")),
                }
            )
        return rows


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return ""
    return f"{error.get('errcode')}: {error.get('errmsg', '')}".strip()
