"""A case as Airflow's metadata database records it: its run, its steps, its actions, its other cases.

Read by the api-server's lifecycle routes (:mod:`offboarding.cases_page.actions_api`) with the
request's database session. A case id is the run id (``offboard-lisi``, ``offboard-lisi+2``) or, for a
run started from the UI form (``manual__...``), the id its ``preflight.check_case`` assigned (XCom).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import Session

from offboarding.cases import COMPANY_DAG_ID, KIND_OF_CASE_DAG, LAYOFF_DAG_ID, PERSON_DAG_ID
from offboarding.cases.case_ids import (
    COMPANY_CASE_PREFIX,
    DRY_RUN_CASE_PREFIX,
    LAYOFF_CASE_PREFIX,
    PERSON_CASE_PREFIX,
    case_id_for_run,
    numbered_case_id,
    person_case_id,
    split_case_id,
)
from offboarding.cases.lifecycle import (
    FINAL_STATES,
    CaseAction,
    CaseControls,
    CaseProgress,
    case_state,
    fold,
)
from offboarding.cases_page.case_actions_store import actions_for_case

RESCIND_DAG_ID = "offboarding_rescind"
CHECK_CASE_TASK_ID = "preflight.check_case"
CASE_ID_PREFIXES = (PERSON_CASE_PREFIX, COMPANY_CASE_PREFIX, LAYOFF_CASE_PREFIX, DRY_RUN_CASE_PREFIX)
#: Task states shown as the case's current step (the cases page's, without the stalled rule).
CURRENT_STATES = (
    "failed",
    "running",
    "deferred",
    "up_for_reschedule",
    "awaiting_input",
    "up_for_retry",
    "queued",
    "scheduled",
)


def dag_of_case(case_id: str) -> str | None:
    """The case DAG a case id belongs to (``offboard-`` → person, ``dissolve-`` → company, ``layoff-`` →
    layoff list), else None."""
    bare = case_id.removeprefix(DRY_RUN_CASE_PREFIX)
    for prefix, dag_id in (
        (PERSON_CASE_PREFIX, PERSON_DAG_ID),
        (COMPANY_CASE_PREFIX, COMPANY_DAG_ID),
        (LAYOFF_CASE_PREFIX, LAYOFF_DAG_ID),
    ):
        if bare.startswith(prefix):
            return dag_id
    return None


def rescind_run_id(case_id: str, action_id: int) -> str:
    """The run id of the ``offboarding_rescind`` run that undoes a case."""
    return f"rescind-{case_id}-{action_id}"


@dataclass(frozen=True)
class CaseRun:
    """The DAG run of one case."""

    case_id: str
    dag_id: str
    run_id: str
    conf: Mapping[str, Any]
    state: str | None
    end_date: dt.datetime | None
    triggered_by: str | None

    @property
    def kind(self) -> str:
        return KIND_OF_CASE_DAG.get(self.dag_id, "person")


def _conf(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _xcom_case_id(value: Any) -> str | None:
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    found = value.get("case_id") if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else None


def _ui_case_ids(session: Session, dag_id: str, first_case_id: str) -> dict[str, tuple[Any, str]]:
    """Runs of ``dag_id`` started from the UI form for this member → (run row, assigned case id)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.xcom import XComModel

    dr, xc = DagRun.__table__, XComModel.__table__
    rows = session.execute(
        select(
            dr.c.id, dr.c.dag_id, dr.c.run_id, dr.c.conf, dr.c.state, dr.c.end_date, dr.c.triggering_user_name
        ).where(
            dr.c.dag_id == dag_id,
            not_(or_(*(dr.c.run_id.startswith(p, autoescape=True) for p in CASE_ID_PREFIXES))),
        )
    ).mappings()
    found: dict[str, tuple[Any, str]] = {}
    for row in rows:
        conf = _conf(row["conf"])
        try:
            if split_case_id(case_id_for_run(conf, row["run_id"]))[0] != first_case_id:
                continue
        except ValueError:
            continue
        value = session.scalar(
            select(xc.c.value).where(
                xc.c.dag_run_id == row["id"], xc.c.task_id == CHECK_CASE_TASK_ID, xc.c.key == "return_value"
            )
        )
        assigned = _xcom_case_id(value)
        if assigned is not None:
            found[assigned] = (row, assigned)
    return found


def _case_run(row: Mapping[str, Any], case_id: str) -> CaseRun:
    end = row["end_date"]
    return CaseRun(
        case_id=case_id,
        dag_id=row["dag_id"],
        run_id=row["run_id"],
        conf=_conf(row["conf"]),
        state=str(row["state"]) if row["state"] is not None else None,
        end_date=end if end is None or end.tzinfo else end.replace(tzinfo=dt.UTC),
        triggered_by=row["triggering_user_name"],
    )


def find_case(session: Session, case_id: str, *, lock: bool = False) -> CaseRun | None:
    """The run of ``case_id`` (None: no such case). ``lock``: lock the run's row until the transaction
    ends (PostgreSQL ``FOR UPDATE``), so two actions on one case are decided one after the other."""
    from airflow.models.dagrun import DagRun

    dag_id = dag_of_case(case_id)
    if dag_id is None:
        return None
    dr = DagRun.__table__
    query = select(
        dr.c.id, dr.c.dag_id, dr.c.run_id, dr.c.conf, dr.c.state, dr.c.end_date, dr.c.triggering_user_name
    ).where(dr.c.dag_id == dag_id, dr.c.run_id == case_id)
    if lock:
        query = query.with_for_update()
    row = session.execute(query).mappings().first()
    if row is not None:
        return _case_run(row, case_id)
    ui = _ui_case_ids(session, dag_id, split_case_id(case_id)[0]).get(case_id)
    if ui is None:
        return None
    if lock:
        session.execute(select(dr.c.id).where(dr.c.id == ui[0]["id"]).with_for_update())
    return _case_run(ui[0], case_id)


def progress_of(session: Session, run: CaseRun) -> CaseProgress:
    """Which steps of the case's run ran (its task instances)."""
    from airflow.models.taskinstance import TaskInstance

    ti = TaskInstance.__table__
    rows = session.execute(
        select(ti.c.task_id, ti.c.map_index, ti.c.state, ti.c.start_date, ti.c.end_date).where(
            ti.c.dag_id == run.dag_id, ti.c.run_id == run.run_id
        )
    ).mappings()
    return CaseProgress.from_task_instances(run.state, rows, run_ended_at=run.end_date)


def rescind_run_state(session: Session, controls: CaseControls) -> str | None:
    """The state of the ``offboarding_rescind`` run of the case's accepted rescind (None: no such run)."""
    from airflow.models.dagrun import DagRun

    if controls.rescind is None or controls.rescind.action_id is None:
        return None
    dr = DagRun.__table__
    state = session.scalar(
        select(dr.c.state).where(
            and_(
                dr.c.dag_id == RESCIND_DAG_ID,
                dr.c.run_id == rescind_run_id(controls.case_id, controls.rescind.action_id),
            )
        )
    )
    return str(state) if state is not None else None


def phase_of(progress: CaseProgress) -> str:
    """The case's phase as the cases page names it: the group of its current step, ``done`` when closed."""
    current = sorted(
        (s for s in progress.steps.values() if s.state in CURRENT_STATES),
        key=lambda s: (s.state != "failed", s.task_id),
    )
    if current:
        group, _, step = current[0].task_id.rpartition(".")
        return group or step
    return "done" if progress.run_state == "success" else ""


def controls_of(
    session: Session, run: CaseRun, actions: Sequence[CaseAction] | None = None
) -> tuple[CaseControls, CaseProgress]:
    """The case's controls (state, phase, hold, rescind, effective values, history) and its progress."""
    progress = progress_of(session, run)
    actions = actions_for_case(session.connection(), run.case_id) if actions is None else actions
    form_day = run.conf.get("last_working_day")
    base = fold(
        actions,
        case_id=run.case_id,
        dag_id=run.dag_id,
        run_id=run.run_id,
        kind=run.kind,
        form_last_working_day=form_day if isinstance(form_day, str) else None,
    )
    state = case_state(progress, base, rescind_run_state(session, base))
    controls = fold(
        actions,
        case_id=run.case_id,
        dag_id=run.dag_id,
        run_id=run.run_id,
        kind=run.kind,
        form_last_working_day=form_day if isinstance(form_day, str) else None,
        state=state,
        phase=phase_of(progress),
    )
    return controls, progress


@dataclass(frozen=True)
class CaseSeries:
    """Every case of one member (a person's userid, a company's credit code), oldest first."""

    first_case_id: str
    cases: list[tuple[str, str, str, Mapping[str, Any]]]  # (case_id, run_id, state, conf)
    open_lists: list[str] = field(default_factory=list)
    """Open layoff lists (case ids) that name this person: they offboard them already."""

    @property
    def open_cases(self) -> list[str]:
        return [case_id for case_id, _, state, _ in self.cases if state not in FINAL_STATES]

    @property
    def next_case_id(self) -> str:
        numbers = [split_case_id(case_id)[1] for case_id, _, _, _ in self.cases]
        return numbered_case_id(self.first_case_id, max(numbers, default=0) + 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "first_case_id": self.first_case_id,
            "cases": [
                {
                    "case_id": c,
                    "run_id": r,
                    "state": s,
                    "last_working_day": conf.get("last_working_day"),
                    "procedure": conf.get("procedure"),
                }
                for c, r, s, conf in self.cases
            ],
            "open": self.open_cases,
            "open_lists": self.open_lists,
            "next_case_id": self.next_case_id,
        }


def _refused_at_creation(progress: CaseProgress) -> bool:
    """check_case refused the run: nothing was done, it is no case."""
    step = progress.step(CHECK_CASE_TASK_ID)
    return step is not None and step.state in ("failed", "upstream_failed")


def series_of(session: Session, case_id: str, *, exclude_run_id: str | None = None) -> CaseSeries | None:
    """Every case of the member ``case_id`` belongs to (None: not a case id). Runs that ``check_case``
    refused are left out (nothing happened in them); ``exclude_run_id``: the asking run itself."""
    from airflow.models.dagrun import DagRun

    dag_id = dag_of_case(case_id)
    if dag_id is None:
        return None
    first = split_case_id(case_id)[0]
    dr = DagRun.__table__
    rows = session.execute(
        select(
            dr.c.id, dr.c.dag_id, dr.c.run_id, dr.c.conf, dr.c.state, dr.c.end_date, dr.c.triggering_user_name
        ).where(dr.c.dag_id == dag_id, dr.c.run_id.startswith(first, autoescape=True))
    ).mappings()
    runs = [_case_run(r, r["run_id"]) for r in rows if split_case_id(r["run_id"])[0] == first]
    runs += [_case_run(row, assigned) for row, assigned in _ui_case_ids(session, dag_id, first).values()]
    cases = []
    for run in runs:
        if run.run_id == exclude_run_id:
            continue
        controls, progress = controls_of(session, run)
        if _refused_at_creation(progress):
            continue
        cases.append((run.case_id, run.run_id, controls.state, run.conf))
    cases.sort(key=lambda c: split_case_id(c[0])[1])
    lists = _open_lists_naming(session, first) if dag_id == PERSON_DAG_ID else []
    return CaseSeries(first, cases, lists)


def _open_lists_naming(session: Session, first_case_id: str) -> list[str]:
    """The open layoff lists (case ids) with a person whose first case id is ``first_case_id``."""
    from airflow.models.dagrun import DagRun

    from offboarding.cases.layoff import listed_userids

    dr = DagRun.__table__
    rows = session.execute(
        select(
            dr.c.id, dr.c.dag_id, dr.c.run_id, dr.c.conf, dr.c.state, dr.c.end_date, dr.c.triggering_user_name
        ).where(dr.c.dag_id == LAYOFF_DAG_ID, dr.c.state.in_(("queued", "running", "failed")))
    ).mappings()
    found = []
    for row in rows:
        run = _case_run(row, row["run_id"])
        if not any(_first_case_id_of(userid) == first_case_id for userid in listed_userids(run.conf)):
            continue
        controls, progress = controls_of(session, run)
        if controls.state not in FINAL_STATES and not _refused_at_creation(progress):
            found.append(run.case_id)
    return found


def _first_case_id_of(userid: str) -> str | None:
    try:
        return person_case_id({"userid": userid})
    except ValueError:
        return None
