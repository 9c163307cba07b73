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

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from offboarding.alerting.steps import FAILED_STATE, WAITING_STATES
from offboarding.cases import CASE_DAG_OF_KIND

CASE_DAG_IDS = tuple(CASE_DAG_OF_KIND.values())
KINDS = CASE_DAG_OF_KIND
RUN_STATES = ("queued", "running", "success", "failed")
OPEN = "open"  # a state filter: queued or running
OPEN_RUN_STATES = ("queued", "running")
#: Steps shown as "current" on a case.
CURRENT_STATES = (*WAITING_STATES, FAILED_STATE, "queued", "scheduled", "restarting")
LEGAL_WAIT_OPERATORS = ("LegalDeadlineSensor", "WaitForLastWorkingDaySensor", "WaitForLegalDeadlineOperator")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_DUE_DAYS = 366
PHASE_PATTERN = re.compile(r"[A-Za-z0-9_]{1,100}")


@dataclass(frozen=True)
class CaseFilters:
    """What the ops engineer asked to see; :meth:`checked` names the bad field before any query."""

    kind: str | None = None  # "person" | "company" | "layoff"
    state: str | None = None  # the run's state
    stalled: bool | None = None
    dag_id: str | None = None  # another DAG's id matches nothing (the run tab shows on every DAG)
    run_id: str | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    # Filters the summary strip links to, decided over every open case (offboarding.cases_page.overview):
    phase: str | None = None  # open cases with a current step in this phase (task group)
    held: bool | None = None  # open cases on hold (the lifecycle's hold action)
    due_within_days: int | None = None  # open cases with a legal deadline within this many days

    @property
    def needs_open_cases(self) -> bool:
        """True when the page's cases are chosen among all open cases first (stalled, phase, held, due)."""
        return (
            bool(self.stalled)
            or bool(self.phase)
            or self.held is not None
            or self.due_within_days is not None
        )

    def checked(self) -> CaseFilters:
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.state is not None and self.state not in (*RUN_STATES, OPEN):
            raise ValueError(f"state must be one of {', '.join((*RUN_STATES, OPEN))}, got {self.state!r}")
        if (
            isinstance(self.limit, bool)
            or not isinstance(self.limit, int)
            or not 1 <= self.limit <= MAX_LIMIT
        ):
            raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {self.limit!r}")
        if isinstance(self.offset, bool) or not isinstance(self.offset, int) or self.offset < 0:
            raise ValueError(f"offset must be a whole number >= 0, got {self.offset!r}")
        if self.phase is not None and not PHASE_PATTERN.fullmatch(self.phase):
            raise ValueError(f"phase must be a task group name like statutory_steps, got {self.phase!r}")
        if self.due_within_days is not None and (
            isinstance(self.due_within_days, bool)
            or not isinstance(self.due_within_days, int)
            or not 1 <= self.due_within_days <= MAX_DUE_DAYS
        ):
            raise ValueError(
                f"due_within_days must be a whole number from 1 to {MAX_DUE_DAYS}, got {self.due_within_days!r}"
            )
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


def xcom_of(xc: Any, run_pk: Any, task: Any, key: str) -> Any:
    """Join condition: the XCom ``key`` of the task instance ``task`` (its run's primary key ``run_pk``)."""
    return and_(
        xc.c.dag_run_id == run_pk,
        xc.c.task_id == task.c.task_id,
        xc.c.map_index == task.c.map_index,
        xc.c.key == key,
    )


def rendered_fields_of(rt: Any, task: Any) -> Any:
    """Join condition: the rendered fields of ``task`` when it is a legal wait (its deadline)."""
    return and_(
        rt.c.dag_id == task.c.dag_id,
        rt.c.run_id == task.c.run_id,
        rt.c.task_id == task.c.task_id,
        rt.c.map_index == task.c.map_index,
        task.c.operator.in_(LEGAL_WAIT_OPERATORS),
    )


def build_page_query(
    filters: CaseFilters, dag_ids: Sequence[str] = CASE_DAG_IDS, run_pks: Collection[int] | None = None
) -> Select[Any]:
    """The page's single SELECT (see the module docstring); one result row per (case, step).

    ``run_pks``: only these DAG runs (the cases the summary's filters chose among the open cases).
    """
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
    if filters.state == OPEN:
        runs = runs.where(dr.c.state.in_(OPEN_RUN_STATES))
    elif filters.state:
        runs = runs.where(dr.c.state == filters.state)
    if filters.run_id:
        runs = runs.where(dr.c.run_id == filters.run_id)
    if run_pks is not None:
        runs = runs.where(dr.c.id.in_(sorted(run_pks)))
    if filters.stalled and run_pks is None:
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
            ti.c.pool,
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
            steps.c.pool,
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
            .outerjoin(xc, xcom_of(xc, page.c.run_pk, steps, "expected_by"))
            .outerjoin(rt, rendered_fields_of(rt, steps))
        )
        .order_by(page.c.run_after.desc(), page.c.run_pk.desc(), steps.c.task_id)
    )


def fetch_page_rows(
    session: Session,
    filters: CaseFilters,
    dag_ids: Sequence[str] = CASE_DAG_IDS,
    run_pks: Collection[int] | None = None,
) -> list[Any]:
    """Run the page's SELECT; one row per (case, step), cases in page order (no query when no DAG is wanted).

    ``run_pks``: only these runs (an empty collection: no case, no query).
    """
    wanted = wanted_dag_ids(filters.checked(), dag_ids)
    if not wanted or (run_pks is not None and not run_pks):
        return []
    return list(session.execute(build_page_query(filters, wanted, run_pks)).mappings())
