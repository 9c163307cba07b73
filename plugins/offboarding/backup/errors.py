"""Errors raised by the backup store; messages name the case file but never a key or a secret."""

from __future__ import annotations


class BackupError(Exception):
    """Something about a backup file is wrong; the message says which file and what to do."""


class ChecksumMismatchError(BackupError):
    """The bytes received do not match the checksum the source announced (e.g. WeDrive's md5)."""


class DecryptionError(BackupError):
    """An encrypted backup file failed authentication: changed, truncated, reordered or the wrong key."""


class BackupConfigError(BackupError):
    """The deployment's backup settings refuse this (storage roots, required encryption key).

    Retrying cannot help: the operator of the deployment must change a setting first, or the case must
    be triggered again with a location the deployment allows. Tasks fail without retries on it.
    """


class BackupLocationError(BackupConfigError, ValueError):
    """A backup location outside the deployment's storage roots: an unknown ``backup_target`` name, a
    file path that would leave its case folder or its root (``..``, absolute, a symlink out), another
    scheme or bucket than the root's own."""
