"""THE transfer algorithm: customers and customer groups of members → the successor, one outcome per item.

Used for on-job (在职继承, before the deletion) and resigned (离职继承, after it) transfers, by the person
operators (a list of one member) and the company batches (up to 200 members) alike.

Customers, per member:

1. a customer ``transfer_result`` already lists in a transfer to the successor is ``in_transfer``: not
   sent again (when the caller asks for that read: ``read_takeover``);
2. a customer that failed on an earlier try (``previous``) keeps that record: WeCom refused it for a
   reason a resend does not change (e.g. 40128: transferred twice in 90 days);
3. the rest is sent in one ``transfer_customer`` (≤ 100 per HTTP call) and gets WeCom's answer per customer.

Customer groups, across members: over each owner's daily allowance (300 a day to one new owner) they are
``deferred``; groups that failed before keep their record; the rest go 100 per call, WeCom's answer per group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offboarding.steps.corp import WeComCorp
from offboarding.steps.outcomes import (
    ALLOWANCE_USED_UP,
    GROUP_TRANSFERS_PER_DAY,
    failed_call,
    group_outcomes,
    outcomes_of,
)
from offboarding.steps.takeover import CustomerTakeover, read_takeover_status, status_name
from offboarding.wecom.customer_contacts import GROUP_TRANSFER_MAX
from offboarding.wecom.errors import WeComDataError
from offboarding.wecom.paging import chunked

Items = dict[str, dict[str, Any]]
"""Per-item outcomes: ``{"wm_x": {"outcome": "failed", "errcode": 40128, "errmsg": "..."}}``."""
RefusedCall = Callable[[WeComDataError], bool]
"""Whether a whole call WeCom refused becomes a ``failed`` record per item (True) or is raised (False)."""


def never(err: WeComDataError) -> bool:
    """A refused call is raised: the task fails and is retried."""
    return False


def always(err: WeComDataError) -> bool:
    """A refused call is recorded per item (kept for the report), whatever WeCom said."""
    return True


@dataclass
class Transfer:
    """One member's transfer: every item's outcome and what was sent now."""

    items: Items = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)


def allowance_left(used_today: int) -> int:
    """Groups one owner may still hand to one new owner today."""
    return max(GROUP_TRANSFERS_PER_DAY - used_today, 0)


def deferred(chats: Sequence[str]) -> Items:
    """Groups over today's allowance: sent on a later day."""
    return {chat: {"outcome": "deferred", "reason": ALLOWANCE_USED_UP} for chat in chats}


def failed_before(previous: Mapping[str, Mapping[str, Any]] | None, item: str) -> dict[str, Any] | None:
    """The earlier ``failed`` record of ``item``, if any."""
    record = (previous or {}).get(item)
    return dict(record) if record and record.get("outcome") == "failed" else None


def transfer_customers(
    corp: WeComCorp,
    successor: str,
    customers_of: Mapping[str, Sequence[str]],
    *,
    resigned: bool,
    read_takeover: bool = True,
    previous: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    refused_call: RefusedCall = never,
    on_member: Callable[[str, Transfer], None] | None = None,
) -> dict[str, Transfer]:
    """Hand each member's customers to ``successor``; returns each member's :class:`Transfer`.

    :param customers_of: member → the customers to hand over (from WeCom or from the verified backup).
    :param read_takeover: read ``transfer_result`` first and leave out customers already in transfer.
    :param previous: member → the per-customer records of an earlier try.
    :param refused_call: which refusals of a whole call are recorded per customer instead of raised.
    :param on_member: told after each member (e.g. to save progress before the next one).
    """
    contacts = corp.customer_contacts
    done: dict[str, Transfer] = {}
    for member, customers in customers_of.items():
        known = read_takeover_status(contacts, member, successor).customers if read_takeover else {}
        earlier = (previous or {}).get(member)
        transfer = Transfer()
        for customer in customers:
            if customer in known:
                transfer.items[customer] = _in_transfer(known[customer], resigned=resigned)
            elif (record := failed_before(earlier, customer)) is not None:
                transfer.items[customer] = record
            else:
                transfer.sent.append(customer)
        if transfer.sent:
            try:
                results = contacts.transfer_customers(member, successor, transfer.sent, resigned=resigned)
                transfer.items.update(outcomes_of(results))
            except WeComDataError as err:
                if not refused_call(err):
                    raise
                transfer.items.update(failed_call(transfer.sent, err.errcode, err.message))
        done[member] = transfer
        if on_member is not None:
            on_member(member, transfer)
    return done


def _in_transfer(takeover: CustomerTakeover, *, resigned: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"outcome": "in_transfer"}
    if resigned:
        record["kind"] = takeover.kind
    record["status"] = status_name(takeover.status)
    return record


def transfer_groups(
    corp: WeComCorp,
    successor: str,
    groups_of: Mapping[str, Sequence[str]],
    *,
    resigned: bool,
    used_today: Mapping[str, int] | None = None,
    previous: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    on_chunk: Callable[[Mapping[str, Items]], None] | None = None,
) -> dict[str, Transfer]:
    """Hand the members' customer groups to ``successor``, 100 per call across owners.

    :param groups_of: owner → the groups to hand over.
    :param used_today: owner → groups already handed to ``successor`` today (the allowance is 300).
    :param previous: owner → the per-group records of an earlier try (failed ones are not sent again).
    :param on_chunk: told after each call, with owner → that call's per-group outcomes.
    """
    done: dict[str, Transfer] = {}
    owner_of: dict[str, str] = {}
    for owner, chats in groups_of.items():
        transfer = Transfer()
        candidates = []
        for chat in chats:
            if (record := failed_before((previous or {}).get(owner), chat)) is not None:
                transfer.items[chat] = record
            else:
                candidates.append(chat)
        room = allowance_left((used_today or {}).get(owner, 0))
        transfer.sent = candidates[:room]
        owner_of.update(dict.fromkeys(transfer.sent, owner))
        done[owner] = transfer
        later = deferred(candidates[room:])
        if later:
            done[owner].items.update(later)
    for chunk in chunked(list(owner_of), GROUP_TRANSFER_MAX):
        results = corp.customer_contacts.transfer_group_chats(chunk, successor, resigned=resigned)
        by_owner: dict[str, Items] = {}
        for chat, outcome in group_outcomes(results).items():
            by_owner.setdefault(owner_of[chat], {})[chat] = outcome
        for owner, outcomes in by_owner.items():
            done[owner].items.update(outcomes)
        if on_chunk is not None:
            on_chunk(by_owner)
    return done
