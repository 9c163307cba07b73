"""Per-item outcomes of a handover: one record per customer, customer group, tag or chat.

The words, used in every results file, progress file and ledger entry:

* ``started`` — WeCom started the handover (customers: taken over after 24 h; groups: at once/24 h);
* ``in_progress`` — it was already under way (or the successor already owns the group, 90504);
* ``in_transfer`` — ``transfer_result`` already lists it in a transfer to the successor: not sent again;
* ``deferred`` — WeCom's daily group allowance is used up: sent on a later day;
* ``failed`` — WeCom refused it, with its ``errcode`` and ``errmsg`` (e.g. 40128, transferred too often).

An item is never dropped: whatever WeCom answers, the item keeps a record saying so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from offboarding.backup.retention import china_today as china_today  # WeCom's "day" for daily allowances
from offboarding.wecom.results import ItemResults

HANDED_OVER = frozenset({"started", "in_progress"})
"""Outcomes meaning the item went to the successor."""
RETRY_AFTER_DELETION = frozenset({"failed", "deferred"})
"""Outcomes an on-job handover leaves for the resigned transfer after the deletion."""

GROUP_TRANSFERS_PER_DAY = 300
"""WeCom's rule: at most 300 customer groups a day from one owner to one new owner (on-job and resigned)."""
GROUP_DAILY_LIMIT_ERRCODES = frozenset({90503})
"""Per-group answers meaning "today's allowance is used up": deferred, not failed. 90503 is the sandbox's
code; WeCom's real one is UNCONFIRMED (the 300/day rule itself is documented)."""
OWNER_UNCHANGED_ERRCODE = 90504
"""群主没变: the successor already owns the group (a retry resent a call whose answer was lost)."""
ALLOWANCE_USED_UP = "daily allowance used up"


def outcomes_of(results: ItemResults, *, deferred_errcodes: Iterable[int] = ()) -> dict[str, dict[str, Any]]:
    """Per-item records of a bulk call: ``started``, ``in_progress``, ``deferred`` or ``failed`` (+ errcode)."""
    deferred = frozenset(deferred_errcodes)
    items: dict[str, dict[str, Any]] = {i: {"outcome": "started"} for i in results.succeeded}
    items.update({i: {"outcome": "in_progress"} for i in results.in_progress})
    for failure in results.failed:
        outcome = "deferred" if failure.errcode in deferred else "failed"
        items[failure.item] = {"outcome": outcome, "errcode": failure.errcode, "errmsg": failure.errmsg}
    return items


def group_outcomes(results: ItemResults) -> dict[str, dict[str, Any]]:
    """Per-group records: over the daily allowance is deferred; a group the successor already owns
    (90504) counts as handed over."""
    items = outcomes_of(results, deferred_errcodes=GROUP_DAILY_LIMIT_ERRCODES)
    for chat, outcome in items.items():
        if outcome.get("errcode") == OWNER_UNCHANGED_ERRCODE:
            items[chat] = {"outcome": "in_progress", "note": "the successor already owns this group (90504)"}
    return items


def failed_call(items: Iterable[str], errcode: int | None, errmsg: str) -> dict[str, dict[str, Any]]:
    """Every item of a call WeCom refused as a whole (e.g. the member is gone): failed with that answer."""
    return {item: {"outcome": "failed", "errcode": errcode, "errmsg": errmsg} for item in items}


def errcode_counts(items: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How many failed items per errcode (``{"40128": 1}``)."""
    return dict(Counter(str(v.get("errcode")) for v in items.values() if v.get("outcome") == "failed"))


def count_outcomes(items: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How many items per outcome (``{"started": 10, "failed": 1}``)."""
    return dict(Counter(str(v.get("outcome")) for v in items.values()))


def handed_over(items: Mapping[str, Mapping[str, Any]], among: Iterable[str] | None = None) -> int:
    """How many of ``items`` (or of those named in ``among``) went to the successor."""
    names = items if among is None else among
    return sum(1 for name in names if items.get(name, {}).get("outcome") in HANDED_OVER)


def not_handed_over(items: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The items that were not handed over: ``failed`` with WeCom's answer, ``deferred`` by name."""
    return {
        "failed": {
            k: {"errcode": v.get("errcode"), "errmsg": v.get("errmsg")}
            for k, v in items.items()
            if v.get("outcome") == "failed"
        },
        "deferred": [k for k, v in items.items() if v.get("outcome") == "deferred"],
    }
