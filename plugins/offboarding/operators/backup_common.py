"""What the four backup tasks share: their task ids, the member they back up, WeCom error handling,
evidence entries with a key, and JSON Lines streaming for long lists."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from offboarding.wecom.errors import WeComDataError, WeComError

if TYPE_CHECKING:
    from offboarding.operators.base import Case

SNAPSHOT_TASK_ID = "backup.snapshot_profile_and_memberships"
CUSTOMERS_TASK_ID = "backup.export_customers_and_groups"
WEDRIVE_TASK_ID = "backup.export_wedrive_files"
BACKUP_TASK_IDS = (SNAPSHOT_TASK_ID, CUSTOMERS_TASK_ID, WEDRIVE_TASK_ID)
"""The tasks whose results the verification collects into the manifest, in the ``offboard_employee`` DAG."""

MEMBER_GONE_ERRCODES = frozenset({60111, 40003})
"""``user/get`` answers meaning the member is not in the contacts (any more): already deleted."""

JSONL_CHUNK_BYTES = 256 * 1024
"""How many bytes of JSON Lines are gathered before they are handed to the backup store."""


def member_userid(case: Case) -> str:
    """The userid the case backs up, or a clear failure naming the field."""
    userid = case.conf.get("userid")
    if not isinstance(userid, str) or not userid.strip():
        raise AirflowFailException(f"userid: must be the member's WeCom userid, got {userid!r}")
    return userid


def is_member_gone(err: WeComError) -> bool:
    """True when WeCom says the member does not exist (deleted before this task ran)."""
    return isinstance(err, WeComDataError) and err.errcode in MEMBER_GONE_ERRCODES


def record_evidence(
    case: Case,
    task_id: str,
    action: str,
    *,
    key: str | None,
    request: Mapping[str, Any] | None = None,
    result: Any = None,
) -> None:
    """Append to the case's ledger with a ``key`` (what the entry is about), so a later task can ask
    ``ledger.has_action(action, key)``. The actor is this task (``airflow:<task_id>``)."""
    case.ledger.append(
        action,
        actor=f"airflow:{task_id}",
        step=task_id,
        key=key,
        request=dict(request or {}),
        result=result,
    )


@dataclass
class Tally:
    """Counts what went through a stream (records and their bytes) while it is being written."""

    records: int = 0
    bytes: int = 0


def jsonl_chunks(records: Iterable[Mapping[str, Any]], tally: Tally) -> Iterator[bytes]:
    """Encode ``records`` as UTF-8 JSON Lines, lazily, in chunks of about 256 KiB.

    Nothing but the current chunk is held: a member with 100,000 customers streams like one with ten.
    """
    pending: list[bytes] = []
    size = 0
    for record in records:
        line = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        tally.records += 1
        tally.bytes += len(line)
        pending.append(line)
        size += len(line)
        if size >= JSONL_CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def not_exported(item: str, reason: str, reference: str = "") -> dict[str, str]:
    """A not-exported record in the JSON form the manifest reads back (see ``NotExported``)."""
    from offboarding.backup.manifest import NotExported

    return NotExported(item, reason, reference).to_dict()
