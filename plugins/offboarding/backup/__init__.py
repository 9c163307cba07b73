"""Backups of a case: streamed storage (local or fsspec), encryption at rest, the manifest and its check.

No Airflow and no WeCom import here: Airflow operators feed this package with bytes and metadata.

* :mod:`.storage` — :class:`BackupStore`, ``<root>/<case_id>/<relpath>``;
* :mod:`.encryption` — AES-256-GCM streaming format, :func:`generate_key`, :func:`key_from_text`;
* :mod:`.manifest` — :class:`BackupManifest`, :func:`write_manifest`, :func:`load_manifest`;
* :mod:`.verification` — :func:`verify` and its :class:`VerificationReport`.
"""

from __future__ import annotations

from offboarding.backup.encryption import generate_key, key_from_text
from offboarding.backup.entries import FileEntry
from offboarding.backup.errors import BackupError, ChecksumMismatchError, DecryptionError
from offboarding.backup.manifest import (
    MANIFEST_PATH,
    BackupManifest,
    NotExported,
    load_manifest,
    write_manifest,
)
from offboarding.backup.storage import BackupStore
from offboarding.backup.verification import ItemCheck, VerificationReport, verify

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
