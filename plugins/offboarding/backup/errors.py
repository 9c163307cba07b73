"""Errors raised by the backup store; messages name the case file but never a key or a secret."""

from __future__ import annotations


class BackupError(Exception):
    """Something about a backup file is wrong; the message says which file and what to do."""


class ChecksumMismatchError(BackupError):
    """The bytes received do not match the checksum the source announced (e.g. WeDrive's md5)."""


class DecryptionError(BackupError):
    """An encrypted backup file failed authentication: changed, truncated, reordered or the wrong key."""
