"""Wait, without holding a worker slot, until WeCom has settled every customer handed to the successor.

WeCom takes a transferred customer over automatically 24 h after the transfer (status 2 → 1), unless
the customer refuses (3) or the successor is at the customer limit (4). :class:`WaitForCustomerTakeoverSensor`
reads ``transfer_result`` (on-job and resigned, for member → successor) once; if something is still
waiting it defers to :class:`~offboarding.triggers.takeover.CustomerTakeoverTrigger`, which re-reads every
``handover.transfer_result_poll_minutes`` of the duration policy (divided by the case's ``time_scale``
in a rehearsal) until all are final. Then it writes ``handover/takeover_results.json``, records the
outcome (and the refused / limit customers for follow-up) in the ledger and returns counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator

if TYPE_CHECKING:
    from offboarding.steps.takeover import TakeoverStatus

TAKEOVER_RESULTS_PATH = "handover/takeover_results.json"
FOLLOW_UP = {
    "refused": "the customer refused the successor: the successor contacts the customer again, or the "
    "relationship ends",
    "limit_reached": "the successor has reached WeCom's customer limit: free capacity or choose another "
    "successor, then hand these customers over again",
}


class WaitForCustomerTakeoverSensor(CaseOperator):
    """Deferred wait on ``transfer_result`` until no customer of member → successor is waiting.

    A sensor in Airflow's sense (it waits for a condition, deferred), but not a ``BaseSensorOperator``: a
    sensor's default timeout (7 days) could cut the wait. The task defers
    with ``timeout=None`` and ``execution_timeout`` is forced to None (it counts across deferrals).
    Returns ``{"member", "successor", "customers", "taken_over", "refused", "limit_reached", "file"}``.
    """

    ui_color = "#f3e4c1"

    def __init__(self, **kwargs: Any) -> None:
        ignored_timeout = kwargs.pop("execution_timeout", None)
        super().__init__(execution_timeout=None, **kwargs)
        if ignored_timeout is not None:
            self.log.warning(
                "%s: execution_timeout=%s ignored: it counts across deferrals and would cut the takeover wait",
                self.task_id,
                ignored_timeout,
            )

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import handover_pair
        from offboarding.steps.takeover import read_takeover_status
        from offboarding.triggers.takeover import CustomerTakeoverTrigger

        member, successor = handover_pair(case)
        interval = self._poll_interval(case)
        status = read_takeover_status(self.hook.customer_contacts, member, successor)
        if status.all_final:
            return self._finish(case, status)
        counts = status.counts()
        self.log.info(
            "%d of %d customers of %s are still waiting for %s to take them over; checking again every "
            "%.1f s until all are final",
            counts["waiting"],
            counts["customers"],
            member,
            successor,
            interval,
        )
        self.defer(
            trigger=CustomerTakeoverTrigger(
                wecom_conn_id=case.wecom_conn_id,
                handover_userid=member,
                takeover_userid=successor,
                poll_interval_seconds=interval,
                anchor=pendulum.now("UTC"),
            ),
            method_name="execute_complete",
            timeout=None,
        )
        raise AssertionError("unreachable: defer() raises TaskDeferred")  # pragma: no cover

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: read the final results once more and record them."""
        case = Case.from_context(context)
        self._case = case
        if not event or event.get("status") != "final":
            message = (event or {}).get("message") or f"unexpected event {event!r}"
            raise AirflowFailException(
                f"the wait for the customer takeover stopped: {message}; fix the cause (connection, member "
                "ids), then clear this task"
            )
        return self.run(case, context)

    def _poll_interval(self, case: Case) -> float:
        from offboarding.policy import PolicyError, get_policy
        from offboarding.steps.takeover import poll_interval_seconds

        try:
            scale = case.time_scale
            scale.require_sandbox(self.hook.base_url, conn_id=case.wecom_conn_id)
            policy_interval = get_policy().handover.transfer_result_poll_interval
        except (PolicyError, ValueError) as err:
            raise AirflowFailException(str(err)) from None
        return poll_interval_seconds(policy_interval, scale)

    def _finish(self, case: Case, status: TakeoverStatus) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps.takeover import LIMIT_REACHED, REFUSED

        member, successor = status.member, status.successor
        counts = status.counts()
        case.store.write_json(
            case.case_id,
            TAKEOVER_RESULTS_PATH,
            {
                "member": member,
                "successor": successor,
                "checked_at": datetime.now(UTC).isoformat(),
                "counts": counts,
                "notes": list(status.notes),
                "customers": [t.to_dict() for t in status.customers.values()],
            },
            source="wecom:transfer_result",
        )
        summary = {"member": member, "successor": successor, **counts, "file": TAKEOVER_RESULTS_PATH}
        record_evidence(
            case,
            self.task_id,
            "customers.takeover_settled",
            key=member,
            request={"member": member, "successor": successor},
            result=summary,
        )
        for note in status.notes:
            self.log.warning("%s", note)
        follow_up = {
            "refused": status.with_status(REFUSED),
            "limit_reached": status.with_status(LIMIT_REACHED),
        }
        if any(follow_up.values()):
            record_evidence(
                case,
                self.task_id,
                "customers.takeover_follow_up",
                key=member,
                request={"member": member, "successor": successor},
                result={
                    **{name: ids for name, ids in follow_up.items() if ids},
                    "what_to_do": {name: FOLLOW_UP[name] for name, ids in follow_up.items() if ids},
                },
            )
            for name, ids in follow_up.items():
                if ids:
                    self.log.warning(
                        "%d customers %s: %s — %s", len(ids), name, ", ".join(ids[:20]), FOLLOW_UP[name]
                    )
        self.log.info(
            "Every customer of %s is settled: %d taken over by %s, %d refused, %d at the successor's limit",
            member,
            counts["taken_over"],
            successor,
            counts["refused"],
            counts["limit_reached"],
        )
        return summary
