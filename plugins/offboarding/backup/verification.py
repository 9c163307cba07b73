"""Reading a case's backup back and checking every file against its manifest."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from offboarding.backup.display import format_local_time, format_size
from offboarding.backup.entries import FileEntry
from offboarding.backup.errors import BackupError

if TYPE_CHECKING:
    from offboarding.backup.manifest import BackupManifest, NotExported
    from offboarding.backup.storage import BackupStore

ItemStatus = Literal["ok", "missing", "mismatched"]
_PATHS_SHOWN = 5


@dataclass(frozen=True)
class ItemCheck:
    """The result of reading back one manifest item."""

    path: str
    status: ItemStatus
    expected_size: int
    expected_sha256: str
    actual_size: int | None = None
    actual_sha256: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "status": self.status,
            "expected_size": self.expected_size,
            "expected_sha256": self.expected_sha256,
            "actual_size": self.actual_size,
            "actual_sha256": self.actual_sha256,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class VerificationReport:
    """Every manifest item read back: ok, missing or mismatched, with totals and the time it took."""

    case_id: str
    manifest_sha256: str
    verified_at: datetime
    items: tuple[ItemCheck, ...]
    seconds: float
    not_exported: tuple[NotExported, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every item was read back with the recorded size and sha256."""
        return all(item.status == "ok" for item in self.items)

    @property
    def files(self) -> int:
        """How many files the manifest lists (and were checked)."""
        return len(self.items)

    @property
    def bytes(self) -> int:
        """Plaintext bytes the manifest lists."""
        return sum(item.expected_size for item in self.items)

    @property
    def bytes_read(self) -> int:
        """Plaintext bytes actually read back."""
        return sum(item.actual_size or 0 for item in self.items)

    @property
    def missing(self) -> tuple[ItemCheck, ...]:
        """Items whose file is gone."""
        return tuple(item for item in self.items if item.status == "missing")

    @property
    def mismatched(self) -> tuple[ItemCheck, ...]:
        """Items whose file differs from the manifest (size, sha256, or failed decryption)."""
        return tuple(item for item in self.items if item.status == "mismatched")

    def summary_text(self) -> str:
        """One line for an approval screen, e.g.

        ``12 files, 3.4 MB, all verified (sha256) at 2026-11-24 10:00 CST; 2 items not exportable: …``
        """
        noun = "file" if self.files == 1 else "files"
        head = f"{self.files} {noun}, {format_size(self.bytes)}"
        when = format_local_time(self.verified_at)
        if self.ok:
            text = f"{head}, all verified (sha256) at {when}"
        else:
            problems = [
                _listing(len(group), label, group)
                for label, group in (("missing", self.missing), ("mismatched", self.mismatched))
                if group
            ]
            text = f"{head}, verification FAILED (sha256) at {when}: {', '.join(problems)}"
        if self.not_exported:
            count = len(self.not_exported)
            listed = "; ".join(f"{item.item} ({item.reason})" for item in self.not_exported)
            text += f"; {count} {'item' if count == 1 else 'items'} not exportable: {listed}"
        else:
            text += "; no items marked not exportable"
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for XCom and the evidence ledger (no secrets in it)."""
        return {
            "case_id": self.case_id,
            "manifest_sha256": self.manifest_sha256,
            "verified_at": self.verified_at.isoformat(),
            "ok": self.ok,
            "files": self.files,
            "bytes": self.bytes,
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "missing": [item.path for item in self.missing],
            "mismatched": [item.to_dict() for item in self.mismatched],
            "not_exported": [item.to_dict() for item in self.not_exported],
            "summary": self.summary_text(),
        }


def _listing(count: int, label: str, group: tuple[ItemCheck, ...]) -> str:
    paths = ", ".join(item.path for item in group[:_PATHS_SHOWN])
    more = f" and {len(group) - _PATHS_SHOWN} more" if len(group) > _PATHS_SHOWN else ""
    return f"{count} {label} ({paths}{more})"


def verify(
    store: BackupStore, manifest: BackupManifest, *, clock: Callable[[], datetime] | None = None
) -> VerificationReport:
    """Read every manifest item back (streaming, decrypting as needed) and compare size and sha256.

    Raises ValueError before reading anything when the manifest lists encrypted files and the store has
    no key. A missing file is ``missing``; a different size or sha256, a changed stored file or a failed
    decryption is ``mismatched`` with the reason in ``detail``.
    """
    if any(item.encrypted for item in manifest.items) and not store.encrypted:
        raise ValueError(
            f"manifest of case {manifest.case_id} lists encrypted files but the BackupStore has no "
            "encryption key: open the store with the backup encryption key"
        )
    started = time.monotonic()
    checks = tuple(_check_item(store, manifest.case_id, item) for item in manifest.items)
    seconds = time.monotonic() - started
    now = (clock or _utc_now)()
    return VerificationReport(
        case_id=manifest.case_id,
        manifest_sha256=manifest.sha256,
        verified_at=now,
        items=checks,
        seconds=seconds,
        not_exported=tuple(manifest.not_exported),
    )


def _check_item(store: BackupStore, case_id: str, item: FileEntry) -> ItemCheck:
    base = {"path": item.path, "expected_size": item.size, "expected_sha256": item.sha256}
    if not store.exists(case_id, item.path):
        return ItemCheck(status="missing", detail="file not found", **base)
    try:
        digest = store.digest_file(case_id, item.path, encrypted=item.encrypted)
    except FileNotFoundError:
        return ItemCheck(status="missing", detail="file disappeared while being read", **base)
    except BackupError as exc:  # DecryptionError: tampered, truncated or reordered
        return ItemCheck(status="mismatched", detail=str(exc), **base)
    found = {"actual_size": digest.size, "actual_sha256": digest.sha256}
    problems = []
    if digest.size != item.size:
        problems.append(f"size {digest.size} bytes, manifest says {item.size}")
    if digest.sha256 != item.sha256:
        problems.append("sha256 differs from the manifest")
    if digest.stored_sha256 != item.stored_sha256:
        problems.append("stored bytes differ from the manifest's stored_sha256")
    if problems:
        return ItemCheck(status="mismatched", detail="; ".join(problems), **base, **found)
    return ItemCheck(status="ok", **base, **found)


def _utc_now() -> datetime:
    return datetime.now(UTC)
