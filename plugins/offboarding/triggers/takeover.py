"""The triggerer side of the customer-takeover wait: re-read ``transfer_result`` until every customer is final.

WeCom takes a transferred customer over 24 h after the transfer started (status 2 "waiting" → 1 "taken
over"), unless the customer refuses (3) or the successor has reached the customer limit (4). Nothing
tells us when that happened except reading ``externalcontact/transfer_result`` (on-job) and
``externalcontact/resigned/transfer_result`` (resigned) for the (member, successor) pair again.

:class:`CustomerTakeoverTrigger` does exactly that and nothing else: WeCom reads only, the synchronous
client run in a thread (``asyncio.to_thread``) so the triggerer's event loop never blocks. It carries
ids, one number and one absolute instant, never a secret: the connection is looked up in the triggerer
(``BaseHook.aget_connection``). Polls happen at ``anchor + k × poll_interval_seconds``, so a trigger
re-created after a triggerer restart keeps the same rhythm; it polls once at start, then on that grid.

:func:`read_takeover_status` is the one place that reads and classifies the results; the waiting
operator (:mod:`offboarding.sensors.takeover`) and the handover operators use it too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import pendulum
from airflow.triggers.base import BaseTrigger, TriggerEvent

from offboarding.legal_time.clock import parse_instant
from offboarding.wecom.errors import WeComDataError, WeComError, WeComRateLimited, WeComTransientError

if TYPE_CHECKING:
    from offboarding.hooks.wecom import WeComHook
    from offboarding.wecom.customer_contacts import CustomerContacts

CLASSPATH = "offboarding.triggers.takeover.CustomerTakeoverTrigger"

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

T = TypeVar("T")


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


def poll_interval_seconds(policy_interval: dt.timedelta, time_scale: float) -> float:
    """The policy's polling interval compressed by a rehearsal's ``time_scale`` (never below the floor)."""
    seconds = policy_interval.total_seconds() / time_scale
    return max(seconds, MIN_POLL_SECONDS)


class CustomerTakeoverTrigger(BaseTrigger):
    """Fires once every customer handed from ``handover_userid`` to ``takeover_userid`` is final.

    :param wecom_conn_id: the Airflow Connection of the WeCom corp (looked up in the triggerer).
    :param handover_userid: the departing member.
    :param takeover_userid: the successor.
    :param poll_interval_seconds: seconds between two reads (the policy interval / time scale).
    :param anchor: absolute instant the polling grid starts at (polls at ``anchor + k × interval``).

    Events: ``{"status": "final", "counts": {...}, "checked_at": ISO}`` when all are final;
    ``{"status": "error", "message": ..., "errcode": ...}`` when WeCom refuses the read for a reason a
    retry cannot fix (configuration, unknown member). Transient failures are logged and retried at the
    next poll.
    """

    def __init__(
        self,
        wecom_conn_id: str,
        handover_userid: str,
        takeover_userid: str,
        poll_interval_seconds: float,
        anchor: dt.datetime | str,
    ) -> None:
        super().__init__()
        for name, value in (
            ("wecom_conn_id", wecom_conn_id),
            ("handover_userid", handover_userid),
            ("takeover_userid", takeover_userid),
        ):
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
        interval = float(poll_interval_seconds)
        if not math.isfinite(interval) or interval <= 0:
            raise ValueError(
                f"poll_interval_seconds must be a positive number, got {poll_interval_seconds!r}"
            )
        self.wecom_conn_id = wecom_conn_id
        self.handover_userid = handover_userid
        self.takeover_userid = takeover_userid
        self.poll_interval_seconds = interval
        self.anchor = parse_instant(anchor, "anchor")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "wecom_conn_id": self.wecom_conn_id,
                "handover_userid": self.handover_userid,
                "takeover_userid": self.takeover_userid,
                "poll_interval_seconds": self.poll_interval_seconds,
                "anchor": self.anchor,
            },
        )

    def seconds_to_next_poll(self, now: dt.datetime) -> float:
        """Seconds from ``now`` to the first instant ``anchor + k × interval`` (k = 0, 1, ...) after ``now``."""
        elapsed = (now - self.anchor).total_seconds()
        ticks = math.floor(elapsed / self.poll_interval_seconds) + 1
        return max(self.anchor.timestamp() + ticks * self.poll_interval_seconds - now.timestamp(), 0.0)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        member, successor = self.handover_userid, self.takeover_userid
        self.log.info(
            "Waiting until WeCom has settled every customer handed from %s to %s; reading transfer_result "
            "every %.1f s",
            member,
            successor,
            self.poll_interval_seconds,
        )
        try:
            hook = await self._hook()
        except Exception as err:  # the connection is missing or unusable: nothing a wait can fix
            yield TriggerEvent({"status": "error", "message": _describe(err), "errcode": None})
            return
        while True:
            try:
                status = await asyncio.to_thread(
                    read_takeover_status, hook.customer_contacts, member, successor
                )
            except (WeComTransientError, WeComRateLimited) as err:
                self.log.warning("Reading the transfer results failed for now (%s); trying again later", err)
            except (WeComError, ValueError) as err:
                yield TriggerEvent(
                    {"status": "error", "message": _describe(err), "errcode": getattr(err, "errcode", None)}
                )
                return
            else:
                counts = status.counts()
                if status.all_final:
                    yield TriggerEvent(
                        {"status": "final", "counts": counts, "checked_at": pendulum.now("UTC").isoformat()}
                    )
                    return
                latest = status.latest_takeover_time()
                self.log.info(
                    "%d of %d customers still waiting for the takeover%s",
                    counts["waiting"],
                    counts["customers"],
                    f" (WeCom's automatic takeover of the last one: "
                    f"{pendulum.from_timestamp(latest, 'Asia/Shanghai').isoformat()})"
                    if latest
                    else "",
                )
            await asyncio.sleep(self.seconds_to_next_poll(pendulum.now("UTC")))

    async def _hook(self) -> WeComHook:
        """The WeCom hook, with the connection looked up asynchronously (safe in the triggerer's loop)."""
        from airflow.sdk import BaseHook

        conn = await BaseHook.aget_connection(self.wecom_conn_id)
        return await asyncio.to_thread(_with_connection, conn, _make_hook, self.wecom_conn_id)


def _make_hook(conn_id: str) -> WeComHook:
    """A hook whose connection and customer-contact client are resolved now (reads only)."""
    from offboarding.hooks.wecom import WeComHook

    hook = WeComHook(conn_id)
    hook.customer_contacts  # noqa: B018 - resolve the connection and the secret now, in this thread
    return hook


def _with_connection(conn: Any, call: Callable[..., T], *args: Any) -> T:
    """Run ``call`` with ``conn`` already resolved for its conn_id, so the hook looks nothing up again.

    This is how Airflow's own ``Connection.test_connection`` hands a fetched connection to a hook; if a
    later Airflow drops that mechanism, the hook falls back to its normal lookup (which, from a worker
    thread in the triggerer, Airflow bridges to the event loop).
    """
    try:
        from airflow.sdk.execution_time.context import _preset_connections
    except ImportError:  # pragma: no cover - depends on the Airflow version
        return call(*args)
    outer = _preset_connections.get() or {}
    token = _preset_connections.set({**outer, conn.conn_id: conn})
    try:
        return call(*args)
    finally:
        _preset_connections.reset(token)


def _describe(err: BaseException) -> str:
    """A one-line, secret-free description (WeCom errors carry no secret or URL by construction)."""
    from offboarding.timescale import redact_url

    return redact_url(f"{type(err).__name__}: {err}")
