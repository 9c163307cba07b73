"""Per-item outcomes of bulk WeCom calls: which items went, which are still in progress, which failed.

Bulk endpoints answer errcode 0 overall and hide failures per item (``invalidlist``, ``customer[].errcode``,
``failed_chat_list``); these results surface them, so callers must look at ``.ok`` and ``.failed``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ItemFailure:
    """One item WeCom refused, with its errcode and message."""

    item: str
    errcode: int | None
    errmsg: str


@dataclass
class ItemResults:
    """Outcome of a bulk call per item. ``in_progress``: WeCom already works on it (not a failure)."""

    succeeded: list[str] = field(default_factory=list)
    in_progress: list[str] = field(default_factory=list)
    failed: list[ItemFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.failed

    def extend(self, other: ItemResults) -> None:
        """Add another chunk's results to these."""
        self.succeeded.extend(other.succeeded)
        self.in_progress.extend(other.in_progress)
        self.failed.extend(other.failed)

    def failed_items(self) -> list[str]:
        """The ids of the failed items."""
        return [f.item for f in self.failed]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (for XCom, ledgers and reports)."""
        return {
            "succeeded": list(self.succeeded),
            "in_progress": list(self.in_progress),
            "failed": [asdict(f) for f in self.failed],
            "ok": self.ok,
        }


@dataclass
class BatchDeleteResult:
    """Outcome of deleting members: deleted now, already gone before, or refused (e.g. the creator)."""

    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    failed: list[ItemFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every member is gone (deleted now or before)."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (for XCom, ledgers and reports)."""
        return {
            "deleted": list(self.deleted),
            "already_gone": list(self.already_gone),
            "failed": [asdict(f) for f in self.failed],
            "ok": self.ok,
        }
