"""Airflow's human-in-the-loop record of an approval, kept in memory, for running the deletion operators
by ``execute(context)`` outside Airflow (the operator tests and the benchmarks).

The deletion operators count an approval only when Airflow's own record of the approval task says so
(:func:`offboarding.operators.approvers.check_airflow_approval` reads it over Airflow's REST API) and the
ledger's ``approval.approved`` entry was written by that answer. :class:`MemoryApprovalRecords` stands in
for the REST reader; :meth:`MemoryApprovalRecords.approve` does what happens in Airflow when an approver
answers: Airflow records the answer and ``ApproveDeletionOperator`` writes the ledger entry. The
end-to-end tests run the real thing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

ContextFactory = Callable[..., dict[str, Any]]
"""``make_context(params, *, task_id, run_id, user)`` -> the task context of the approval task."""


class MemoryApprovalRecords:
    """Airflow's human-in-the-loop records, as the REST API would return them (no api-server here)."""

    def __init__(self, make_context: ContextFactory) -> None:
        self.records: dict[tuple[str, str, str], Any] = {}
        self.make_context = make_context
        self.reads: list[tuple[str, str, str]] = []

    def read(self, dag_id: str, run_id: str, task_id: str) -> Any:
        self.reads.append((dag_id, run_id, task_id))
        return self.records.get((dag_id, run_id, task_id))

    def record(
        self,
        *,
        dag_id: str,
        run_id: str,
        task_id: str,
        ti_id: str,
        by: str | None,
        chosen: str = "Approve",
        assigned: tuple[str, ...] = ("approver",),
        at: dt.datetime | None = None,
    ) -> Any:
        from offboarding.operators.approvers import HumanStepRecord

        record = HumanStepRecord(
            ti_id=ti_id,
            run_id=run_id,
            assigned=assigned,
            response_received=True,
            responded_by=by,
            responded_at=at or dt.datetime.now(dt.UTC),
            chosen_options=(chosen,),
        )
        self.records[(dag_id, run_id, task_id)] = record
        return record

    def approve(
        self,
        params: dict[str, Any],
        *,
        by: str = "approver",
        chosen: str = "Approve",
        run_id: str | None = None,
        user: str = "ops",
        in_airflow: bool = True,
    ) -> Any:
        """Answer the case's approval task as ``by`` in run ``run_id`` (default: the case id).

        ``in_airflow=False`` writes only the ledger entry (an approval Airflow never saw).
        """
        from offboarding.cases import CASE_DAG_OF_KIND
        from offboarding.cases.case_ids import case_kind, first_case_id
        from offboarding.operators.approval import ApproveDeletionOperator
        from offboarding.operators.approvers import APPROVAL_TASK_IDS

        kind = case_kind(params)
        task_id = APPROVAL_TASK_IDS[kind]
        run_id = run_id or first_case_id(params)
        context = self.make_context(params, task_id=task_id, run_id=run_id, user=user)
        at = dt.datetime.now(dt.UTC)
        if in_airflow:
            self.record(
                dag_id=CASE_DAG_OF_KIND[kind],
                run_id=run_id,
                task_id=task_id,
                ti_id=str(context["ti"].id),
                by=by,
                chosen=chosen,
                assigned=tuple(params["approvers"]),
                at=at,
            )
        operator = ApproveDeletionOperator(task_id=task_id)
        event = {
            "chosen_options": [chosen],
            "params_input": {},
            "responded_at": at,
            "responded_by_user": {"id": by, "name": by},
        }
        return operator._record_answer(context, event)


@contextlib.contextmanager
def approvals_in_memory(make_context: ContextFactory) -> Iterator[MemoryApprovalRecords]:
    """Within the block, the deletion operators read Airflow's approval records from memory."""
    from offboarding.operators import approvers

    records = MemoryApprovalRecords(make_context)
    original = approvers.approval_records
    approvers.approval_records = lambda: records  # type: ignore[assignment]
    try:
        yield records
    finally:
        approvers.approval_records = original  # type: ignore[assignment]


__all__ = ["MemoryApprovalRecords", "approvals_in_memory"]
