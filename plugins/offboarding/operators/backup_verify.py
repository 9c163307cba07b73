"""``VerifyBackupManifestOperator``: the manifest of the three backup tasks, read back and checked.

The entry it writes, and how the deletion step trusts it: :mod:`offboarding.steps.verified_backup`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.backup_common import BACKUP_TASK_IDS
from offboarding.operators.base import Case, CaseOperator

if TYPE_CHECKING:
    from offboarding.backup.entries import FileEntry
    from offboarding.backup.manifest import BackupManifest
    from offboarding.backup.storage import BackupStore
    from offboarding.backup.verification import VerificationReport


class VerifyBackupManifestOperator(CaseOperator):
    """Build the manifest from the backup tasks' results, write it, read everything back and check it.

    Fails (no retry) listing what is missing or different. On success records ``backup.verified`` in the
    ledger (fields in :mod:`offboarding.operators.backup`) and returns ``{"verified": true, "summary",
    "manifest_sha256", "files", "bytes", "retention_until", "not_exported"}``.
    """

    def __init__(self, *, source_task_ids: Sequence[str] = BACKUP_TASK_IDS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_task_ids = tuple(source_task_ids)

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.backup.manifest import MANIFEST_PATH, BackupManifest, write_manifest
        from offboarding.operators.adapter import member_userid, record_evidence
        from offboarding.steps.not_exported import STANDING_NOT_EXPORTED
        from offboarding.steps.verified_backup import VERIFIED_ACTION, verified_result

        userid = member_userid(case)
        results = self._results(context)
        manifest = BackupManifest.start(
            case.case_id, userid, retention=_retention_days(), encrypted=case.store.encrypted
        )
        for task_id, result in results.items():
            _add_result(case.store, case.case_id, manifest, task_id, result)
        for item in STANDING_NOT_EXPORTED:
            manifest.record_not_exported(item.item, item.reason, item.reference)
        write_manifest(case.store, manifest)
        report = self._read_back(case, manifest)
        if not report.ok:
            self._fail(case, userid, report)
        result = verified_result(report, manifest)
        record_evidence(
            case,
            self.task_id,
            VERIFIED_ACTION,
            key=report.manifest_sha256,
            request={"manifest": MANIFEST_PATH, "sources": list(results)},
            result=result,
        )
        self.log.info("Backup of %s verified: %s", userid, result["summary"])
        return {"verified": True, **{k: result[k] for k in _XCOM_KEYS}}

    def _results(self, context: Context) -> dict[str, Mapping[str, Any]]:
        ti = context["ti"]
        results = {task_id: ti.xcom_pull(task_ids=task_id) for task_id in self.source_task_ids}
        missing = [task_id for task_id, result in results.items() if not isinstance(result, Mapping)]
        if missing:
            raise AirflowFailException(
                f"no backup result from {', '.join(missing)}: those tasks must succeed first; clear the "
                "backup group to run them again"
            )
        return results  # type: ignore[return-value]

    def _read_back(self, case: Case, written: BackupManifest) -> VerificationReport:
        """Read the manifest back from storage, check it is the one written, then check every file."""
        from offboarding.backup.manifest import MANIFEST_PATH, load_manifest
        from offboarding.backup.verification import verify

        on_disk = hashlib.sha256(case.store.read_bytes(case.case_id, MANIFEST_PATH)).hexdigest()
        loaded = load_manifest(case.store, case.case_id)
        if on_disk != written.sha256 or loaded.sha256 != written.sha256:
            raise AirflowFailException(
                f"the manifest read back from {case.store.case_location(case.case_id)}{MANIFEST_PATH} differs "
                "from the one just written: the storage does not keep what is written; check it, then clear "
                "this task"
            )
        try:
            return verify(case.store, loaded)
        except ValueError as err:  # encrypted files but no key: the backup key connection is gone
            raise AirflowFailException(str(err)) from None

    def _fail(self, case: Case, userid: str, report: VerificationReport) -> None:
        problems = [f"missing {item.path}" for item in report.missing] + [
            f"different {item.path} ({item.detail})" for item in report.mismatched
        ]
        record_failed_verification(case, self.task_id, report, problems)
        raise AirflowFailException(
            f"the backup of {userid} did not verify: {len(problems)} problem(s): {'; '.join(problems)}. "
            "Clear the backup group to back up again; deletion stays blocked until a backup verifies."
        )


def record_failed_verification(
    case: Case, task_id: str, report: VerificationReport, problems: list[str]
) -> None:
    """Ledger entry for a backup that did not verify (never ``backup.verified``)."""
    from offboarding.backup.manifest import MANIFEST_PATH
    from offboarding.operators.adapter import record_evidence
    from offboarding.steps.verified_backup import FAILED_ACTION, failed_verification_result

    record_evidence(
        case,
        task_id,
        FAILED_ACTION,
        key=report.manifest_sha256,
        request={"manifest": MANIFEST_PATH},
        result=failed_verification_result(report, problems),
    )


_XCOM_KEYS = ("summary", "manifest_sha256", "files", "bytes", "retention_until", "not_exported")


def _retention_days() -> int:
    """The backup retention from the duration policy (``backup.retention_days``)."""
    from offboarding.policy import PolicyError, get_policy

    try:
        return get_policy().backup.retention_days
    except PolicyError as err:
        raise AirflowFailException(str(err)) from None


def _add_result(
    store: BackupStore, case_id: str, manifest: BackupManifest, task_id: str, result: Mapping[str, Any]
) -> None:
    """Add one backup task's files, listed files and not-exported items to the manifest."""
    from offboarding.backup.entries import FileEntry
    from offboarding.backup.errors import BackupError
    from offboarding.backup.manifest import NotExported

    try:
        for n, data in enumerate(_list(result, "files", task_id)):
            manifest.add(FileEntry.from_dict(data, field=f"{task_id} files[{n}]"))
        for listing in _list(result, "file_lists", task_id, required=False):
            for entry in _listed_entries(store, case_id, listing, task_id):
                manifest.add(entry)
        for n, data in enumerate(_list(result, "not_exported", task_id)):
            item = NotExported.from_dict(data, field=f"{task_id} not_exported[{n}]")
            manifest.record_not_exported(item.item, item.reason, item.reference)
    except (ValueError, BackupError) as err:
        raise AirflowFailException(
            f"the result of {task_id} cannot be read: {err}; clear that task to produce it again"
        ) from None


def _list(result: Mapping[str, Any], key: str, task_id: str, *, required: bool = True) -> list[Any]:
    value = result.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list, got {type(value).__name__}")
    return value


def _listed_entries(store: BackupStore, case_id: str, listing: Any, task_id: str) -> Iterator[FileEntry]:
    """The entries of a file list (JSON Lines with an ``entry`` per line), after checking its sha256."""
    from offboarding.backup.entries import FileEntry

    if not isinstance(listing, Mapping):
        raise ValueError(f"file_lists holds {type(listing).__name__}, expected an object")
    path, expected = listing.get("path"), listing.get("sha256")
    if not isinstance(path, str) or not isinstance(expected, str):
        raise ValueError(f"file_lists entry {listing!r} needs a path and a sha256")
    if not store.exists(case_id, path):
        raise ValueError(f"its file list {path} is missing from the backup")
    digest = hashlib.sha256()
    entries = []
    for number, line in enumerate(_lines(store.read_stream(case_id, path), digest), start=1):
        record = json.loads(line)
        if not isinstance(record, Mapping):
            raise ValueError(f"{path} line {number} is not an object")
        entries.append(FileEntry.from_dict(record.get("entry"), field=f"{path} line {number} entry"))
    if digest.hexdigest() != expected:
        raise ValueError(f"its file list {path} changed since the task wrote it (sha256 differs)")
    count = listing.get("count")
    if count is not None and count != len(entries):
        raise ValueError(f"its file list {path} holds {len(entries)} entries, the task wrote {count}")
    yield from entries


def _lines(chunks: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        digest.update(chunk)
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line.strip())
    if pending.strip():
        yield pending
