"""Backups of a case: streamed storage (local or fsspec), encryption at rest, the manifest and its check.

No Airflow and no WeCom import here: Airflow operators feed this package with bytes and metadata.

* :mod:`.storage` — :class:`BackupStore`, ``<root>/<case_id>/<relpath>``;
* :mod:`.encryption` — AES-256-GCM streaming format, :func:`generate_key`, :func:`key_from_text`;
* :mod:`.manifest` — :class:`BackupManifest`, :func:`write_manifest`, :func:`load_manifest`;
* :mod:`.verification` — :func:`verify` and its :class:`VerificationReport`.
"""

from __future__ import annotations

from offboarding.lazy_exports import lazy_exports

# Names are loaded on first use: the DAG files read the deployment's storage roots (``.roots``) and
# some of the errors while they are parsed; storage, encryption and the manifest only when a task runs.
_EXPORTS = {
    "generate_key": "offboarding.backup.encryption",
    "key_from_text": "offboarding.backup.encryption",
    "FileEntry": "offboarding.backup.entries",
    "BackupError": "offboarding.backup.errors",
    "ChecksumMismatchError": "offboarding.backup.errors",
    "DecryptionError": "offboarding.backup.errors",
    "MANIFEST_PATH": "offboarding.backup.manifest",
    "BackupManifest": "offboarding.backup.manifest",
    "NotExported": "offboarding.backup.manifest",
    "load_manifest": "offboarding.backup.manifest",
    "write_manifest": "offboarding.backup.manifest",
    "BackupStore": "offboarding.backup.storage",
    "ItemCheck": "offboarding.backup.verification",
    "VerificationReport": "offboarding.backup.verification",
    "verify": "offboarding.backup.verification",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "MANIFEST_PATH",
    "BackupError",
    "BackupManifest",
    "BackupStore",
    "ChecksumMismatchError",
    "DecryptionError",
    "FileEntry",
    "ItemCheck",
    "NotExported",
    "VerificationReport",
    "generate_key",
    "key_from_text",
    "load_manifest",
    "verify",
    "write_manifest",
]
