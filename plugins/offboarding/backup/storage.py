"""Where a case's backup lives: a local folder or any fsspec URL, written as streams.

A case lives under ``<root>/<case_id>/``. Files are streamed in (never held whole in memory), their
size and sha256 computed on the way, optionally encrypted at rest (see
:mod:`offboarding.backup.encryption`).

Local roots (a plain path or ``file://``) get the full guarantees: a file is written under a temporary
name, flushed to disk and renamed, so a crash never leaves a half file under its final name; files are
created ``0600`` and folders ``0700`` because backups hold personal information (个人信息保护法).
Other fsspec roots (``memory://``, ``s3://`` when s3fs is installed) are written straight to the final
name (object stores publish an object only when the upload completes) and removed again on failure;
permissions there are the bucket's business.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import fsspec
from fsspec.implementations.local import LocalFileSystem

from offboarding.backup.encryption import StreamDecryptor, StreamEncryptor, check_key, is_encrypted_header
from offboarding.backup.entries import FileEntry
from offboarding.backup.errors import BackupError, BackupLocationError, ChecksumMismatchError
from offboarding.backup.hashing import StreamHashes
from offboarding.backup.names import check_case_id, check_relpath
from offboarding.backup.redaction import redact_url

CHUNK_SIZE = 1024 * 1024
"""Bytes read or written at a time."""
WRITEBACK_EVERY = 32 * 1024 * 1024
"""Bytes of a local file written between two starts of its writeback to disk."""
FILE_MODE = 0o600
DIR_MODE = 0o700
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")

Chunk = bytes | bytearray | memoryview


@dataclass(frozen=True)
class FileDigest:
    """What reading a stored file back found: plaintext size and sha256, stored size and sha256."""

    size: int
    sha256: str
    stored_size: int
    stored_sha256: str


class BackupStore:
    """The backup storage of every case: ``<root>/<case_id>/<relpath>``.

    ``root`` is a local path or an fsspec URL; ``encryption_key`` (32 bytes, see
    :func:`offboarding.backup.encryption.key_from_text`) turns on encryption at rest for file bodies;
    ``storage_options`` go to fsspec (e.g. credentials for s3).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        encryption_key: bytes | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        root_text = os.fspath(root) if isinstance(root, os.PathLike) else root
        if not isinstance(root_text, str) or not root_text.strip():
            raise ValueError(f"root must be a local path or a storage URL, got {root!r}")
        self._key = check_key(encryption_key) if encryption_key is not None else None
        self._display_root = redact_url(root_text)
        self._fs, root_path = fsspec.core.url_to_fs(root_text, **dict(storage_options or {}))
        self._local = isinstance(self._fs, LocalFileSystem)
        self._root_path = os.path.abspath(root_path) if self._local else root_path.rstrip("/")

    def __repr__(self) -> str:
        return f"BackupStore(root={self._display_root!r}, encrypted={self.encrypted})"

    @property
    def root(self) -> str:
        """The root as given, with any secret in the URL hidden."""
        return self._display_root

    @property
    def encrypted(self) -> bool:
        """True when file bodies are encrypted at rest."""
        return self._key is not None

    @property
    def is_local(self) -> bool:
        """True when the root is on the local file system (atomic renames, 0600/0700, file locks)."""
        return self._local

    def case_location(self, case_id: str) -> str:
        """Where a case's backup is, for people to read (secrets in the root URL hidden)."""
        return f"{self._display_root.rstrip('/')}/{check_case_id(case_id)}/"

    def local_path(self, case_id: str, relpath: str) -> Path | None:
        """The local file path of a case file, or None when the root is not local."""
        full = self._full_path(case_id, relpath)
        return Path(full) if self._local else None

    def ensure_dir(self, case_id: str, reldir: str) -> None:
        """Create a folder inside a case (and the case folder), ``0700`` on local roots."""
        full = self._full_path(case_id, reldir)
        if self._local:
            _make_private_dirs(full)
        else:
            self._fs.makedirs(full, exist_ok=True)

    # -- writing ---------------------------------------------------------------------------------

    def write_stream(
        self,
        case_id: str,
        relpath: str,
        chunks: Iterable[Chunk],
        *,
        expected_md5: str | None = None,
        source: str = "",
        encrypt: bool | None = None,
    ) -> FileEntry:
        """Stream ``chunks`` into ``<case_id>/<relpath>`` and return its manifest entry.

        ``expected_md5`` (hex) is checked against the received plaintext; on a mismatch the partial file
        is removed and ChecksumMismatchError raised. ``encrypt`` defaults to the store's setting;
        ``encrypt=False`` stores plaintext even in an encrypted store (used for the manifest and the
        evidence, which an auditor must read without the key). An existing file is replaced.
        """
        where = self._where(case_id, relpath)
        full = self._full_path(case_id, relpath)
        md5_wanted = _check_md5(expected_md5)
        if not isinstance(source, str):
            raise ValueError(f"source must be a string like 'wedrive:FILEID', got {source!r}")
        do_encrypt = self._resolve_encrypt(encrypt)
        if isinstance(chunks, bytes | bytearray | memoryview):
            chunks = [chunks]
        elif isinstance(chunks, str) or not isinstance(chunks, Iterable):
            raise TypeError(f"chunks must be an iterable of bytes, got {type(chunks).__name__}")

        plain_sha = hashlib.sha256()
        md5 = hashlib.md5(usedforsecurity=False) if md5_wanted else None
        # Unencrypted, the stored bytes are the plaintext: one sha256 serves both.
        stored_sha = hashlib.sha256() if do_encrypt else None
        plain_hashes = StreamHashes(plain_sha, *([md5] if md5 is not None else []))
        stored_hashes = StreamHashes(*([stored_sha] if stored_sha is not None else []))
        size = 0

        def stored_pieces() -> Iterator[Chunk]:
            nonlocal size
            encryptor = StreamEncryptor(self._key) if do_encrypt and self._key is not None else None
            if encryptor is not None:
                yield encryptor.header
            for chunk in chunks:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise TypeError(f"chunks for {where} must be bytes, got {type(chunk).__name__}")
                if not chunk:
                    continue
                size += len(chunk)
                plain_hashes.update(chunk)
                if encryptor is not None:
                    yield from encryptor.feed(chunk)
                else:
                    yield chunk
            if encryptor is not None:
                yield encryptor.finish()

        def check_md5() -> None:
            plain_hashes.close()
            if md5 is not None and md5.hexdigest() != md5_wanted:
                raise ChecksumMismatchError(
                    f"md5 mismatch for {where}: the source announced {md5_wanted}, received bytes have "
                    f"{md5.hexdigest()} ({size} bytes); the partial file was removed, download it again"
                )

        with plain_hashes, stored_hashes:
            self._write(full, stored_pieces(), stored_hashes.update, check_md5)
        return FileEntry(
            path=relpath,
            size=size,
            sha256=plain_sha.hexdigest(),
            stored_sha256=(stored_sha or plain_sha).hexdigest(),
            source=source,
            md5=md5_wanted,
            encrypted=do_encrypt,
        )

    def write_bytes(
        self, case_id: str, relpath: str, data: bytes, *, source: str = "", encrypt: bool | None = None
    ) -> FileEntry:
        """Write a small file held in memory (see :meth:`write_stream`)."""
        return self.write_stream(case_id, relpath, [data], source=source, encrypt=encrypt)

    def write_json(
        self, case_id: str, relpath: str, obj: Any, *, source: str = "", encrypt: bool | None = None
    ) -> FileEntry:
        """Write ``obj`` as UTF-8 JSON (Chinese kept readable, keys sorted, indented)."""
        try:
            text = json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"obj for {self._where(case_id, relpath)} cannot be written as JSON: {exc}"
            ) from None
        return self.write_bytes(
            case_id, relpath, (text + "\n").encode("utf-8"), source=source, encrypt=encrypt
        )

    def create_new(self, case_id: str, relpath: str, data: bytes) -> None:
        """Create a small file only if none exists under that name: FileExistsError otherwise.

        Used where several hosts may race for one name (the evidence ledger's entries on object
        storage): exactly one creator wins. Local roots write a hidden temporary file and hard-link it
        to the name (atomic and exclusive, also on NFS); object stores use fsspec's conditional create
        (``pipe_file(mode="create")``, on S3 a ``PutObject`` with ``If-None-Match: *``). Plaintext only.
        """
        full = self._full_path(case_id, relpath)
        if not isinstance(data, bytes):
            raise TypeError(
                f"data for {self._where(case_id, relpath)} must be bytes, got {type(data).__name__}"
            )
        if self._local:
            _create_local_exclusively(full, data)
            return
        self._fs.makedirs(full.rsplit("/", 1)[0], exist_ok=True)
        self._fs.pipe_file(full, data, mode="create")

    def list_files(self, case_id: str, reldir: str) -> list[str]:
        """Names of the files directly in a case folder, sorted; empty when the folder does not exist."""
        full = self._full_path(case_id, reldir)
        if self._local:
            try:
                return sorted(e.name for e in os.scandir(full) if e.is_file() and not e.name.startswith("."))
            except (FileNotFoundError, NotADirectoryError):
                return []
        try:
            listed = self._fs.ls(full, detail=True)
        except FileNotFoundError:
            return []
        names = (
            str(item["name"]).rstrip("/").rsplit("/", 1)[-1] for item in listed if item.get("type") == "file"
        )
        return sorted(name for name in names if not name.startswith("."))

    @property
    def protocol(self) -> str:
        """The fsspec protocol of the root (``file`` for local roots, ``s3``, ``memory`` ...)."""
        protocol = self._fs.protocol
        return str(protocol if isinstance(protocol, str) else protocol[0])

    # -- reading ---------------------------------------------------------------------------------

    def exists(self, case_id: str, relpath: str) -> bool:
        """True when ``<case_id>/<relpath>`` is a stored file."""
        full = self._full_path(case_id, relpath)
        return os.path.isfile(full) if self._local else self._fs.isfile(full)

    def read_stream(self, case_id: str, relpath: str, *, encrypted: bool | None = None) -> Iterator[bytes]:
        """Yield the plaintext of a stored file in chunks of at most 1 MiB, decrypting as needed.

        ``encrypted=None`` recognises encrypted files by their header; pass the manifest entry's flag to
        insist. Raises FileNotFoundError now if the file is missing; DecryptionError while iterating if
        an encrypted file was tampered with (plaintext before the bad segment has then been yielded).
        """
        where = self._where(case_id, relpath)
        full = self._require_file(case_id, relpath)
        if encrypted and self._key is None:
            raise BackupError(f"{where} is encrypted at rest but this BackupStore has no encryption key")
        return self._plaintext_chunks(full, where, encrypted)

    def read_stored_stream(self, case_id: str, relpath: str) -> Iterator[bytes]:
        """Yield the stored bytes of a file as they are (encrypted or not), 1 MiB at a time."""
        full = self._require_file(case_id, relpath)
        return self._stored_chunks(full)

    def read_bytes(self, case_id: str, relpath: str) -> bytes:
        """Return the plaintext of a small stored file."""
        return b"".join(self.read_stream(case_id, relpath))

    def digest_file(self, case_id: str, relpath: str, *, encrypted: bool) -> FileDigest:
        """Read a file back and measure it: plaintext size/sha256 (decrypting) and stored size/sha256.

        Raises FileNotFoundError if missing, DecryptionError if an encrypted file fails authentication.
        """
        where = self._where(case_id, relpath)
        full = self._require_file(case_id, relpath)
        if encrypted and self._key is None:
            raise BackupError(f"{where} is encrypted at rest but this BackupStore has no encryption key")
        decryptor = StreamDecryptor(self._key, where) if encrypted and self._key is not None else None
        plain_sha, stored_sha = hashlib.sha256(), hashlib.sha256()
        size = stored_size = 0
        for piece in self._stored_chunks(full):
            stored_sha.update(piece)
            stored_size += len(piece)
            plains = decryptor.feed(piece) if decryptor is not None else (piece,)
            for plain in plains:
                plain_sha.update(plain)
                size += len(plain)
        if decryptor is not None:
            plain = decryptor.finish()
            plain_sha.update(plain)
            size += len(plain)
        return FileDigest(size, plain_sha.hexdigest(), stored_size, stored_sha.hexdigest())

    # -- listing and removing (the retention purge) ----------------------------------------------

    def case_ids(self) -> list[str]:
        """The case folders under the root (sorted; entries that are not case folders are left out)."""
        if self._local:
            if not os.path.isdir(self._root_path):
                return []
            names = [
                name
                for name in os.listdir(self._root_path)
                if os.path.isdir(os.path.join(self._root_path, name))
                and not os.path.islink(os.path.join(self._root_path, name))
            ]
        else:
            if not self._fs.exists(self._root_path):
                return []
            names = [
                str(item["name"]).rstrip("/").rsplit("/", 1)[-1]
                for item in self._fs.ls(self._root_path, detail=True)
                if item.get("type") == "directory"
            ]
        return sorted(name for name in names if _is_case_id(name))

    def files(self, case_id: str) -> list[str]:
        """Every stored file of a case as a relative path (sorted; a symlink is listed, never followed)."""
        check_case_id(case_id)
        found: list[str] = []
        if self._local:
            folder = os.path.join(self._root_path, case_id)
            if os.path.islink(folder) or not os.path.isdir(folder):
                return []
            for directory, dirs, names in os.walk(folder, followlinks=False):
                found.extend(os.path.relpath(os.path.join(directory, n), folder) for n in names)
                found.extend(
                    os.path.relpath(os.path.join(directory, d), folder)
                    for d in dirs
                    if os.path.islink(os.path.join(directory, d))
                )
            return sorted(path.replace(os.sep, "/") for path in found)
        prefix = f"{self._root_path}/{case_id}/"
        if not self._fs.exists(prefix.rstrip("/")):
            return []
        return sorted(
            str(name)[len(prefix) :] for name in self._fs.find(prefix) if str(name).startswith(prefix)
        )

    def delete(self, case_id: str, relpath: str) -> None:
        """Remove one stored file of a case (a symlink is removed itself, its target left alone); emptied
        folders of a local case are removed too. A missing file is not an error."""
        check_case_id(case_id)
        check_relpath(relpath)
        if not self._local:
            full = f"{self._root_path}/{case_id}/{relpath}"
            if self._fs.exists(full):
                self._fs.rm(full)
            return
        parts = relpath.split("/")
        parent = os.path.join(self._root_path, case_id, *parts[:-1])
        if parts[:-1]:
            self._check_contained(parent, case_id, "/".join(parts[:-1]))
        else:
            self._check_contained(os.path.join(parent, ".case"), case_id, relpath)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(parent, parts[-1]))
        case_folder = os.path.join(self._root_path, case_id)
        while parent != case_folder:
            try:
                os.rmdir(parent)
            except OSError:
                break
            parent = os.path.dirname(parent)

    # -- internals -------------------------------------------------------------------------------

    def _full_path(self, case_id: str, relpath: str) -> str:
        check_case_id(case_id)
        check_relpath(relpath)
        if self._local:
            full = os.path.join(self._root_path, case_id, *relpath.split("/"))
            self._check_contained(full, case_id, relpath)
            return full
        full = f"{self._root_path}/{case_id}/{relpath}"
        if not full.startswith(f"{self._root_path}/{case_id}/"):  # pragma: no cover - names are checked
            raise BackupLocationError(f"{case_id}/{relpath} would leave its case folder")
        return full

    def _check_contained(self, full: str, case_id: str, relpath: str) -> None:
        """Refuse a local path whose real location is not inside its case folder under the real root.

        The root itself may be a symlink (the operator chose it); inside it, the case folder must be a real
        folder of the root, and no folder or file of the case may be a symlink leading out of the case.
        """
        root = os.path.realpath(self._root_path)
        case_folder = os.path.join(root, case_id)
        real = os.path.realpath(full)
        if os.path.realpath(case_folder) != case_folder or not real.startswith(case_folder + os.sep):
            raise BackupLocationError(
                f"{case_id}/{relpath} leads outside its case folder under {self._display_root} (a symlink "
                f"points to {real!r}); nothing was read or written. Remove the symlink from the backup root"
            )

    def _where(self, case_id: str, relpath: str) -> str:
        return f"{check_case_id(case_id)}/{check_relpath(relpath)}"

    def _require_file(self, case_id: str, relpath: str) -> str:
        full = self._full_path(case_id, relpath)
        if not self.exists(case_id, relpath):
            raise FileNotFoundError(
                f"backup file {case_id}/{relpath} does not exist under {self._display_root}"
            )
        return full

    def _resolve_encrypt(self, encrypt: bool | None) -> bool:
        if encrypt is None:
            return self._key is not None
        if not isinstance(encrypt, bool):
            raise TypeError(f"encrypt must be True, False or None, got {encrypt!r}")
        if encrypt and self._key is None:
            raise ValueError("encrypt=True but this BackupStore has no encryption_key")
        return encrypt

    def _open_read(self, full: str) -> BinaryIO:
        if self._local:
            return open(full, "rb")
        return self._fs.open(full, "rb")

    def _stored_chunks(self, full: str) -> Iterator[bytes]:
        with self._open_read(full) as handle:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk

    def _plaintext_chunks(self, full: str, where: str, encrypted: bool | None) -> Iterator[bytes]:
        with self._open_read(full) as handle:
            first = handle.read(CHUNK_SIZE)
            if encrypted is None:
                encrypted = is_encrypted_header(first)
                if encrypted and self._key is None:
                    raise BackupError(
                        f"{where} is encrypted at rest but this BackupStore has no encryption key"
                    )
            if not encrypted or self._key is None:
                chunk = first
                while chunk:
                    yield chunk
                    chunk = handle.read(CHUNK_SIZE)
                return
            decryptor = StreamDecryptor(self._key, where)
            chunk = first
            while chunk:
                yield from decryptor.feed(chunk)
                chunk = handle.read(CHUNK_SIZE)
            last = decryptor.finish()
            if last:
                yield last

    def _write(
        self,
        full: str,
        pieces: Iterator[Chunk],
        on_stored: Callable[[Chunk], object],
        before_commit: Callable[[], None],
    ) -> None:
        if self._local:
            _write_local_atomically(full, pieces, on_stored, before_commit)
            return
        parent = full.rsplit("/", 1)[0]
        self._fs.makedirs(parent, exist_ok=True)
        try:
            with self._fs.open(full, "wb") as handle:
                for piece in pieces:
                    on_stored(piece)
                    handle.write(piece)
            before_commit()
        except BaseException:
            with contextlib.suppress(Exception):
                if self._fs.exists(full):
                    self._fs.rm(full)
            raise


def _is_case_id(name: str) -> bool:
    try:
        check_case_id(name)
    except ValueError:
        return False
    return True


def _check_md5(expected_md5: str | None) -> str | None:
    if expected_md5 is None:
        return None
    if not isinstance(expected_md5, str) or not _MD5.fullmatch(expected_md5):
        raise ValueError(f"expected_md5 must be 32 hex characters, got {expected_md5!r}")
    return expected_md5.lower()


def _make_private_dirs(path: str) -> None:
    """Create ``path`` and any missing parents as ``0700`` (existing folders are left as they are)."""
    missing: list[str] = []
    current = path
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise NotADirectoryError(f"{directory} exists and is not a folder") from None
            continue  # another process made it first
        os.chmod(directory, DIR_MODE)  # the umask may have removed bits; we want exactly 0700


def _write_local_atomically(
    full: str,
    pieces: Iterator[Chunk],
    on_stored: Callable[[Chunk], object],
    before_commit: Callable[[], None],
) -> None:
    """Write to a hidden temporary file beside ``full``, fsync, then rename over ``full``."""
    directory, name = os.path.split(full)
    _make_private_dirs(directory)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            fd = -1  # now owned by the file object
            writeback = _EarlyWriteback(handle)
            for piece in pieces:
                on_stored(piece)
                handle.write(piece)
                writeback.wrote(len(piece))
            handle.flush()
            os.fsync(handle.fileno())
        before_commit()
        os.replace(temporary, full)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _create_local_exclusively(full: str, data: bytes) -> None:
    """Write ``data`` to a temporary file, fsync, then hard-link it to ``full`` (fails if ``full`` exists)."""
    directory, name = os.path.split(full)
    _make_private_dirs(directory)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.link(temporary, full)  # FileExistsError when another writer created it first
    finally:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    _fsync_directory(directory)


class _EarlyWriteback:
    """Starts the disk writes of a big file while it is still being written, so the final fsync only
    waits for the last stretch instead of the whole file (``POSIX_FADV_DONTNEED`` on a written range
    starts its writeback without waiting for it; pages still being written stay cached)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.written = 0
        self.started_up_to = 0
        self.enabled = hasattr(os, "posix_fadvise")

    def wrote(self, size: int) -> None:
        self.written += size
        if not self.enabled or self.written - self.started_up_to < WRITEBACK_EVERY:
            return
        self.handle.flush()
        with contextlib.suppress(OSError):
            os.posix_fadvise(
                self.handle.fileno(),
                self.started_up_to,
                self.written - self.started_up_to,
                os.POSIX_FADV_DONTNEED,
            )
        self.started_up_to = self.written


def _fsync_directory(directory: str) -> None:
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


__all__ = ["CHUNK_SIZE", "DIR_MODE", "FILE_MODE", "BackupStore", "FileDigest"]
