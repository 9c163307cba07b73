"""离职继承 of one person: after the deletion, their remaining customers and groups → the successor.

Customers: the member's entries in ``get_unassigned_list``, minus those already in a transfer to the
successor and those that failed before → ``resigned/transfer_customer``. Groups: ``groupchat/list``
status 1 owned by the member → ``groupchat/transfer`` (≤ 300 a day). Both lists shrink as WeCom works,
so a rerun sends only what is left. The transfer itself is :mod:`.transfer`, as for the company batches.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from offboarding.backup.storage import BackupStore
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.steps.corp import WeComCorp
from offboarding.steps.handover_files import (
    CUSTOMERS_RESIGNED_PATH,
    GROUPS_RESIGNED_PATH,
    transfer_customers_with_file,
    transfer_groups_with_file,
)
from offboarding.steps.outcomes import errcode_counts, handed_over

RESIGNED_GROUPS_STATUS = 1
"""``groupchat/list`` status_filter: groups whose owner left, awaiting inheritance."""


def inherit_customers(
    corp: WeComCorp, store: BackupStore, case_id: str, member: str, successor: str
) -> dict[str, Any]:
    """The deleted member's unassigned customers → ``successor``; counts and the results file."""
    unassigned = list(
        dict.fromkeys(
            str(i["external_userid"])
            for i in corp.customer_contacts.iter_unassigned()
            if i.get("handover_userid") == member
        )
    )
    transfer, counts = transfer_customers_with_file(
        corp, store, case_id, CUSTOMERS_RESIGNED_PATH, member, successor, unassigned, resigned=True
    )
    return {
        "customers": len(unassigned),
        "customers_sent": len(transfer.sent),
        "customers_started": counts.get("started", 0) + counts.get("in_progress", 0),
        "customers_in_transfer_before": counts.get("in_transfer", 0),
        "customers_failed": counts.get("failed", 0),
        "customers_failed_errcodes": errcode_counts(transfer.items),
        "customers_file": CUSTOMERS_RESIGNED_PATH,
    }


def inherit_customer_groups(
    corp: WeComCorp, store: BackupStore, ledger: EvidenceLedger, case_id: str, member: str, successor: str
) -> tuple[dict[str, Any], date]:
    """The deleted member's groups awaiting inheritance → ``successor``; counts and the day (Asia/Shanghai)
    they count toward (``groups_started`` is what this try handed over)."""
    waiting = [
        g["chat_id"]
        for g in corp.customer_contacts.iter_group_chats(owner=member, status_filter=RESIGNED_GROUPS_STATUS)
    ]
    transfer, counts, day = transfer_groups_with_file(
        corp, store, ledger, case_id, GROUPS_RESIGNED_PATH, member, successor, waiting, resigned=True
    )
    return {
        "groups": len(waiting),
        "groups_sent": len(transfer.sent),
        "groups_started": handed_over(transfer.items, among=transfer.sent),
        "groups_failed": counts.get("failed", 0),
        "groups_deferred": counts.get("deferred", 0),
        "groups_failed_errcodes": errcode_counts(transfer.items),
        "groups_file": GROUPS_RESIGNED_PATH,
    }, day
