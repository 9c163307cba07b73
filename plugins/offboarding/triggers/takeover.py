"""The triggerer side of the customer-takeover wait: re-read the takeover status until every customer is final.

:class:`CustomerTakeoverTrigger` only waits: it polls :func:`offboarding.steps.takeover.read_takeover_status`
(the core reader, which owns what the statuses mean) and nothing else: WeCom reads only, the synchronous
client run in a thread (``asyncio.to_thread``) so the triggerer's event loop never blocks. It carries
ids, one number and one absolute instant, never a secret: the connection is looked up in the triggerer
(``BaseHook.aget_connection``). Polls happen at ``anchor + k × poll_interval_seconds``, so a trigger
re-created after a triggerer restart keeps the same rhythm; it polls once at start, then on that grid.
The WeCom client is made in one place, :func:`_make_hook`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import pendulum
from airflow.triggers.base import BaseTrigger, TriggerEvent

from offboarding.legal_time.clock import parse_instant
from offboarding.steps.takeover import read_takeover_status
from offboarding.triggers.arguments import poll_seconds, require_names
from offboarding.triggers.shared_clients import shared_hook
from offboarding.wecom.errors import WeComError, WeComRateLimited, WeComTransientError

if TYPE_CHECKING:
    from offboarding.hooks.wecom import WeComHook

CLASSPATH = "offboarding.triggers.takeover.CustomerTakeoverTrigger"

T = TypeVar("T")


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
        require_names(
            wecom_conn_id=wecom_conn_id, handover_userid=handover_userid, takeover_userid=takeover_userid
        )
        interval = poll_seconds(poll_interval_seconds)
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
        return await asyncio.to_thread(_with_connection, conn, shared_hook, conn, _make_hook)  # one per corp


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
