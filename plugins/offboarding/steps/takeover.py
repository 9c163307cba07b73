"""Where the customers' takeover stands: ``transfer_result`` for (member, successor), classified.

WeCom takes a transferred customer over 24 h after the transfer started (status 2 "waiting" → 1 "taken
over"), unless the customer refuses (3) or the successor has reached the customer limit (4). Nothing
tells us when that happened except reading ``externalcontact/transfer_result`` (on-job) and
``externalcontact/resigned/transfer_result`` (resigned) for the (member, successor) pair again.

:func:`read_takeover_status` is the one place that reads and classifies the results: the handover steps
(to leave out customers already in transfer), the takeover wait and its trigger all call it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from offboarding.timescale import TimeScale
from offboarding.wecom.errors import WeComDataError

if TYPE_CHECKING:
    from offboarding.wecom.customer_contacts import CustomerContacts

TAKEN_OVER, WAITING, REFUSED, LIMIT_REACHED = 1, 2, 3, 4
STATUS_NAMES = {
    TAKEN_OVER: "taken_over",
    WAITING: "waiting",
    REFUSED: "refused",
    LIMIT_REACHED: "limit_reached",
}
"""``transfer_result`` status → the word used in files, XCom and the ledger. Only 2 is not final;
any other value (e.g. 5 "no record", reported by the community) is final and named ``status_<n>``."""

MEMBER_UNKNOWN_ERRCODES = frozenset({60111, 40003})
"""``transfer_result`` answers meaning WeCom does not know one of the two members."""

MIN_POLL_SECONDS = 0.5
"""Technical floor: however much a rehearsal compresses time, WeCom is not read more often than this."""


def status_name(status: int) -> str:
    """``taken_over``, ``waiting``, ``refused``, ``limit_reached``, or ``status_<n>`` for anything else."""
    return STATUS_NAMES.get(status, f"status_{status}")


@dataclass(frozen=True)
class CustomerTakeover:
    """Where one customer's handover stands: which transfer (``onjob``/``resigned``), status, takeover time."""

    external_userid: str
    kind: str
    status: int
    takeover_time: int

    @property
    def final(self) -> bool:
        return self.status != WAITING

    def to_dict(self) -> dict[str, Any]:
        return {
            "external_userid": self.external_userid,
            "kind": self.kind,
            "status": self.status,
            "status_name": status_name(self.status),
            "takeover_time": self.takeover_time,
        }


@dataclass(frozen=True)
class TakeoverStatus:
    """Every customer handed from ``member`` to ``successor`` (on-job and resigned), as WeCom reports it."""

    member: str
    successor: str
    customers: dict[str, CustomerTakeover] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def waiting(self) -> list[str]:
        """Customers WeCom has not taken over yet (status 2)."""
        return [c for c, t in self.customers.items() if not t.final]

    @property
    def all_final(self) -> bool:
        """True when no customer is waiting (also when there is none at all)."""
        return not self.waiting

    def with_status(self, status: int) -> list[str]:
        """The customers in ``status``."""
        return [c for c, t in self.customers.items() if t.status == status]

    def counts(self) -> dict[str, int]:
        """``{"customers": n, "taken_over": n, "waiting": n, "refused": n, "limit_reached": n, ...}``."""
        tally = Counter(status_name(t.status) for t in self.customers.values())
        counts = {"customers": len(self.customers)}
        counts.update({name: tally.get(name, 0) for name in STATUS_NAMES.values()})
        counts.update({name: n for name, n in tally.items() if name not in counts})
        return counts

    def latest_takeover_time(self) -> int | None:
        """The automatic takeover time (epoch seconds) of the last waiting customer, if WeCom gave one."""
        times = [t.takeover_time for t in self.customers.values() if not t.final and t.takeover_time]
        return max(times) if times else None


def read_takeover_status(customers: CustomerContacts, member: str, successor: str) -> TakeoverStatus:
    """Read both transfer results for (member, successor) and classify every customer.

    A customer listed by both (handed over on-job, then again after deletion) counts as waiting if either
    transfer is waiting, else as its resigned (later) transfer says. Whether WeCom still answers the on-job
    query once the member is deleted is UNCONFIRMED: if it answers "no such member" (60111/40003), the
    on-job results are left out and a note says so (the resigned query still fails for a wrong successor).
    """
    found: dict[str, CustomerTakeover] = {}
    notes: list[str] = []
    for kind, resigned in (("onjob", False), ("resigned", True)):
        try:
            items = list(customers.iter_transfer_results(member, successor, resigned=resigned))
        except WeComDataError as err:
            if resigned or err.errcode not in MEMBER_UNKNOWN_ERRCODES:
                raise
            notes.append(f"on-job transfer results unreadable: {err.message}")
            continue
        for item in items:
            external_userid = str(item.get("external_userid") or "")
            if not external_userid:
                continue
            record = CustomerTakeover(
                external_userid, kind, int(item.get("status") or 0), int(item.get("takeover_time") or 0)
            )
            earlier = found.get(external_userid)
            if earlier is None or earlier.final:
                found[external_userid] = record
    return TakeoverStatus(member, successor, found, tuple(notes))


def poll_interval_seconds(policy_interval: dt.timedelta, time_scale: float | TimeScale) -> float:
    """The policy's polling interval compressed by a rehearsal's ``time_scale`` (never below the floor)."""
    return TimeScale.parse(time_scale).poll_interval(policy_interval, floor_seconds=MIN_POLL_SECONDS)
