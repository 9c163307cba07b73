"""The backup phase of a person's case: save everything reachable by API, then verify it.

Four tasks in the ``backup`` group of ``offboard_employee`` (task ids in brackets):

* :class:`SnapshotProfileOperator` (``snapshot_profile_and_memberships``) — ``profile/member.json``,
  ``profile/memberships.json`` (departments, tags, app-created group chats);
* :class:`ExportCustomersAndGroupsOperator` (``export_customers_and_groups``) —
  ``customers/customers.jsonl`` (or ``customers/unassigned_customers.jsonl`` once the member is deleted)
  and ``customers/groups.jsonl``;
* :class:`ExportWeDriveFilesOperator` (``export_wedrive_files``) — ``wedrive/<space>/<folders>/<name>``
  and the index ``wedrive/index.jsonl``;
* :class:`VerifyBackupManifestOperator` (``verify_backup_manifest``) — ``manifest.json`` from the three
  results, every file read back and compared (size, sha256), the verification recorded in the ledger.

The first three only read WeCom and overwrite their own files: rerunning any of them is harmless. Each
returns ``{"files": [FileEntry dicts], "not_exported": [NotExported dicts], ...counts}``; the WeDrive
task lists its files in ``wedrive/index.jsonl`` (named in ``"file_lists"``) to keep its XCom small.
Files go through the case's :class:`~offboarding.backup.BackupStore` (encrypted at rest when a backup key
is configured); the manifest and the ledger stay plaintext for auditors.

Ledger contract for the deletion step
-------------------------------------
A successful verification appends ONE entry to ``<case_id>/evidence/ledger.jsonl``:

* ``action``: ``"backup.verified"``
* ``key``: the sha256 (64 lowercase hex) of ``<case_id>/manifest.json`` exactly as stored (the manifest
  is plaintext, so this is ``hashlib.sha256(store.read_bytes(case_id, "manifest.json")).hexdigest()``)
* ``step``: the verifying task id; ``actor``: ``"airflow:<task id>"``
* ``request``: ``{"manifest": "manifest.json", "sources": [the three backup task ids]}``
* ``result``: ``{"manifest_path": "manifest.json", "manifest_sha256": <same as key>, "files": int,
  "bytes": int, "not_exported": int, "retention_until": "YYYY-MM-DD", "verified_at": ISO instant,
  "encrypted": bool, "summary": str}``

Trust a backup only if such an entry exists whose ``key`` and ``result["manifest_sha256"]`` both equal
the sha256 of the manifest on disk *now*: :func:`verified_backup_entry` does exactly that (and
``ledger.has_action("backup.verified", sha256)`` answers the same yes/no). A rerun of the backup writes a
new manifest (new ``created_at``, new sha256) and, once verified, a new entry; an edited or replaced
manifest matches no entry. A failed verification appends ``"backup.verification_failed"`` (same key,
``result`` with ``manifest_sha256``, ``problems`` and ``summary``) and never ``backup.verified``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from offboarding.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from offboarding.steps.not_exported import STANDING_NOT_EXPORTED
    from offboarding.steps.verified_backup import (
        FAILED_ACTION,
        VERIFIED_ACTION,
        manifest_sha256_on_disk,
        verified_backup_entry,
    )
from offboarding.operators.backup_common import (
    BACKUP_TASK_IDS,
    CUSTOMERS_TASK_ID,
    SNAPSHOT_TASK_ID,
    WEDRIVE_TASK_ID,
)
from offboarding.operators.backup_customers import ExportCustomersAndGroupsOperator
from offboarding.operators.backup_profile import SnapshotProfileOperator
from offboarding.operators.backup_verify import VerifyBackupManifestOperator
from offboarding.operators.backup_wedrive import ExportWeDriveFilesOperator

# What the deletion and approval steps check when they run: imported then, not when a DAG file is parsed.
_EXPORTS = {
    "STANDING_NOT_EXPORTED": "offboarding.steps.not_exported",
    "FAILED_ACTION": "offboarding.steps.verified_backup",
    "VERIFIED_ACTION": "offboarding.steps.verified_backup",
    "manifest_sha256_on_disk": "offboarding.steps.verified_backup",
    "verified_backup_entry": "offboarding.steps.verified_backup",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BACKUP_TASK_IDS",
    "CUSTOMERS_TASK_ID",
    "FAILED_ACTION",
    "SNAPSHOT_TASK_ID",
    "STANDING_NOT_EXPORTED",
    "VERIFIED_ACTION",
    "WEDRIVE_TASK_ID",
    "ExportCustomersAndGroupsOperator",
    "ExportWeDriveFilesOperator",
    "SnapshotProfileOperator",
    "VerifyBackupManifestOperator",
    "manifest_sha256_on_disk",
    "verified_backup_entry",
]
