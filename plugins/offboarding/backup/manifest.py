"""The backup manifest of a case: what was saved, with checksums, and what could not be exported.

The manifest is stored as ``<case_id>/manifest.json`` in PLAINTEXT even in an encrypted store: it
holds file names and checksums, not file contents, and an auditor must be able to read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from offboarding.backup.display import CHINA_TIME
from offboarding.backup.entries import FileEntry
from offboarding.backup.names import check_case_id
from offboarding.backup.storage import BackupStore
from offboarding.backup.verification import ItemCheck, VerificationReport, verify

MANIFEST_PATH = "manifest.json"
"""Where the manifest sits inside a case folder."""
MANIFEST_FORMAT = "offboarding-backup-manifest/1"
_RESERVED_PREFIXES = ("evidence/",)


@dataclass(frozen=True)
class NotExported:
    """Something the backup could not export, and why — recorded, never silently skipped.

    e.g. ``NotExported("chat history", "message archive (会话内容存档) not enabled: chats cannot be
    exported by API")`` or ``NotExported("personal WeDrive space", "not reachable by the app", "640008")``.
    """

    item: str
    reason: str
    reference: str = ""

    def __post_init__(self) -> None:
        for name in ("item", "reason"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"not_exported {name} must be a non-empty string, got {value!r}")
        if not isinstance(self.reference, str):
            raise ValueError(f"not_exported reference must be a string, got {self.reference!r}")

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"item": self.item, "reason": self.reason, "reference": self.reference}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, field: str = "not_exported") -> NotExported:
        """Read back, raising ValueError naming the field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{field} must be an object, got {type(data).__name__}")
        try:
            return cls(data.get("item"), data.get("reason"), data.get("reference", ""))  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"{field}: {exc}") from None


@dataclass
class BackupManifest:
    """What a case's backup holds: one :class:`FileEntry` per file (kept in path order), plus what
    could not be exported.

    ``subject`` is the WeCom userid (person case) or the company (company case). ``retention_until`` is
    the last day (China date) the backup must be kept.
    """

    case_id: str
    subject: str
    created_at: datetime
    retention_until: date
    encrypted: bool
    items: list[FileEntry] = field(default_factory=list)
    not_exported: list[NotExported] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_case_id(self.case_id)
        if not isinstance(self.subject, str) or not self.subject.strip():
            raise ValueError(f"subject must be the userid or the company, got {self.subject!r}")
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            raise ValueError(f"created_at must be a timezone-aware datetime, got {self.created_at!r}")
        if not isinstance(self.retention_until, date) or isinstance(self.retention_until, datetime):
            raise ValueError(f"retention_until must be a date, got {self.retention_until!r}")
        if not isinstance(self.encrypted, bool):
            raise ValueError(f"encrypted must be true or false, got {self.encrypted!r}")
        paths = [item.path for item in self.items]
        if len(set(paths)) != len(paths):
            duplicate = next(path for path in paths if paths.count(path) > 1)
            raise ValueError(f"items list {duplicate!r} more than once")
        self.items = sorted(self.items, key=lambda entry: entry.path)

    @classmethod
    def start(
        cls,
        case_id: str,
        subject: str,
        *,
        retention: timedelta | int,
        encrypted: bool,
        created_at: datetime | None = None,
    ) -> BackupManifest:
        """A new, empty manifest; ``retention`` (a timedelta or a number of days, from the duration
        policy) counts from ``created_at`` (default: now) in China time."""
        if isinstance(retention, bool) or not isinstance(retention, int | timedelta):
            raise ValueError(f"retention must be a number of days or a timedelta, got {retention!r}")
        period = timedelta(days=retention) if isinstance(retention, int) else retention
        if period <= timedelta(0):
            raise ValueError(f"retention must be positive, got {retention!r}")
        if created_at is None:
            created_at = datetime.now(UTC)
        if not isinstance(created_at, datetime) or created_at.utcoffset() is None:
            raise ValueError(f"created_at must be a timezone-aware datetime, got {created_at!r}")
        until = (created_at.astimezone(CHINA_TIME) + period).date()
        return cls(case_id, subject, created_at, until, encrypted)

    # -- filling in ------------------------------------------------------------------------------

    def add(self, entry: FileEntry) -> None:
        """Record a written file; a file written again (a retried task) replaces its old entry."""
        if not isinstance(entry, FileEntry):
            raise TypeError(f"entry must be a FileEntry, got {type(entry).__name__}")
        if entry.path == MANIFEST_PATH or entry.path.startswith(_RESERVED_PREFIXES):
            raise ValueError(f"entry.path {entry.path!r} is reserved for the manifest and the evidence")
        self.items = sorted(
            [*(item for item in self.items if item.path != entry.path), entry], key=lambda item: item.path
        )

    def record_not_exported(self, item: str, reason: str, reference: str = "") -> NotExported:
        """Record something that could not be exported (recorded again with the same item: replaced)."""
        record = NotExported(item, reason, reference)
        self.not_exported = [old for old in self.not_exported if old.item != item]
        self.not_exported.append(record)
        return record

    @property
    def total_bytes(self) -> int:
        """Plaintext bytes of every listed file."""
        return sum(item.size for item in self.items)

    # -- JSON ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (items in path order)."""
        return {
            "format": MANIFEST_FORMAT,
            "case_id": self.case_id,
            "subject": self.subject,
            "created_at": self.created_at.isoformat(),
            "retention_until": self.retention_until.isoformat(),
            "encrypted": self.encrypted,
            "items": [item.to_dict() for item in self.items],
            "not_exported": [item.to_dict() for item in self.not_exported],
        }

    def to_json(self) -> str:
        """The manifest file's text: UTF-8 JSON, keys sorted, Chinese kept readable."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, indent=2) + "\n"

    def to_json_bytes(self) -> bytes:
        """The manifest file's bytes."""
        return self.to_json().encode("utf-8")

    @property
    def sha256(self) -> str:
        """sha256 of the manifest JSON itself (what :func:`write_manifest` stores)."""
        return hashlib.sha256(self.to_json_bytes()).hexdigest()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackupManifest:
        """Read back, raising ValueError naming the bad field (``manifest items[2].sha256 …``)."""
        try:
            return cls._from_dict(data)
        except ValueError as exc:
            raise ValueError(f"manifest {exc}") from None

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> BackupManifest:
        if not isinstance(data, Mapping):
            raise ValueError(f"must be a JSON object, got {type(data).__name__}")
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"format must be {MANIFEST_FORMAT!r}, got {data.get('format')!r}")
        created_at = _parse(datetime.fromisoformat, data.get("created_at"), "created_at")
        retention_until = _parse(date.fromisoformat, data.get("retention_until"), "retention_until")
        items = data.get("items")
        if not isinstance(items, list):
            raise ValueError(f"items must be a list, got {type(items).__name__}")
        not_exported = data.get("not_exported")
        if not isinstance(not_exported, list):
            raise ValueError(f"not_exported must be a list, got {type(not_exported).__name__}")
        return cls(
            case_id=data.get("case_id"),  # type: ignore[arg-type]
            subject=data.get("subject"),  # type: ignore[arg-type]
            created_at=created_at,
            retention_until=retention_until,
            encrypted=data.get("encrypted"),  # type: ignore[arg-type]
            items=[FileEntry.from_dict(item, field=f"items[{n}]") for n, item in enumerate(items)],
            not_exported=[
                NotExported.from_dict(item, field=f"not_exported[{n}]") for n, item in enumerate(not_exported)
            ],
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> BackupManifest:
        """Parse a manifest file."""
        try:
            data = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"manifest is not valid JSON: {exc}") from None
        return cls.from_dict(data)


def _parse(parser: Any, value: Any, name: str) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO string, got {value!r}")
    try:
        return parser(value)
    except ValueError:
        raise ValueError(f"{name} is not a valid ISO value: {value!r}") from None


def write_manifest(store: BackupStore, manifest: BackupManifest) -> FileEntry:
    """Store the manifest as ``<case_id>/manifest.json`` (plaintext); its sha256 is ``manifest.sha256``."""
    return store.write_bytes(
        manifest.case_id, MANIFEST_PATH, manifest.to_json_bytes(), source="manifest", encrypt=False
    )


def load_manifest(store: BackupStore, case_id: str) -> BackupManifest:
    """Read a case's manifest back; FileNotFoundError when the backup step never wrote one."""
    check_case_id(case_id)
    if not store.exists(case_id, MANIFEST_PATH):
        raise FileNotFoundError(f"no backup manifest for case {case_id} at {store.case_location(case_id)}")
    manifest = BackupManifest.from_json(store.read_bytes(case_id, MANIFEST_PATH))
    if manifest.case_id != case_id:
        raise ValueError(f"manifest at {store.case_location(case_id)} belongs to case {manifest.case_id!r}")
    return manifest


__all__ = [
    "MANIFEST_PATH",
    "BackupManifest",
    "FileEntry",
    "ItemCheck",
    "NotExported",
    "VerificationReport",
    "load_manifest",
    "verify",
    "write_manifest",
]
