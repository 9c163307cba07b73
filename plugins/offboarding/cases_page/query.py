"""One page of cases in ONE SELECT against Airflow's metadata database.

The statement (two CTEs and outer joins, portable between PostgreSQL and SQLite):

* ``page`` — the page's DAG runs of the case DAGs, filtered (kind, run state, one run, "has a
  waiting step" for the stalled filter), newest first, ``LIMIT``/``OFFSET``, with the total number of
  matching runs computed by a window function before the limit;
* ``tis`` — the task instances of those runs that matter on the page: the current ones (waiting,
  failed, queued) and every answered human step (for the audit column), with their human-step
  detail (owners, who answered, when);
* joined with each step's ``expected_by`` XCom and, for legal waits, its rendered fields (the
  deadline).

No query per case: a page of 50 cases is one round trip whatever the number of cases in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from offboarding.alerting.steps import FAILED_STATE, WAITING_STATES
from offboarding.cases import COMPANY_DAG_ID, PERSON_DAG_ID

CASE_DAG_IDS = (PERSON_DAG_ID, COMPANY_DAG_ID)
KINDS = {"person": PERSON_DAG_ID, "company": COMPANY_DAG_ID}
RUN_STATES = ("queued", "running", "success", "failed")
#: Steps shown as "current" on a case.
CURRENT_STATES = (*WAITING_STATES, FAILED_STATE, "queued", "scheduled", "restarting", "up_for_reschedule")
LEGAL_WAIT_OPERATORS = ("WaitForLegalDeadlineOperator",)
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class CaseFilters:
    """What the ops engineer asked to see; :meth:`checked` names the bad field before any query."""

    kind: str | None = None  # "person" | "company"
    state: str | None = None  # the run's state
    stalled: bool | None = None
    dag_id: str | None = None  # another DAG's id matches nothing (the run tab shows on every DAG)
    run_id: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def checked(self) -> CaseFilters:
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.state is not None and self.state not in RUN_STATES:
            raise ValueError(f"state must be one of {', '.join(RUN_STATES)}, got {self.state!r}")
        if (
            isinstance(self.limit, bool)
            or not isinstance(self.limit, int)
            or not 1 <= self.limit <= MAX_LIMIT
        ):
            raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {self.limit!r}")
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise ValueError(f"offset must be a whole number >= 0, got {self.offset!r}")
        return self


def _tables() -> dict[str, Any]:
    from airflow.models.dagrun import DagRun
    from airflow.models.hitl import HITLDetail
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    return {
        "dr": DagRun.__table__,
        "ti": TaskInstance.__table__,
        "xc": XComModel.__table__,
        "rt": RenderedTaskInstanceFields.__table__,
        "hd": HITLDetail.__table__,
    }


def wanted_dag_ids(filters: CaseFilters, dag_ids: Sequence[str] = CASE_DAG_IDS) -> list[str]:
    """The case DAGs the page may show: readable by the user, of the asked kind, the asked DAG."""
    wanted = [d for d in dag_ids if d in CASE_DAG_IDS]
    if filters.kind:
        wanted = [d for d in wanted if d == KINDS[filters.kind]]
    if filters.dag_id:
        wanted = [d for d in wanted if d == filters.dag_id]
    return wanted


def build_page_query(filters: CaseFilters, dag_ids: Sequence[str] = CASE_DAG_IDS) -> Select[Any]:
    """The page's single SELECT (see the module docstring); one result row per (case, step)."""
    filters = filters.checked()
    t = _tables()
    dr, ti, xc, rt, hd = t["dr"], t["ti"], t["xc"], t["rt"], t["hd"]

    wanted = wanted_dag_ids(filters, dag_ids)
    runs = select(
        dr.c.id.label("run_pk"),
        dr.c.dag_id,
        dr.c.run_id,
        dr.c.state.label("run_state"),
        dr.c.conf,
        dr.c.run_after,
        dr.c.queued_at,
        dr.c.start_date.label("run_start"),
        dr.c.end_date.label("run_end"),
        dr.c.triggering_user_name,
        func.count().over().label("total"),
    ).where(dr.c.dag_id.in_(wanted))
    if filters.state:
        runs = runs.where(dr.c.state == filters.state)
    if filters.run_id:
        runs = runs.where(dr.c.run_id == filters.run_id)
    if filters.stalled:
        # Not correlated: the waiting task instances are found once, through the state index.
        waiting = select(ti.c.dag_id, ti.c.run_id).where(
            ti.c.dag_id.in_(wanted), ti.c.state.in_(WAITING_STATES)
        )
        runs = runs.where(tuple_(dr.c.dag_id, dr.c.run_id).in_(waiting))
    page = (
        runs.order_by(dr.c.run_after.desc(), dr.c.id.desc())
        .limit(filters.limit)
        .offset(filters.offset)
        .cte("page")
    )

    steps = (
        select(
            ti.c.dag_id,
            ti.c.run_id,
            ti.c.task_id,
            ti.c.map_index,
            ti.c.state.label("ti_state"),
            ti.c.try_number,
            ti.c.start_date.label("ti_start"),
            ti.c.operator,
            hd.c.subject,
            hd.c.assignees,
            hd.c.responded_by,
            hd.c.responded_at,
            hd.c.chosen_options,
        )
        .select_from(
            ti.join(page, and_(ti.c.dag_id == page.c.dag_id, ti.c.run_id == page.c.run_id)).outerjoin(
                hd, hd.c.ti_id == ti.c.id
            )
        )
        .where(or_(ti.c.state.in_(CURRENT_STATES), hd.c.responded_at.is_not(None)))
        .cte("tis")
    )

    return (
        select(
            page,
            steps.c.task_id,
            steps.c.map_index,
            steps.c.ti_state,
            steps.c.try_number,
            steps.c.ti_start,
            steps.c.operator,
            steps.c.subject,
            steps.c.assignees,
            steps.c.responded_by,
            steps.c.responded_at,
            steps.c.chosen_options,
            xc.c.value.label("expected_by"),
            rt.c.rendered_fields,
        )
        .select_from(
            page.outerjoin(steps, and_(steps.c.dag_id == page.c.dag_id, steps.c.run_id == page.c.run_id))
            .outerjoin(
                xc,
                and_(
                    xc.c.dag_run_id == page.c.run_pk,
                    xc.c.task_id == steps.c.task_id,
                    xc.c.map_index == steps.c.map_index,
                    xc.c.key == "expected_by",
                ),
            )
            .outerjoin(
                rt,
                and_(
                    rt.c.dag_id == steps.c.dag_id,
                    rt.c.run_id == steps.c.run_id,
                    rt.c.task_id == steps.c.task_id,
                    rt.c.map_index == steps.c.map_index,
                    steps.c.operator.in_(LEGAL_WAIT_OPERATORS),
                ),
            )
        )
        .order_by(page.c.run_after.desc(), page.c.run_pk.desc(), steps.c.task_id)
    )


def fetch_page_rows(
    session: Session, filters: CaseFilters, dag_ids: Sequence[str] = CASE_DAG_IDS
) -> list[Any]:
    """Run the page's SELECT; one row per (case, step), cases in page order (no query when no DAG is wanted)."""
    wanted = wanted_dag_ids(filters.checked(), dag_ids)
    if not wanted:
        return []
    return list(session.execute(build_page_query(filters, wanted)).mappings())
