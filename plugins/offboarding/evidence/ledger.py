"""The evidence ledger of a case: an append-only, hash-chained and authenticated list of entries.

Stored under ``<root>/<case_id>/evidence/`` through the case's :class:`BackupStore`, in PLAINTEXT even
in an encrypted store (an auditor reads it without the backup key; it holds summaries with secrets
hidden, never file contents). Each entry's ``hash`` is the sha256 of its canonical JSON (without
``hash`` and ``mac``), ``prev_hash`` is the previous entry's hash (64 zeros for the first), and ``mac``
is the HMAC-SHA256 of the same bytes under the deployment's evidence key (:mod:`.keys`). So an edited,
removed, reordered or inserted entry breaks the chain, and rewriting the whole file with recomputed
hashes is caught by the HMACs. Removing entries from the END is caught by the *anchor*
(:class:`Anchor`, the last ``seq:hash``), which every task records in Airflow's metadata (XCom
``evidence_anchor``) and the report states.

Two layouts, chosen by the storage:

* local roots (also a shared folder of several hosts): one JSON Lines file ``evidence/ledger.jsonl``.
  Appends from any number of processes are serialised with an ``fcntl`` lock on the sidecar
  ``ledger.jsonl.lock`` (NFSv4 forwards it to the server). A last line without its newline (a full
  disk, a killed process) is *torn*: the next appender cuts it off and records ``ledger.recovered``
  naming the dropped bytes (their size, sha256 and text) before its own entry.
* object storage (``s3://``, ``memory://``): one object per entry, ``evidence/ledger/<seq>.json``
  (10 digits), created only if absent (:meth:`BackupStore.create_new`): when two hosts race for the
  same seq exactly one wins and the other re-reads and takes the next one. Storage that cannot create
  conditionally is refused with a clear error rather than silently losing entries.

Appending needs the key; reading and verifying without it checks only the plain hash chain and says
so (``ChainReport.authenticated`` False).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from offboarding.backup.names import check_case_id
from offboarding.backup.storage import CHUNK_SIZE, FILE_MODE, BackupStore
from offboarding.evidence.entry import ACTION_PATTERN, GENESIS_HASH, Entry, canonical_json
from offboarding.evidence.keys import EvidenceKey
from offboarding.evidence.redaction import redact_for_evidence

LEDGER_PATH = "evidence/ledger.jsonl"
"""Where the ledger sits inside a case folder on local storage."""
LEDGER_OBJECTS_DIR = "evidence/ledger"
"""Where the ledger's entries sit inside a case folder on object storage, one object per entry."""
LOCK_SUFFIX = ".lock"
RECOVERED_ACTION = "ledger.recovered"
"""The entry an appender records when it cut off a torn last line."""
ANCHOR_XCOM_KEY = "evidence_anchor"
"""The XCom key under which every task records the ledger's head (``seq:hash``)."""
CONDITIONAL_CREATE_PROTOCOLS = frozenset({"memory", "s3", "s3a"})
"""Object stores whose create-if-absent is atomic (S3: ``If-None-Match: *``; memory: one process)."""
_DROPPED_TEXT_LIMIT = 4000
_CREATE_ATTEMPTS = 200
_OBJECT_NAME = re.compile(r"^(\d{10})\.json$")
_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")

_process_locks: dict[tuple[str, str], threading.Lock] = {}
_process_locks_guard = threading.Lock()


class LedgerError(Exception):
    """The ledger cannot be read or appended to as it is; the message says what to do."""


@dataclass(frozen=True)
class Anchor:
    """The head of a ledger, kept outside the case folder: the last entry's ``seq`` and ``hash``."""

    seq: int
    hash: str

    @property
    def text(self) -> str:
        """``seq:hash``, the form of the XCom and of ``offboarding evidence verify --anchor``."""
        return f"{self.seq}:{self.hash}"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: Any) -> Anchor:
        """Read ``seq:hash`` (ValueError naming the expected form)."""
        match = _ANCHOR.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None or int(match.group(1)) < 1:
            raise ValueError(f"an anchor looks like '14:<64 hex characters>' (seq:hash), got {text!r}")
        return cls(int(match.group(1)), match.group(2))

    @staticmethod
    def all_of(values: Iterable[Any]) -> list[Anchor]:
        """Every anchor among ``values`` (texts; None and junk are skipped), lowest seq first."""
        found = set()
        for value in values:
            try:
                found.add(Anchor.parse(value))
            except ValueError:
                continue
        return sorted(found, key=lambda a: (a.seq, a.hash))


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the whole ledger.

    ``first_bad_seq`` names the first entry that cannot be trusted (None when intact); ``last_hash`` is
    the hash of the last entry verified intact (64 zeros when there is none). ``authenticated`` says
    whether the HMACs were checked (a key was given); ``key_id`` which key. ``anchor`` is the head
    recorded outside the case folder it was compared with (None: no anchor given). ``torn_bytes`` counts
    the bytes of a torn last line (0: none).
    """

    ok: bool
    entries: int
    verified: int
    last_hash: str
    first_bad_seq: int | None = None
    problem: str = ""
    authenticated: bool = False
    key_id: str | None = None
    anchor: Anchor | None = None
    torn_bytes: int = 0

    @property
    def head(self) -> Anchor | None:
        """``seq:hash`` of the last verified entry (None when none is)."""
        return Anchor(self.verified, self.last_hash) if self.verified else None

    def summary_text(self) -> str:
        """One line for the report, e.g. ``intact: 14 entries, last hash 3f5a…, HMAC-authenticated``."""
        how = (
            f"HMAC-authenticated (key id {self.key_id})"
            if self.authenticated
            else "HMACs NOT checked (no key)"
        )
        against = f", matches the anchor {self.anchor.text}" if self.anchor is not None else ", no anchor"
        if self.ok:
            noun = "entry" if self.entries == 1 else "entries"
            return f"intact: {self.entries} {noun}, last hash {self.last_hash}, {how}{against}"
        return (
            f"BROKEN at seq {self.first_bad_seq}: {self.problem} ({self.entries} entries read; "
            f"{self.verified} verified before the break, last verified hash {self.last_hash}; {how})"
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
            "authenticated": self.authenticated,
            "key_id": self.key_id,
            "anchor": self.anchor.text if self.anchor is not None else None,
            "torn_bytes": self.torn_bytes,
        }


@dataclass(frozen=True)
class _Record:
    """One stored entry as bytes: a line of the JSONL file or one object."""

    label: str  # "line 3" / "object evidence/ledger/0000000003.json"
    data: bytes
    complete: bool  # False: a torn line (no newline at the end)
    end: int  # where the next read starts (byte offset or object count)
    name_seq: int | None = None  # the seq an object's name says


class EvidenceLedger:
    """Append and read the evidence of one case.

    ``key`` authenticates new entries and checks old ones (required to append); ``clock`` returns the
    current aware time (tests pass a fixed clock); entries record it in UTC.
    """

    def __init__(
        self,
        store: BackupStore,
        case_id: str,
        *,
        key: EvidenceKey | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(store, BackupStore):
            raise TypeError(f"store must be a BackupStore, got {type(store).__name__}")
        if key is not None and not isinstance(key, EvidenceKey):
            raise TypeError(f"key must be an EvidenceKey, got {type(key).__name__}")
        self._store = store
        self._case_id = check_case_id(case_id)
        self._key = key
        self._clock = clock or _utc_now
        self._local = store.local_path(case_id, LEDGER_PATH)
        self._seen: set[tuple[str, str | None]] = set()
        self._seen_offset = 0
        self._next_seq_hint = 0

    def __repr__(self) -> str:
        key = f", key_id={self._key.key_id!r}" if self._key is not None else ""
        return f"EvidenceLedger(case_id={self._case_id!r}, store={self._store!r}{key})"

    @property
    def case_id(self) -> str:
        """The case this ledger belongs to."""
        return self._case_id

    @property
    def per_entry_objects(self) -> bool:
        """True when entries are one object each (object storage), False for the JSONL file."""
        if self._store.exists(self._case_id, LEDGER_PATH):
            return False
        if self._local is None:
            return True
        return bool(self._store.list_files(self._case_id, LEDGER_OBJECTS_DIR))

    @property
    def location(self) -> str:
        """Where the ledger is, for people to read."""
        where = LEDGER_OBJECTS_DIR + "/" if self.per_entry_objects else LEDGER_PATH
        return self._store.case_location(self._case_id) + where

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
        raises before anything is written. A torn last line is cut off first and recorded as
        ``ledger.recovered``.
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
        signer = self._signing_key()
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
            return Entry.signed(body, signer)

        if self._local is not None and not self.per_entry_objects:
            return self._append_local(build, step)
        return self._append_object(build)

    def recover(self, *, step: str | None = None) -> Entry | None:
        """Cut off a torn last line, if there is one, and record ``ledger.recovered``; else do nothing.

        Called before a verification that decides something (the deletion check), so an interrupted
        write does not block the case. Returns the ``ledger.recovered`` entry, or None.
        """
        if self._local is None or self.per_entry_objects or not self._local.is_file():
            return None
        with self._open_locked() as fd:
            return self._recover_torn_tail(fd, step)

    # -- reading ---------------------------------------------------------------------------------

    def entries(self, *, skip_unreadable: bool = False) -> Iterator[Entry]:
        """Every entry in stored order (no chain check; see :meth:`verify_chain`).

        An unreadable record raises LedgerError naming it, unless ``skip_unreadable`` (used by the
        report, which shows the chain status separately).
        """
        for record in self._records(0):
            try:
                if not record.complete:
                    raise LedgerError(
                        f"{self.location}: {record.label} is incomplete (a write was interrupted)"
                    )
                try:
                    entry = Entry.from_line(record.data)
                except ValueError as exc:
                    raise LedgerError(
                        f"{self.location}: {record.label} is not a ledger entry: {exc}"
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

    def head(self) -> Anchor | None:
        """The anchor of the last complete entry (None for an empty ledger), read cheaply."""
        if self._local is not None and not self.per_entry_objects:
            if not self._local.is_file():
                return None
            with open(self._local, "rb") as handle:
                data = _last_complete_line(handle.fileno())
        else:
            names = self._object_names()
            data = self._read_object(names[-1]) if names else None
        if data is None:
            return None
        try:
            entry = Entry.from_line(data)
        except ValueError as exc:
            raise LedgerError(f"{self.location}: the last entry is not a ledger entry: {exc}") from None
        return Anchor(entry.seq, entry.hash)

    def has_action(self, action: str, key: str | None) -> bool:
        """True when ``action`` was already recorded for ``key`` (e.g. ``member.deleted`` for a userid).

        Reads only what was appended since the last call on this object.
        """
        if not isinstance(action, str) or not ACTION_PATTERN.fullmatch(action):
            raise ValueError(f"action must look like 'member.deleted', got {action!r}")
        for record in self._records(self._seen_offset):
            if not record.complete:
                break
            try:
                entry = Entry.from_line(record.data)
            except ValueError as exc:
                raise LedgerError(f"{self.location}: {record.label} is not a ledger entry: {exc}") from None
            self._seen.add((entry.action, entry.key))
            self._seen_offset = record.end
        return (action, key) in self._seen

    def verify_chain(self, *, anchor: Anchor | None = None, anchors: Iterable[Anchor] = ()) -> ChainReport:
        """Check every entry: parse, sequence, own hash, HMAC (with a key), link to the previous entry.

        With ``anchor`` (the head recorded outside the case folder) and/or ``anchors`` (every head
        recorded, e.g. one per task), also check that the ledger still holds each of those entries with
        that hash: removing entries from the end is caught only this way, and checking every anchor (not
        only the latest) catches a ledger cut short and then appended to again. The report names the
        highest anchor.
        """
        recorded_heads = sorted(
            {*anchors, *([anchor] if anchor is not None else [])}, key=lambda a: (a.seq, a.hash)
        )
        anchor = recorded_heads[-1] if recorded_heads else None
        hashes = [GENESIS_HASH]  # hashes[n] is the hash of seq n, once verified
        count = 0
        torn = 0
        bad: tuple[int, str] | None = None
        for number, record in enumerate(self._records(0), start=1):
            count = number
            if bad is not None:
                continue  # keep counting
            if not record.complete:
                torn = len(record.data)
            checked = _check_record(number, record, hashes[-1], self._key)
            if isinstance(checked, Entry):
                hashes.append(checked.hash)
            else:
                bad = checked
        for recorded in recorded_heads:
            if bad is not None:
                break
            bad = _check_anchor(recorded, hashes)
        authenticated = self._key is not None
        key_id = self._key.key_id if self._key is not None else None
        if bad is None:
            return ChainReport(
                ok=True,
                entries=count,
                verified=count,
                last_hash=hashes[-1],
                authenticated=authenticated,
                key_id=key_id,
                anchor=anchor,
            )
        first_bad_seq, problem = bad
        trusted = min(first_bad_seq - 1, len(hashes) - 1)
        return ChainReport(
            ok=False,
            entries=count,
            verified=trusted,
            last_hash=hashes[trusted],
            first_bad_seq=first_bad_seq,
            problem=problem,
            authenticated=authenticated,
            key_id=key_id,
            anchor=anchor,
            torn_bytes=torn,
        )

    # -- internals: writing ----------------------------------------------------------------------

    def _signing_key(self) -> EvidenceKey:
        if self._key is None:
            raise LedgerError(
                f"{self.location}: no evidence key, so no entry can be authenticated; configure the "
                "deployment's evidence key (Airflow Connection offboarding_evidence_key, password = the key)"
            )
        return self._key

    def _now(self) -> str:
        now = self._clock()
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise ValueError(f"the ledger clock must return an aware datetime, got {now!r}")
        return now.astimezone(UTC).isoformat(timespec="microseconds")

    @contextlib.contextmanager
    def _open_locked(self) -> Iterator[int]:
        assert self._local is not None
        self._store.ensure_dir(self._case_id, "evidence")
        with _file_lock(self._lock_path(), fcntl.LOCK_EX):
            fd = os.open(self._local, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
            try:
                if os.fstat(fd).st_size == 0:
                    os.fchmod(fd, FILE_MODE)
                yield fd
            finally:
                os.close(fd)

    def _append_local(self, build: Callable[[int, str], Entry], step: str | None) -> Entry:
        with self._open_locked() as fd:
            self._recover_torn_tail(fd, step)
            entry = build(*self._next_link(_last_complete_line(fd)))
            _write_all(fd, entry.to_line())
            os.fsync(fd)
        return entry

    def _recover_torn_tail(self, fd: int, step: str | None) -> Entry | None:
        """Under the lock: cut a torn last line off and record ``ledger.recovered`` (None: nothing torn)."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return None
        cut = _last_newline_end(fd, size)
        dropped = os.pread(fd, size - cut, cut)
        previous = _last_complete_line_before(fd, cut)
        if self._is_next_entry(dropped, previous):  # written whole but for its newline: keep it
            _write_all(fd, b"\n")
            os.fsync(fd)
            return None
        os.ftruncate(fd, cut)
        os.fsync(fd)
        text = dropped.decode("utf-8", errors="replace")
        entry_body = {
            "reason": "the last line was torn (a write was interrupted: full disk, killed process)",
            "offset": cut,
        }
        result = {
            "dropped_bytes": len(dropped),
            "dropped_sha256": hashlib.sha256(dropped).hexdigest(),
            "dropped_text": text[:_DROPPED_TEXT_LIMIT],
            "dropped_text_truncated": len(text) > _DROPPED_TEXT_LIMIT,
        }
        seq, prev_hash = self._next_link(previous)
        body = {
            "seq": seq,
            "at": self._now(),
            "actor": "system",
            "action": RECOVERED_ACTION,
            "step": step,
            "key": None,
            "request": redact_for_evidence(entry_body, field="request"),
            "result": redact_for_evidence(result, field="result"),
            "prev_hash": prev_hash,
        }
        entry = Entry.signed(body, self._signing_key())
        _write_all(fd, entry.to_line())
        os.fsync(fd)
        return entry

    def _is_next_entry(self, data: bytes, previous: bytes | None) -> bool:
        """True when ``data`` is a whole, authenticated entry that chains to ``previous``."""
        try:
            entry = Entry.from_line(data)
            seq, prev_hash = (1, GENESIS_HASH) if previous is None else self._next_link(previous)
        except (ValueError, LedgerError):
            return False
        return (
            entry.seq == seq
            and entry.prev_hash == prev_hash
            and entry.computed_hash() == entry.hash
            and self._key is not None
            and entry.key_id == self._key.key_id
            and entry.mac_matches(self._key)
        )

    def _append_object(self, build: Callable[[int, str], Entry]) -> Entry:
        self._require_conditional_create()
        with _process_lock(self._store.root, self._case_id):
            for _attempt in range(_CREATE_ATTEMPTS):
                seq, last = self._last_object()
                entry = build(*self._next_link(last, expected_seq=seq))
                try:
                    self._store.create_new(self._case_id, _object_relpath(entry.seq), entry.to_line())
                except FileExistsError:  # another host took this seq first: read its entry and retry
                    self._next_seq_hint = entry.seq + 1
                    time.sleep(random.uniform(0, 0.02))
                    continue
                self._next_seq_hint = entry.seq + 1
                return entry
        raise LedgerError(
            f"{self.location}: could not append after {_CREATE_ATTEMPTS} attempts, other writers always "
            "took the next seq first; retry the task"
        )

    def _require_conditional_create(self) -> None:
        if self._local is None and self._store.protocol not in CONDITIONAL_CREATE_PROTOCOLS:
            raise LedgerError(
                f"{self.location}: the evidence ledger cannot be kept on {self._store.protocol}:// storage, "
                "which cannot create an object only when it is absent (parallel tasks would overwrite each "
                f"other's entries); use a local or shared folder, or one of "
                f"{', '.join(sorted(CONDITIONAL_CREATE_PROTOCOLS))}"
            )
        if self._local is None and self._store.exists(self._case_id, LEDGER_PATH):
            raise LedgerError(
                f"{self._store.case_location(self._case_id)}{LEDGER_PATH} is a single-file ledger on object "
                "storage, which cannot be appended safely by parallel tasks; finish this case with the "
                "version that started it"
            )

    def _last_object(self) -> tuple[int, bytes | None]:
        """``(seq of the last entry object, its bytes)``; ``(0, None)`` when there is none."""
        hint = self._next_seq_hint
        if hint > 1 and self._store.exists(self._case_id, _object_relpath(hint - 1)):
            seq = hint - 1
            while self._store.exists(self._case_id, _object_relpath(seq + 1)):
                seq += 1
            return seq, self._read_object(_object_name(seq))
        names = self._object_names()
        if not names:
            return 0, None
        match = _OBJECT_NAME.fullmatch(names[-1])
        if match is None:
            raise LedgerError(f"{self.location}: {names[-1]} is not a ledger entry object")
        return int(match.group(1)), self._read_object(names[-1])

    def _next_link(self, last_line: bytes | None, *, expected_seq: int | None = None) -> tuple[int, str]:
        if not last_line:
            return 1, GENESIS_HASH
        try:
            last = Entry.from_line(last_line)
        except ValueError as exc:
            raise LedgerError(
                f"{self.location}: the last entry is not a ledger entry ({exc}); an auditor runs "
                "`offboarding evidence verify` on the case folder and the file is repaired from a copy "
                "before more evidence is recorded"
            ) from None
        if expected_seq is not None and last.seq != expected_seq:
            raise LedgerError(
                f"{self.location}: object {_object_name(expected_seq)} holds seq {last.seq}; the ledger was "
                "tampered with, run `offboarding evidence verify` on the case folder"
            )
        return last.seq + 1, last.hash

    # -- internals: reading ----------------------------------------------------------------------

    def _lock_path(self) -> Path:
        assert self._local is not None
        return self._local.with_name(self._local.name + LOCK_SUFFIX)

    def _object_names(self) -> list[str]:
        return self._store.list_files(self._case_id, LEDGER_OBJECTS_DIR)

    def _read_object(self, name: str) -> bytes:
        return self._store.read_bytes(self._case_id, f"{LEDGER_OBJECTS_DIR}/{name}").rstrip(b"\n")

    def _read_remote_file(self) -> bytes:
        if not self._store.exists(self._case_id, LEDGER_PATH):
            return b""
        return b"".join(self._store.read_stream(self._case_id, LEDGER_PATH, encrypted=False))

    def _records(self, start: int) -> Iterator[_Record]:
        """The stored entries from ``start`` on (a byte offset of the file, or a count of objects)."""
        if self.per_entry_objects:
            names = self._object_names()
            for index, name in enumerate(names[start:] if start <= len(names) else names, start=start):
                match = _OBJECT_NAME.fullmatch(name)
                data = self._read_object(name)
                yield _Record(
                    f"object {LEDGER_OBJECTS_DIR}/{name}",
                    data,
                    True,
                    index + 1,
                    int(match.group(1)) if match else -1,
                )
            return
        if self._local is None:  # a single-file ledger on object storage (written by older versions)
            data = self._read_remote_file()
            if start > len(data):
                start = 0
            yield from _line_records(_split_lines([data[start:]], start), start)
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
        yield from _line_records(_split_lines(_read_range(self._local, start, size), start), start)


def _line_records(lines: Iterable[tuple[bytes, bool, int]], start: int) -> Iterator[_Record]:
    for number, (line, complete, end) in enumerate(lines, start=1):
        label = f"line {number}" if start == 0 else f"the line ending at byte {end}"
        yield _Record(label, line, complete, end)


def _object_name(seq: int) -> str:
    return f"{seq:010d}.json"


def _object_relpath(seq: int) -> str:
    return f"{LEDGER_OBJECTS_DIR}/{_object_name(seq)}"


def _check_record(
    number: int, record: _Record, prev_hash: str, key: EvidenceKey | None
) -> Entry | tuple[int, str]:
    """The entry at position ``number`` when it is sound, else ``(first bad seq, what is wrong)``."""
    if not record.complete:
        return number, (
            f"{record.label} is torn ({len(record.data)} bytes without the final newline: a write was "
            "interrupted); the next append cuts it off and records ledger.recovered"
        )
    try:
        entry = Entry.from_line(record.data)
    except ValueError as exc:
        return number, f"{record.label} is not a ledger entry: {exc}"
    if record.name_seq is not None and record.name_seq != entry.seq:
        return (number if record.name_seq < 1 else min(number, record.name_seq)), (
            f"{record.label} holds seq {entry.seq} (an entry object was renamed, copied or inserted)"
        )
    if entry.seq > number:
        return number, (
            f"entry seq {number} is missing: {record.label} holds seq {entry.seq} "
            "(an entry was removed or the entries were reordered)"
        )
    if entry.seq < number:
        return entry.seq, (
            f"{record.label} holds seq {entry.seq} again after seq {number - 1} "
            "(an entry was inserted or the entries were reordered)"
        )
    if entry.computed_hash() != entry.hash:
        return number, f"entry seq {number} was edited: its content does not match its hash"
    if key is not None:
        if entry.mac is None:
            return number, (
                f"entry seq {number} carries no HMAC: it was written without the deployment's evidence key "
                "(forged, or from a version before entries were authenticated)"
            )
        if entry.key_id != key.key_id:
            return number, (
                f"entry seq {number} was authenticated with another key (key id {entry.key_id}, the key "
                f"given has key id {key.key_id}): the wrong key was given, or the entry was forged"
            )
        if not entry.mac_matches(key):
            return number, (
                f"entry seq {number} has a bad HMAC: it was written or rewritten without the deployment's "
                "evidence key (e.g. the file was rewritten and its hashes recomputed)"
            )
    if entry.prev_hash != prev_hash:
        if number == 1:
            return 1, "entry seq 1 does not start the chain (its prev_hash is not 64 zeros)"
        return number - 1, (
            f"entry seq {number} does not chain to seq {number - 1} (broken prev link): seq {number - 1} was "
            f"rewritten with a new hash, or seq {number}'s link was changed"
        )
    return entry


def _check_anchor(anchor: Anchor, hashes: list[str]) -> tuple[int, str] | None:
    """None when the verified chain holds ``anchor``; else ``(first bad seq, what is wrong)``."""
    last = len(hashes) - 1
    if anchor.seq > last:
        return last + 1, (
            f"the ledger ends at seq {last} but the anchor recorded outside the case folder is seq "
            f"{anchor.seq} (hash {anchor.hash}): entries {last + 1}..{anchor.seq} were removed (truncated)"
        )
    if hashes[anchor.seq] != anchor.hash:
        return anchor.seq, (
            f"entry seq {anchor.seq} has hash {hashes[anchor.seq]} but the anchor recorded outside the case "
            f"folder says {anchor.hash}: the ledger was rewritten from seq {anchor.seq} or earlier"
        )
    return None


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


def _last_newline_end(fd: int, size: int) -> int:
    """The offset just after the last newline in the first ``size`` bytes (0 when there is none)."""
    position = size
    while position > 0:
        step = min(64 * 1024, position)
        position -= step
        newline = os.pread(fd, step, position).rfind(b"\n")
        if newline >= 0:
            return position + newline + 1
    return 0


def _last_complete_line_before(fd: int, end: int) -> bytes | None:
    """The last line of the first ``end`` bytes, which end with a newline (None when ``end`` is 0)."""
    if end == 0:
        return None
    start = _last_newline_end(fd, end - 1)
    return os.pread(fd, end - 1 - start, start)


def _last_complete_line(fd: int) -> bytes | None:
    """The last newline-terminated line of the open ledger (a torn tail is ignored), None when none."""
    return _last_complete_line_before(fd, _last_newline_end(fd, os.fstat(fd).st_size))


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
