"""A person's handover results files and the ledger's count of today's group transfers.

Results files live in the case's backup folder and hold one record per item::

    {"member": "lisi", "successor": "wangwu", "updated_at": "...", "counts": {"started": 10, ...},
     "items": {"wm_lisi_001": {"outcome": "started"}, "wm_lisi_011": {"outcome": "failed",
               "errcode": 40128, "errmsg": "..."}}}

A rerun reads the file first (:func:`load_outcomes`), so items that failed before are not sent again:
:func:`transfer_customers_with_file` and :func:`transfer_groups_with_file` wrap the transfer algorithm
(:mod:`.transfer`) in that read and the write after it, for one person (on-job or resigned).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from offboarding.backup.storage import BackupStore
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.steps.corp import WeComCorp
from offboarding.steps.outcomes import china_today, count_outcomes
from offboarding.steps.transfer import Transfer, transfer_customers, transfer_groups

CUSTOMERS_ONJOB_PATH = "handover/customers_onjob.json"
GROUPS_ONJOB_PATH = "handover/customer_groups_onjob.json"
TAGS_AND_CHATS_PATH = "handover/tags_and_chats.json"
CUSTOMERS_RESIGNED_PATH = "handover/customers_resigned.json"
GROUPS_RESIGNED_PATH = "handover/customer_groups_resigned.json"

GROUP_ALLOWANCE_ACTIONS = ("customer_groups.handed_over", "customer_groups.inherited")
"""Ledger actions whose ``started`` counts toward the daily group allowance."""


def load_outcomes(
    store: BackupStore, case_id: str, relpath: str, member: str, successor: str
) -> dict[str, dict[str, Any]]:
    """Per-item outcomes a previous try wrote to ``relpath`` for the same member and successor."""
    if not store.exists(case_id, relpath):
        return {}
    previous = json.loads(store.read_bytes(case_id, relpath))
    if not isinstance(previous, Mapping) or (previous.get("member"), previous.get("successor")) != (
        member,
        successor,
    ):
        return {}
    items = previous.get("items")
    return {str(k): dict(v) for k, v in items.items()} if isinstance(items, Mapping) else {}


def save_outcomes(
    store: BackupStore,
    case_id: str,
    relpath: str,
    member: str,
    successor: str,
    items: Mapping[str, Mapping[str, Any]],
    **extra: Any,
) -> dict[str, int]:
    """Write the per-item outcomes file; returns the count per outcome."""
    counts = count_outcomes(items)
    store.write_json(
        case_id,
        relpath,
        {
            "member": member,
            "successor": successor,
            "updated_at": datetime.now(UTC).isoformat(),
            "counts": counts,
            "items": {k: dict(v) for k, v in items.items()},
            **extra,
        },
        source="handover",
    )
    return counts


def groups_started_on(ledger: EvidenceLedger, member: str, successor: str, day: date) -> int:
    """Customer groups already handed from ``member`` to ``successor`` on ``day``, per the ledger."""
    started = 0
    for entry in ledger.entries():
        if entry.action not in GROUP_ALLOWANCE_ACTIONS or entry.key != member:
            continue
        result = entry.result if isinstance(entry.result, Mapping) else {}
        if result.get("successor") == successor and result.get("day") == day.isoformat():
            started += int(result.get("started") or 0)
    return started


def transfer_customers_with_file(
    corp: WeComCorp,
    store: BackupStore,
    case_id: str,
    relpath: str,
    member: str,
    successor: str,
    customers: list[str],
    *,
    resigned: bool,
) -> tuple[Transfer, dict[str, int]]:
    """Hand ``customers`` to ``successor`` (not those in transfer or failed before); save the file."""
    previous = load_outcomes(store, case_id, relpath, member, successor)
    transfer = transfer_customers(
        corp, successor, {member: customers}, resigned=resigned, previous={member: previous}
    )[member]
    return transfer, save_outcomes(store, case_id, relpath, member, successor, transfer.items)


def transfer_groups_with_file(
    corp: WeComCorp,
    store: BackupStore,
    ledger: EvidenceLedger,
    case_id: str,
    relpath: str,
    member: str,
    successor: str,
    chats: list[str],
    *,
    resigned: bool,
) -> tuple[Transfer, dict[str, int], date]:
    """Hand ``chats`` to ``successor`` within today's allowance (counted from the ledger); save the file.
    Returns the transfer, the counts and the day (Asia/Shanghai) it counts toward."""
    previous = load_outcomes(store, case_id, relpath, member, successor)
    day = china_today()
    transfer = transfer_groups(
        corp,
        successor,
        {member: chats},
        resigned=resigned,
        used_today={member: groups_started_on(ledger, member, successor, day)},
        previous={member: previous},
    )[member]
    counts = save_outcomes(store, case_id, relpath, member, successor, transfer.items, day=day.isoformat())
    return transfer, counts, day
