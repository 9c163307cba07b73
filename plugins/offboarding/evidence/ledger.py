"""The evidence ledger of a case: an append-only, hash-chained JSON Lines file.

Stored at ``<root>/<case_id>/evidence/ledger.jsonl`` through the case's :class:`BackupStore`, in
PLAINTEXT even in an encrypted store (an auditor reads it without the key; it holds summaries with
secrets hidden, never file contents). Each line is one :class:`Entry`; its ``hash`` is the sha256 of
the canonical JSON of the entry without ``hash``, and ``prev_hash`` is the previous entry's hash
(64 zeros for the first), so an edited, removed, reordered or inserted line breaks the chain.
Keep the last hash somewhere else too (the case report, a notification): it is the anchor that shows
the whole file was not rewritten.

Concurrency: on a local root, appends from any number of processes on one host are serialised with an
``fcntl`` lock on the sidecar ``ledger.jsonl.lock``. On other fsspec roots (``memory://``, ``s3://``)
an append is a read-modify-write of the whole file, serialised only inside one process: do not append
to the same case from several processes there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from offboarding.backup.names import check_case_id
from offboarding.backup.storage import CHUNK_SIZE, FILE_MODE, BackupStore
from offboarding.evidence.entry import ACTION_PATTERN, GENESIS_HASH, Entry, canonical_json, entry_hash
from offboarding.evidence.redaction import redact_for_evidence

LEDGER_PATH = "evidence/ledger.jsonl"
"""Where the ledger sits inside a case folder."""
LOCK_SUFFIX = ".lock"

_process_locks: dict[tuple[str, str], threading.Lock] = {}
_process_locks_guard = threading.Lock()


class LedgerError(Exception):
    """The ledger cannot be read or appended to as it is; the message says what to do."""


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the whole hash chain.

    ``first_bad_seq`` names the first entry that cannot be trusted (None when intact); ``last_hash`` is
    the hash of the last entry verified intact (64 zeros when there is none).
    """

    ok: bool
    entries: int
    verified: int
    last_hash: str
    first_bad_seq: int | None = None
    problem: str = ""

    def summary_text(self) -> str:
        """One line for the report, e.g. ``intact: 14 entries, last hash 3f5a…``."""
        if self.ok:
            noun = "entry" if self.entries == 1 else "entries"
            return f"intact: {self.entries} {noun}, last hash {self.last_hash}"
        return (
            f"BROKEN at seq {self.first_bad_seq}: {self.problem} ({self.entries} lines; "
            f"{self.verified} verified before the break, last verified hash {self.last_hash})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "entries": self.entries,
            "verified": self.verified,
            "last_hash": self.last_hash,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
        }


class EvidenceLedger:
    """Append and read the evidence of one case.

    ``clock`` returns the current aware time (tests pass a fixed clock); entries record it in UTC.
    """

    def __init__(
        self, store: BackupStore, case_id: str, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        if not isinstance(store, BackupStore):
            raise TypeError(f"store must be a BackupStore, got {type(store).__name__}")
        self._store = store
        self._case_id = check_case_id(case_id)
        self._clock = clock or _utc_now
        self._local = store.local_path(case_id, LEDGER_PATH)
        self._seen: set[tuple[str, str | None]] = set()
        self._seen_offset = 0

    def __repr__(self) -> str:
        return f"EvidenceLedger(case_id={self._case_id!r}, store={self._store!r})"

    @property
    def case_id(self) -> str:
        """The case this ledger belongs to."""
        return self._case_id

    @property
    def location(self) -> str:
        """Where the ledger file is, for people to read."""
        return self._store.case_location(self._case_id) + LEDGER_PATH

    # -- writing ---------------------------------------------------------------------------------

    def append(
        self,
        action: str,
        *,
        actor: str,
        step: str | None,
        request: Any = None,
        result: Any = None,
        key: str | None = None,
    ) -> Entry:
        """Record that ``action`` happened and return the stored entry.

        ``action`` is ``family.verb`` (e.g. ``member.disabled``); ``actor`` the Airflow user, ``system``
        or ``wecom``; ``step`` the task id; ``key`` what it was about (e.g. the userid) so a retried task
        can ask :meth:`has_action`. ``request`` and ``result`` are recorded with secrets hidden (keys
        named like secret/token/key/password, and ``access_token=``-style values in text). Bad input
        raises before anything is written.
        """
        if not isinstance(action, str) or not ACTION_PATTERN.fullmatch(action):
            raise ValueError(
                f"action must look like 'member.disabled' (family.verb, lower case), got {action!r}"
            )
        if not isinstance(actor, str) or not actor.strip():
            raise ValueError(f"actor must be the Airflow user, 'system' or 'wecom', got {actor!r}")
        if step is not None and (not isinstance(step, str) or not step.strip()):
            raise ValueError(f"step must be the task id or None, got {step!r}")
        if key is not None and (not isinstance(key, str) or not key):
            raise ValueError(f"key must be a non-empty string or None, got {key!r}")
        safe_request = redact_for_evidence(request, field="request")
        safe_result = redact_for_evidence(result, field="result")
        canonical_json([safe_request, safe_result])  # proves both are plain JSON before any write

        def build(seq: int, prev_hash: str) -> Entry:
            body = {
                "seq": seq,
                "at": self._now(),
                "actor": actor,
                "action": action,
                "step": step,
                "key": key,
                "request": safe_request,
                "result": safe_result,
                "prev_hash": prev_hash,
            }
            return Entry(**body, hash=entry_hash(body))

        return self._append_local(build) if self._local is not None else self._append_remote(build)

    # -- reading ---------------------------------------------------------------------------------

    def entries(self, *, skip_unreadable: bool = False) -> Iterator[Entry]:
        """Every entry in file order (no chain check; see :meth:`verify_chain`).

        An unreadable line raises LedgerError naming it, unless ``skip_unreadable`` (used by the report,
        which shows the chain status separately).
        """
        for number, (line, complete, _end) in enumerate(self._lines(0), start=1):
            try:
                if not complete:
                    raise LedgerError(
                        f"{self.location}: line {number} is incomplete (a write was interrupted)"
                    )
                try:
                    entry = Entry.from_line(line)
                except ValueError as exc:
                    raise LedgerError(
                        f"{self.location}: line {number} is not a ledger entry: {exc}"
                    ) from None
            except LedgerError:
                if skip_unreadable:
                    continue
                raise
            yield entry

    def last_entry(self) -> Entry | None:
        """The most recent entry, or None for an empty ledger."""
        last = None
        for entry in self.entries():
            last = entry
        return last

    def has_action(self, action: str, key: str | None) -> bool:
        """True when ``action`` was already recorded for ``key`` (e.g. ``member.deleted`` for a userid).

        Reads only what was appended since the last call on this object.
        """
        if not isinstance(action, str) or not ACTION_PATTERN.fullmatch(action):
            raise ValueError(f"action must look like 'member.deleted', got {action!r}")
        for line, complete, end in self._lines(self._seen_offset):
            if not complete:
                break
            try:
                entry = Entry.from_line(line)
            except ValueError as exc:
                raise LedgerError(f"{self.location}: a line is not a ledger entry: {exc}") from None
            self._seen.add((entry.action, entry.key))
            self._seen_offset = end
        return (action, key) in self._seen

    def verify_chain(self) -> ChainReport:
        """Check every line: parse, sequence, own hash, link to the previous entry."""
        hashes = [GENESIS_HASH]  # hashes[n] is the hash of seq n, once verified
        lines = 0
        bad: tuple[int, str] | None = None
        for number, (line, complete, _end) in enumerate(self._lines(0), start=1):
            lines = number
            if bad is not None:
                continue  # keep counting lines
            checked = _check_line(number, line, complete, hashes[-1])
            if isinstance(checked, Entry):
                hashes.append(checked.hash)
            else:
                bad = checked
        if bad is None:
            return ChainReport(ok=True, entries=lines, verified=lines, last_hash=hashes[-1])
        first_bad_seq, problem = bad
        trusted = min(first_bad_seq - 1, len(hashes) - 1)
        return ChainReport(
            ok=False,
            entries=lines,
            verified=trusted,
            last_hash=hashes[trusted],
            first_bad_seq=first_bad_seq,
            problem=problem,
        )

    # -- internals -------------------------------------------------------------------------------

    def _now(self) -> str:
        now = self._clock()
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ValueError(f"the ledger clock must return an aware datetime, got {now!r}")
        return now.astimezone(UTC).isoformat(timespec="microseconds")

    def _append_local(self, build: Callable[[int, str], Entry]) -> Entry:
        assert self._local is not None
        self._store.ensure_dir(self._case_id, "evidence")
        with _file_lock(self._lock_path(), fcntl.LOCK_EX):
            fd = os.open(self._local, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
            try:
                if os.fstat(fd).st_size == 0:
                    os.fchmod(fd, FILE_MODE)
                entry = build(*self._next_link(_last_line(fd, self.location)))
                _write_all(fd, entry.to_line())
                os.fsync(fd)
            finally:
                os.close(fd)
        return entry

    def _append_remote(self, build: Callable[[int, str], Entry]) -> Entry:
        with _process_lock(self._store.root, self._case_id):
            existing = self._read_remote()
            if existing and not existing.endswith(b"\n"):
                raise LedgerError(_incomplete_message(self.location))
            last = existing.rstrip(b"\n").rsplit(b"\n", 1)[-1] if existing else None
            entry = build(*self._next_link(last))
            self._store.write_bytes(
                self._case_id, LEDGER_PATH, existing + entry.to_line(), source="evidence", encrypt=False
            )
        return entry

    def _next_link(self, last_line: bytes | None) -> tuple[int, str]:
        if not last_line:
            return 1, GENESIS_HASH
        try:
            last = Entry.from_line(last_line)
        except ValueError as exc:
            raise LedgerError(
                f"{self.location}: the last line is not a ledger entry ({exc}); run verify_chain() and "
                "repair the file from a copy before recording more evidence"
            ) from None
        return last.seq + 1, last.hash

    def _lock_path(self) -> Path:
        assert self._local is not None
        return self._local.with_name(self._local.name + LOCK_SUFFIX)

    def _read_remote(self) -> bytes:
        if not self._store.exists(self._case_id, LEDGER_PATH):
            return b""
        return b"".join(self._store.read_stream(self._case_id, LEDGER_PATH, encrypted=False))

    def _lines(self, start: int) -> Iterator[tuple[bytes, bool, int]]:
        """``(line without newline, ends with a newline, offset after it)`` from byte ``start`` on."""
        if self._local is None:
            data = self._read_remote()
            if start > len(data):
                start = 0
            yield from _split_lines([data[start:]], start)
            return
        if not self._local.is_file():
            return
        try:
            with _file_lock(self._lock_path(), fcntl.LOCK_SH):
                size = self._local.stat().st_size  # appends only add after this: a consistent snapshot
        except OSError:  # no lock file possible: a read-only copy (an auditor's) nobody appends to
            size = self._local.stat().st_size
        if start > size:
            start = 0
        yield from _split_lines(_read_range(self._local, start, size), start)


def _check_line(number: int, line: bytes, complete: bool, prev_hash: str) -> Entry | tuple[int, str]:
    """The entry at position ``number`` when it is sound, else ``(first bad seq, what is wrong)``."""
    if not complete:
        return number, f"line {number} is incomplete (no newline at the end): a write was interrupted"
    try:
        entry = Entry.from_line(line)
    except ValueError as exc:
        return number, f"line {number} is not a ledger entry: {exc}"
    if entry.seq > number:
        return number, (
            f"entry seq {number} is missing: line {number} holds seq {entry.seq} "
            "(an entry was removed or the lines were reordered)"
        )
    if entry.seq < number:
        return entry.seq, (
            f"line {number} holds seq {entry.seq} again after seq {number - 1} "
            "(an entry was inserted or the lines were reordered)"
        )
    if entry.computed_hash() != entry.hash:
        return number, f"entry seq {number} was edited: its content does not match its hash"
    if entry.prev_hash != prev_hash:
        if number == 1:
            return 1, "entry seq 1 does not start the chain (its prev_hash is not 64 zeros)"
        return number - 1, (
            f"entry seq {number} does not chain to seq {number - 1}: seq {number - 1} was rewritten with a "
            f"new hash, or seq {number}'s link was changed"
        )
    return entry


def _split_lines(chunks: Iterable[bytes], offset: int) -> Iterator[tuple[bytes, bool, int]]:
    pending = bytearray()
    for chunk in chunks:
        parts = chunk.split(b"\n")
        for part in parts[:-1]:
            pending += part
            offset += len(pending) + 1
            yield bytes(pending), True, offset
            pending = bytearray()
        pending += parts[-1]
    if pending:
        yield bytes(pending), False, offset + len(pending)


def _read_range(path: Path, start: int, end: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = end - start
        while remaining > 0 and (chunk := handle.read(min(CHUNK_SIZE, remaining))):
            remaining -= len(chunk)
            yield chunk


def _last_line(fd: int, where: str) -> bytes | None:
    """The last complete line of the open ledger, or None when empty; refuses a torn last line."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    if os.pread(fd, 1, size - 1) != b"\n":
        raise LedgerError(_incomplete_message(where))
    end = size - 1
    position = end
    collected = b""
    while position > 0:
        step = min(64 * 1024, position)
        position -= step
        block = os.pread(fd, step, position)
        collected = block + collected
        newline = block.rfind(b"\n")
        if newline >= 0:
            return collected[newline + 1 : end - position]
    return collected[:end]


def _incomplete_message(where: str) -> str:
    return (
        f"{where} ends with an incomplete line (a write was interrupted): keep a copy of the file, remove "
        "the incomplete last line, check it with verify_chain(), then retry"
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


@contextlib.contextmanager
def _file_lock(lock_path: Path, operation: int) -> Iterator[None]:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        fcntl.flock(fd, operation)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _process_lock(root: str, case_id: str) -> Iterator[None]:
    with _process_locks_guard:
        lock = _process_locks.setdefault((root, case_id), threading.Lock())
    with lock:
        yield


def _utc_now() -> datetime:
    return datetime.now(UTC)
