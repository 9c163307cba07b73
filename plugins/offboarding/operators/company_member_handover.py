"""Hand a batch's customers and customer groups to the successor: on-job before deletion, resigned after.

* Customers (在职继承): one ``externalcontact/transfer_customer`` call per member (≤ 100 customers per
  call; WeCom takes one handover user per call), saved per member.
* Customer groups: ``groupchat/onjob_transfer`` takes groups of several owners at once, 100 per call;
  each owner hands at most 300 groups a day to one new owner (WeCom's rule), the rest is deferred.
  Saved per call, per group, so a retry never sends a group twice.
* After deletion (离职继承): what failed or was deferred on-job goes through
  ``resigned/transfer_customer`` and ``groupchat/transfer``, saved per member.

Per-item outcomes use the words of :func:`offboarding.operators.handover.outcomes_of`: ``started``,
``in_progress``, ``deferred``, ``failed`` (+ errcode).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from offboarding.operators.backup_common import MEMBER_GONE_ERRCODES
from offboarding.operators.company_member_backup import Holdings
from offboarding.operators.company_member_progress import BatchProgress
from offboarding.operators.handover import (
    GROUP_DAILY_LIMIT_ERRCODES,
    GROUP_TRANSFERS_PER_DAY,
    outcomes_of,
)
from offboarding.wecom.customer_contacts import GROUP_TRANSFER_MAX
from offboarding.wecom.errors import WeComDataError
from offboarding.wecom.paging import chunked

HANDED_OVER = frozenset({"started", "in_progress"})
RETRY_AFTER_DELETION = frozenset({"failed", "deferred"})
OWNER_UNCHANGED_ERRCODE = 90504
"""群主没变: the successor already owns the group (a retry resent a call whose answer was lost)."""


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


def _group_outcomes(results: Any) -> dict[str, dict[str, Any]]:
    """Per-group outcomes; a group the successor already owns counts as handed over."""
    items = outcomes_of(results, deferred_errcodes=GROUP_DAILY_LIMIT_ERRCODES)
    for chat, outcome in items.items():
        if outcome.get("errcode") == OWNER_UNCHANGED_ERRCODE:
            items[chat] = {"outcome": "in_progress", "note": "the successor already owns this group (90504)"}
    return items


def _summary(items: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Counts plus the items that were not handed over (with WeCom's answer)."""
    outcomes = [str(v.get("outcome")) for v in items.values()]
    return {
        "sent": len(items),
        "started": outcomes.count("started"),
        "in_progress": outcomes.count("in_progress"),
        "failed": {
            k: {"errcode": v.get("errcode"), "errmsg": v.get("errmsg")}
            for k, v in items.items()
            if v.get("outcome") == "failed"
        },
        "deferred": [k for k, v in items.items() if v.get("outcome") == "deferred"],
    }


def _gone(items: Sequence[str], err: WeComDataError) -> dict[str, dict[str, Any]]:
    """Every item of a member WeCom no longer knows: failed with that answer (kept for the report)."""
    return {item: {"outcome": "failed", "errcode": err.errcode, "errmsg": err.message} for item in items}


def allowance_left(record: Mapping[str, Any], day: date) -> int:
    """Groups this member may still hand to the successor today (300 a day per owner and new owner)."""
    used = int((record.get("group_transfers") or {}).get(day.isoformat(), 0))
    return max(GROUP_TRANSFERS_PER_DAY - used, 0)


def _count_group_transfers(record: dict[str, Any], day: date, started: int) -> None:
    if started:
        per_day = record.setdefault("group_transfers", {})
        per_day[day.isoformat()] = int(per_day.get(day.isoformat(), 0)) + started


def hand_over_customers(
    hook: Any, progress: BatchProgress, userids: Sequence[str], successor: str, holdings: Holdings
) -> int:
    """On-job transfer of each member's customers to ``successor``; returns how many calls were made."""
    calls = 0
    for userid in userids:
        record = progress.record(userid)
        if record.get("customers") is not None:
            continue  # done by an earlier try
        customers = holdings.customers_of(userid)
        items: dict[str, dict[str, Any]] = {}
        if customers:
            calls += 1
            try:
                results = hook.customer_contacts.transfer_customers(
                    userid, successor, customers, resigned=False
                )
                items = outcomes_of(results)
            except WeComDataError as err:
                if err.errcode not in MEMBER_GONE_ERRCODES:
                    raise
                items = _gone(customers, err)
        record["customers"] = _summary(items)
        progress.step_done(userid, "customers")
    return calls


def hand_over_groups(
    hook: Any, progress: BatchProgress, userids: Sequence[str], successor: str, holdings: Holdings, day: date
) -> int:
    """On-job transfer of the members' customer groups, 100 per call across owners; returns the calls."""
    to_send: list[tuple[str, str]] = []
    for userid in userids:
        record = progress.record(userid)
        groups = record.setdefault("groups", {"items": {}, "done": False})
        if groups.get("done"):
            continue
        left = [c for c in holdings.groups_of(userid) if c not in groups["items"]]
        room = allowance_left(record, day) - sum(1 for _, owner in to_send if owner == userid)
        to_send.extend((chat, userid) for chat in left[: max(room, 0)])
        for chat in left[max(room, 0) :]:
            groups["items"][chat] = {"outcome": "deferred", "reason": "daily allowance of 300 groups used up"}
    owner_of = dict(to_send)
    calls = 0
    for chunk in chunked([chat for chat, _ in to_send], GROUP_TRANSFER_MAX):
        calls += 1
        results = hook.customer_contacts.transfer_group_chats(chunk, successor, resigned=False)
        items = _group_outcomes(results)
        for chat, outcome in items.items():
            record = progress.record(owner_of[chat])
            record["groups"]["items"][chat] = outcome
            if outcome["outcome"] in HANDED_OVER:
                _count_group_transfers(record, day, 1)
        progress.save()
    for userid in userids:
        groups = progress.record(userid)["groups"]
        if not groups.get("done"):
            summary = _summary(groups["items"])
            groups.update(done=True, started=summary["started"], in_progress=summary["in_progress"])
    progress.save()
    return calls


def transfer_resigned(
    hook: Any, progress: BatchProgress, userids: Sequence[str], successor: str, day: date
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
        items: dict[str, dict[str, Any]] = {}
        if customers:
            calls += 1
            try:
                results = hook.customer_contacts.transfer_customers(
                    userid, successor, customers, resigned=True
                )
                items.update(outcomes_of(results))
            except WeComDataError as err:
                items.update(_gone(customers, err))
        room = allowance_left(record, day)
        if groups[:room]:
            calls += 1
            results = hook.customer_contacts.transfer_group_chats(groups[:room], successor, resigned=True)
            group_outcomes = _group_outcomes(results)
            items.update(group_outcomes)
            _count_group_transfers(
                record, day, sum(1 for v in group_outcomes.values() if v["outcome"] in HANDED_OVER)
            )
        items.update({c: {"outcome": "deferred", "reason": "daily allowance used up"} for c in groups[room:]})
        summary = _summary(items)
        before = previous or {"customers_started": 0, "groups_started": 0, "failed": {}}
        record["resigned"] = {
            "customers_started": before["customers_started"]
            + sum(1 for c in customers if items[c]["outcome"] in HANDED_OVER),
            "groups_started": before["groups_started"]
            + sum(1 for c in groups if items[c]["outcome"] in HANDED_OVER),
            "failed": {**before["failed"], **summary["failed"]},
            "deferred": summary["deferred"],
        }
        progress.step_done(userid, "resigned")
    return calls
