"""Purging expired backups (个人信息保护法: personal data is kept no longer than needed).

A case's backup is kept until its manifest's ``retention_until`` (the last China date the backup must be
kept: the duration policy's ``backup.retention_days`` after the backup, see
:class:`offboarding.backup.manifest.BackupManifest`). From the next day on, :func:`purge_expired_backups`
removes every file of the case except the evidence — ``evidence/`` (the ledger, the report) and
``case.json`` (which run owned the case) — including the manifest, which lists file names, and records
one ``backup.purged`` entry in the case's ledger with what was removed (counts, bytes, the manifest's
sha256, never a file name). That entry is authenticated with the deployment's evidence key like every
other ledger entry, so the purge needs the key (``key=``).

A case without a readable manifest (its backup never verified) is left alone and reported; so is a case
whose ledger already says ``backup.purged`` (nothing to do). ``dry_run`` lists what would be removed and
changes nothing, not even the ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from offboarding.backup.display import CHINA_TIME
from offboarding.backup.manifest import MANIFEST_PATH, BackupManifest
from offboarding.backup.roots import BackupRoot
from offboarding.backup.storage import BackupStore

if TYPE_CHECKING:
    from offboarding.evidence.keys import EvidenceKey

PURGED_ACTION = "backup.purged"
KEPT_FILES = ("case.json",)
KEPT_FOLDERS = ("evidence/",)

PURGED = "purged"
WOULD_PURGE = "would_purge"
NOT_DUE = "not_due"
NO_MANIFEST = "no_manifest"
ALREADY_PURGED = "already_purged"
FAILED = "failed"


@dataclass
class CasePurge:
    """What the purge did (or would do) to one case folder."""

    root: str
    case_id: str
    outcome: str
    retention_until: str | None = None
    files: int = 0
    bytes: int = 0
    detail: str = ""


@dataclass
class PurgeSummary:
    """One purge round over every root."""

    today: str
    dry_run: bool
    cases: list[CasePurge] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for case in self.cases if case.outcome == outcome)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the task's XCom): counts per outcome and the cases acted on or in trouble."""
        outcomes = (PURGED, WOULD_PURGE, NOT_DUE, NO_MANIFEST, ALREADY_PURGED, FAILED)
        return {
            "today": self.today,
            "dry_run": self.dry_run,
            "counts": {outcome: self.count(outcome) for outcome in outcomes},
            "cases": [
                asdict(c) for c in self.cases if c.outcome in (PURGED, WOULD_PURGE, NO_MANIFEST, FAILED)
            ],
        }


def china_today(now: datetime | None = None) -> date:
    """Today's date in Asia/Shanghai (retention dates are China dates)."""
    return (now or datetime.now(CHINA_TIME)).astimezone(CHINA_TIME).date()


def is_kept(relpath: str) -> bool:
    """True for the evidence a purge keeps: ``evidence/…`` and ``case.json``."""
    return relpath in KEPT_FILES or relpath.startswith(KEPT_FOLDERS)


def purge_expired_backups(
    roots: Iterable[BackupRoot],
    *,
    today: date,
    dry_run: bool,
    actor: str,
    key: EvidenceKey,
    step: str | None = None,
    open_store: Callable[[BackupRoot], BackupStore] | None = None,
) -> PurgeSummary:
    """Purge every case whose ``retention_until`` is before ``today`` in every root (see the module doc).

    ``key`` is the deployment's evidence key: the ``backup.purged`` entries are authenticated with it.
    ``open_store`` makes the store of a root (default: an unencrypted store; the purge reads only the
    plaintext manifest and ledger). One case failing is recorded and the others go on.
    """
    from offboarding.evidence.ledger import EvidenceLedger

    opener = open_store or (lambda root: BackupStore(root.url))
    summary = PurgeSummary(today=today.isoformat(), dry_run=dry_run)
    for root in roots:
        store = opener(root)
        for case_id in store.case_ids():
            record = CasePurge(root=root.label, case_id=case_id, outcome=FAILED)
            summary.cases.append(record)
            try:
                _purge_case(
                    store, EvidenceLedger(store, case_id, key=key), record, today, dry_run, actor, step
                )
            except Exception as err:  # one broken case must not stop the purge of the others
                record.outcome, record.detail = FAILED, f"{type(err).__name__}: {err}"
    return summary


def _purge_case(
    store: BackupStore,
    ledger: Any,
    record: CasePurge,
    today: date,
    dry_run: bool,
    actor: str,
    step: str | None,
) -> None:
    case_id = record.case_id
    if not store.exists(case_id, MANIFEST_PATH):
        if _was_purged(store, ledger, case_id):
            record.outcome = ALREADY_PURGED
        else:
            record.outcome = NO_MANIFEST
            record.detail = "no backup manifest (the backup never verified): left alone"
        return
    raw = store.read_bytes(case_id, MANIFEST_PATH)
    manifest = BackupManifest.from_json(raw)
    record.retention_until = manifest.retention_until.isoformat()
    if manifest.retention_until >= today:
        record.outcome = NOT_DUE
        return
    doomed = [path for path in store.files(case_id) if not is_kept(path)]
    sizes = {item.path: item.size for item in manifest.items}
    record.files = len(doomed)
    record.bytes = sum(sizes.get(path, 0) for path in doomed)
    if dry_run:
        record.outcome = WOULD_PURGE
        return
    manifest_sha256 = hashlib.sha256(raw).hexdigest()
    for path in doomed:
        if path != MANIFEST_PATH:
            store.delete(case_id, path)
    # The ledger entry before the manifest goes: a purge interrupted here still finds the manifest next
    # round, finishes, and does not record the same purge twice.
    if not ledger.has_action(PURGED_ACTION, manifest_sha256):
        ledger.append(
            PURGED_ACTION,
            actor=actor,
            step=step,
            key=manifest_sha256,
            request={"retention_until": record.retention_until, "today": today.isoformat()},
            result={
                "files_removed": record.files,
                "bytes_removed": record.bytes,
                "manifest_sha256": manifest_sha256,
                "kept": ["evidence/", *KEPT_FILES],
            },
        )
    store.delete(case_id, MANIFEST_PATH)
    record.outcome = PURGED


def _was_purged(store: BackupStore, ledger: Any, case_id: str) -> bool:
    from offboarding.evidence.ledger import LEDGER_PATH

    if not store.exists(case_id, LEDGER_PATH):
        return False
    return any(entry.action == PURGED_ACTION for entry in ledger.entries(skip_unreadable=True))


__all__ = [
    "ALREADY_PURGED",
    "FAILED",
    "KEPT_FILES",
    "KEPT_FOLDERS",
    "NOT_DUE",
    "NO_MANIFEST",
    "PURGED",
    "PURGED_ACTION",
    "WOULD_PURGE",
    "CasePurge",
    "PurgeSummary",
    "china_today",
    "is_kept",
    "purge_expired_backups",
]
