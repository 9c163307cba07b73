"""Hand a batch's customers and customer groups to the successor: on-job before deletion, resigned after.

The company's form of the handover, on a list of up to 200 members, with the same transfer algorithm as
a person's (:mod:`.transfer`), what each member holds read from the batch's verified backup, and each
member's outcome saved in the batch's progress (:mod:`.progress`) so a retry never sends anything twice:

* customers (在职继承): one ``externalcontact/transfer_customer`` call per member, saved per member;
* customer groups: ``groupchat/onjob_transfer`` takes groups of several owners at once, 100 per call;
  each owner hands at most 300 groups a day to one new owner, the rest is deferred; saved per call;
* after deletion (离职继承): what failed or was deferred on-job goes through
  ``resigned/transfer_customer`` and ``groupchat/transfer``, saved per member.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from offboarding.steps.corp import WeComCorp, is_member_gone
from offboarding.steps.member_backup import Holdings
from offboarding.steps.outcomes import HANDED_OVER, RETRY_AFTER_DELETION, handed_over, not_handed_over
from offboarding.steps.progress import BatchProgress
from offboarding.steps.transfer import (
    Items,
    Transfer,
    always,
    transfer_customers,
    transfer_groups,
)
from offboarding.wecom.customer_contacts import GROUP_TRANSFER_MAX


def groups_handed_over(record: Mapping[str, Any]) -> list[str]:
    """The customer groups of a member's progress record that went to the successor: on-job, or
    inherited after the deletion (sent again and neither refused nor deferred)."""
    items = (record.get("groups") or {}).get("items") or {}
    resigned = record.get("resigned")
    not_inherited = set((resigned or {}).get("failed") or {}) | set((resigned or {}).get("deferred") or [])
    return [
        chat
        for chat, item in items.items()
        if item.get("outcome") in HANDED_OVER
        or (
            resigned is not None and item.get("outcome") in RETRY_AFTER_DELETION and chat not in not_inherited
        )
    ]


def _summary(items: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Counts plus the items that were not handed over (with WeCom's answer)."""
    outcomes = [str(v.get("outcome")) for v in items.values()]
    return {
        "sent": len(items),
        "started": outcomes.count("started"),
        "in_progress": outcomes.count("in_progress"),
        **not_handed_over(items),
    }


def _used_today(record: Mapping[str, Any], day: date) -> int:
    return int((record.get("group_transfers") or {}).get(day.isoformat(), 0))


def _count_group_transfers(record: dict[str, Any], day: date, started: int) -> None:
    if started:
        per_day = record.setdefault("group_transfers", {})
        per_day[day.isoformat()] = int(per_day.get(day.isoformat(), 0)) + started


def hand_over_customers(
    corp: WeComCorp, progress: BatchProgress, userids: Sequence[str], successor: str, holdings: Holdings
) -> int:
    """On-job transfer of each member's customers to ``successor``; returns how many calls were made."""
    todo = {u: holdings.customers_of(u) for u in userids if progress.record(u).get("customers") is None}

    def save(userid: str, transfer: Transfer) -> None:
        progress.record(userid)["customers"] = _summary(transfer.items)
        progress.step_done(userid, "customers")

    done = transfer_customers(
        corp,
        successor,
        todo,
        resigned=False,
        read_takeover=False,
        refused_call=is_member_gone,
        on_member=save,
    )
    return sum(1 for transfer in done.values() if transfer.sent)


def hand_over_groups(
    corp: WeComCorp,
    progress: BatchProgress,
    userids: Sequence[str],
    successor: str,
    holdings: Holdings,
    day: date,
) -> int:
    """On-job transfer of the members' customer groups, 100 per call across owners; returns the calls."""
    groups_of: dict[str, list[str]] = {}
    for userid in userids:
        groups = progress.record(userid).setdefault("groups", {"items": {}, "done": False})
        if not groups.get("done"):
            groups_of[userid] = [c for c in holdings.groups_of(userid) if c not in groups["items"]]

    def save(by_owner: Mapping[str, Items]) -> None:
        for owner, outcomes in by_owner.items():
            record = progress.record(owner)
            record["groups"]["items"].update(outcomes)
            _count_group_transfers(record, day, handed_over(outcomes))
        progress.save()

    done = transfer_groups(
        corp,
        successor,
        groups_of,
        resigned=False,
        used_today={u: _used_today(progress.record(u), day) for u in groups_of},
        on_chunk=save,
    )
    for userid, transfer in done.items():
        groups = progress.record(userid)["groups"]
        groups["items"].update(transfer.items)
        summary = _summary(groups["items"])
        groups.update(done=True, started=summary["started"], in_progress=summary["in_progress"])
    progress.save()
    return math.ceil(sum(len(t.sent) for t in done.values()) / GROUP_TRANSFER_MAX)


def transfer_resigned(
    corp: WeComCorp, progress: BatchProgress, userids: Sequence[str], successor: str, day: date
) -> int:
    """离职继承 of what each deleted member still holds after the on-job handover; returns the calls.

    Groups over the day's allowance stay ``deferred``: a rerun on a later day hands them over.
    """
    calls = 0
    for userid in userids:
        record = progress.record(userid)
        previous = record.get("resigned")
        if previous is not None and not previous.get("deferred"):
            continue  # done by an earlier try
        if previous is None:
            customers = list((record.get("customers") or {}).get("failed") or {})
            group_items = (record.get("groups") or {}).get("items") or {}
            groups = [c for c, v in group_items.items() if v.get("outcome") in RETRY_AFTER_DELETION]
        else:
            customers, groups = [], list(previous["deferred"])
        items: Items = {}
        if customers:
            calls += 1
            transferred = transfer_customers(
                corp, successor, {userid: customers}, resigned=True, read_takeover=False, refused_call=always
            )
            items.update(transferred[userid].items)
        if groups:
            inherited = transfer_groups(
                corp,
                successor,
                {userid: groups},
                resigned=True,
                used_today={userid: _used_today(record, day)},
            )[userid]
            calls += 1 if inherited.sent else 0
            items.update(inherited.items)
            _count_group_transfers(record, day, handed_over(inherited.items, among=inherited.sent))
        summary = _summary(items)
        before = previous or {"customers_started": 0, "groups_started": 0, "failed": {}}
        record["resigned"] = {
            "customers_started": before["customers_started"] + handed_over(items, among=customers),
            "groups_started": before["groups_started"] + handed_over(items, among=groups),
            "failed": {**before["failed"], **summary["failed"]},
            "deferred": summary["deferred"],
        }
        progress.step_done(userid, "resigned")
    return calls
