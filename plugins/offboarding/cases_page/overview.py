"""Every open case at a glance, in two SELECTs: what the summary strip, its filters and the calendar read.

Two statements: every open run (queued or running) of the case DAGs with its form, and one row per
current step (waiting, failed, queued …) of those runs, with the step's ``expected_by`` XCom, a legal
wait's rendered deadline and a human step's owners — the same columns as the page's rows, so a step is
judged by the same code (:func:`offboarding.cases_page.cases.step_view`, the watchdog's stalled rule).
No per-case query; at 10,000 cases the steps are read through the task instances' state index.

:func:`open_cases` turns the rows into :class:`OpenCase` (phases, stalled, legal deadlines, human-step
due dates); :func:`build_summary` counts them for the strip and :func:`matching_run_pks` picks the ones
a summary link filters on, so a number on the strip and the length of the list it links to agree.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from offboarding.alerting.steps import FAILED_STATE, HUMAN_STEP, LEGAL_WAIT, WAITING_STATES, CaseInfo
from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.cases import step_due
from offboarding.cases_page.query import (
    CASE_DAG_IDS,
    CURRENT_STATES,
    OPEN_RUN_STATES,
    CaseFilters,
    _tables,
    rendered_fields_of,
    xcom_of,
)
from offboarding.legal_time.clock import LOCAL_TZ, end_of_local_day, format_local

SUMMARY_DUE_DAYS = 7
LAST_WORKING_DAY_TASK = "preflight.wait_for_last_working_day"

#: The legal deadlines the page names, by the wait task's step id.
DEADLINE_TITLES = {
    "wait_for_last_working_day": "last working day ends",
    "wait_for_notice_period_end": "notice period ends",
    "wait_for_cooling_off_end": "cooling-off ends",
}


def build_open_runs_query(dag_ids: Sequence[str] = CASE_DAG_IDS) -> Any:
    """Every open run (queued or running) of the case DAGs: its key, state and form (what the summary
    reads of a run, nothing more: these columns are read for every open case)."""
    dr = _tables()["dr"]
    wanted = [d for d in dag_ids if d in CASE_DAG_IDS]
    return select(
        dr.c.id.label("run_pk"),
        dr.c.dag_id,
        dr.c.run_id,
        dr.c.state.label("run_state"),
        dr.c.conf,
    ).where(dr.c.dag_id.in_(wanted), dr.c.state.in_(OPEN_RUN_STATES))


def build_current_steps_query(dag_ids: Sequence[str] = CASE_DAG_IDS) -> Any:
    """The current steps of every open run, found through the task instances' (dag_id, state) index.

    Driven by the task instances (then their run by its key), not by the runs: a plan that starts from
    the runs would look up each run's current steps through the same state index, once per run.
    """
    t = _tables()
    dr, ti, xc, rt, hd = t["dr"], t["ti"], t["xc"], t["rt"], t["hd"]
    wanted = [d for d in dag_ids if d in CASE_DAG_IDS]
    return (
        select(
            dr.c.id.label("run_pk"),  # the run by its key: not its dag_id and run_id again
            ti.c.task_id,
            ti.c.map_index,
            ti.c.state.label("ti_state"),
            ti.c.start_date.label("ti_start"),
            ti.c.operator,
            hd.c.subject,
            hd.c.assignees,
            xc.c.value.label("expected_by"),
            rt.c.rendered_fields,
        )
        .select_from(
            ti.join(dr, and_(dr.c.dag_id == ti.c.dag_id, dr.c.run_id == ti.c.run_id))
            .outerjoin(hd, and_(hd.c.ti_id == ti.c.id, ti.c.state == "awaiting_input"))
            .outerjoin(xc, xcom_of(xc, dr.c.id, ti, "expected_by"))
            .outerjoin(rt, rendered_fields_of(rt, ti))
        )
        .where(
            ti.c.dag_id.in_(wanted),
            ti.c.state.in_(CURRENT_STATES),
            dr.c.state.in_(OPEN_RUN_STATES),
        )
    )


def fetch_open_case_rows(
    session: Session, dag_ids: Sequence[str] = CASE_DAG_IDS
) -> tuple[Iterator[Mapping[str, Any]], Iterator[Mapping[str, Any]]]:
    """(open runs, their current steps): two SELECTs whatever the number of cases (none when no case
    DAG is readable).

    Streamed: each SELECT runs when its rows are first read (the steps once the runs are read), and a
    row is let go once read, so the rows of 10,000 cases are never all held at once (holding them made
    the garbage collector sweep the whole process on every page).
    """
    if not [d for d in dag_ids if d in CASE_DAG_IDS]:
        return iter(()), iter(())
    return _rows(session, build_open_runs_query(dag_ids)), _rows(session, build_current_steps_query(dag_ids))


def _rows(session: Session, query: Any) -> Iterator[Mapping[str, Any]]:
    yield from session.execute(query).mappings()


@dataclass(frozen=True, slots=True)
class Deadline:
    """A dated thing someone plans around: a legal deadline or a human step's due time."""

    run_pk: int
    dag_id: str
    run_id: str
    case_id: str
    who: str
    kind: str  # "legal deadline" | "human step due"
    title: str
    at: dt.datetime  # aware, UTC
    owners: tuple[str, ...] = ()
    task_id: str | None = None

    @property
    def local_day(self) -> dt.date:
        return self.at.astimezone(LOCAL_TZ).date()

    @property
    def at_local(self) -> str:
        return format_local(self.at)

    def to_json(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "case_id": self.case_id,
            "who": self.who,
            "kind": self.kind,
            "title": self.title,
            "at": self.at.isoformat(),
            "at_local": self.at_local,
            "owners": list(self.owners),
            "task_id": self.task_id,
        }


@dataclass(frozen=True, slots=True)
class CurrentStep:
    """A current step of an open case, as the summary needs it (no formatting: it runs for every case)."""

    task_id: str
    state: str
    kind: str
    shown: dt.datetime | None  # the instant the page shows as "waiting until"
    stalled: bool
    owners: tuple[str, ...] = ()
    subject: str | None = None

    @property
    def phase(self) -> str:
        """The task group (or the step itself at the top level), as the page's Phase column."""
        group, _, step = self.task_id.rpartition(".")
        return group or step

    @property
    def step(self) -> str:
        return self.task_id.rpartition(".")[2]


def _names(users: Any) -> tuple[str, ...]:
    if isinstance(users, Mapping):
        users = [users]
    if not isinstance(users, list):
        return ()
    return tuple(str(u.get("name") or u.get("id")) for u in users if isinstance(u, Mapping))


@dataclass(slots=True)
class OpenCase:
    """An open case as the summary sees it."""

    run_pk: int
    dag_id: str
    run_id: str
    info: CaseInfo
    run_state: str
    steps: list[CurrentStep] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)

    def deadline(
        self, kind: str, title: str, at: dt.datetime, owners: tuple[str, ...], task_id: str | None
    ) -> Deadline:
        return Deadline(
            self.run_pk,
            self.dag_id,
            self.run_id,
            self.info.case_id,
            self.info.subject,
            kind,
            title,
            at,
            owners,
            task_id,
        )

    @property
    def phases(self) -> set[str]:
        """The phases (task groups) of the case's current steps; "queued" before its first step."""
        return {s.phase for s in self.steps} or {"not started"}

    @property
    def stalled(self) -> bool:
        return any(s.stalled for s in self.steps)

    @property
    def failed(self) -> bool:
        return any(s.state == FAILED_STATE for s in self.steps)


@functools.lru_cache(maxsize=4096)
def _end_of_day(day: str) -> dt.datetime | None:
    try:
        return end_of_local_day(day).astimezone(dt.UTC)
    except (TypeError, ValueError):
        return None


def _last_working_day(info: CaseInfo, conf: Mapping[str, Any]) -> dt.datetime | None:
    """24:00 Asia/Shanghai of a person's or a list's last working day (many cases share a day: computed once
    each)."""
    if info.kind not in ("person", "layoff") or not conf.get("last_working_day"):
        return None
    return _end_of_day(str(conf["last_working_day"]))


def _owners_of_case(conf: Mapping[str, Any]) -> tuple[str, ...]:
    owner = conf.get("hr_owner")
    return (str(owner),) if owner else ()


def open_cases(
    runs: Iterable[Mapping[str, Any]],
    steps: Iterable[Mapping[str, Any]],
    *,
    now: dt.datetime,
    timing: AlertTiming,
) -> list[OpenCase]:
    """The rows of :func:`fetch_open_case_rows` as cases, each with its current steps and dated deadlines."""
    cases: dict[int, OpenCase] = {}
    case_owners: dict[int, tuple[str, ...]] = {}  # not the confs: a case keeps only what it shows
    for run in runs:
        pk = int(run["run_pk"])
        conf = run["conf"] if isinstance(run["conf"], Mapping) else {}
        info = CaseInfo.from_conf(str(run["dag_id"]), str(run["run_id"]), conf)
        case = cases[pk] = OpenCase(pk, str(run["dag_id"]), str(run["run_id"]), info, str(run["run_state"]))
        owners = case_owners[pk] = _owners_of_case(conf)
        lwd = _last_working_day(info, conf)
        if lwd is not None:
            case.deadlines.append(
                case.deadline(
                    "legal deadline",
                    DEADLINE_TITLES["wait_for_last_working_day"],
                    lwd,
                    owners,
                    LAST_WORKING_DAY_TASK,
                )
            )
    seen: set[tuple[int, str, int]] = set()
    for row in steps:
        pk = int(row["run_pk"])
        case = cases.get(pk)
        key = (pk, str(row["task_id"]), int(row["map_index"]))
        if case is None or key in seen:
            continue
        seen.add(key)
        kind, shown, due = step_due(row, case.info, timing)
        state = str(row["ti_state"])
        human = state == "awaiting_input"
        step = CurrentStep(
            task_id=key[1],
            state=state,
            kind=kind,
            shown=shown,
            stalled=state in WAITING_STATES and due is not None and now >= due,
            owners=_names(row["assignees"]) if human else (),
            subject=row["subject"] if human else None,
        )
        case.steps.append(step)
        if shown is None:
            continue
        at = shown.astimezone(dt.UTC)
        if step.kind == LEGAL_WAIT and step.task_id != LAST_WORKING_DAY_TASK:
            title = DEADLINE_TITLES.get(step.step) or _waiting_for(row) or step.step
            case.deadlines.append(case.deadline("legal deadline", title, at, case_owners[pk], step.task_id))
        elif step.kind == HUMAN_STEP:
            case.deadlines.append(
                case.deadline("human step due", step.subject or step.step, at, step.owners, step.task_id)
            )
    return list(cases.values())


def _waiting_for(row: Mapping[str, Any]) -> str | None:
    rendered = row.get("rendered_fields")
    if isinstance(rendered, Mapping) and rendered.get("waiting_for"):
        return f"{rendered['waiting_for']}"
    return None


def legal_due_within(case: OpenCase, now: dt.datetime, days: int) -> bool:
    """True when one of the case's legal deadlines falls in [now, now + days)."""
    end = now + dt.timedelta(days=days)
    return any(d.kind == "legal deadline" and now <= d.at < end for d in case.deadlines)


@dataclass(frozen=True)
class Summary:
    """The numbers of the summary strip (over every open case the user may read)."""

    open_cases: int
    by_phase: list[tuple[str, int]]  # (phase, open cases with a current step in it), most first
    stalled: int
    failed: int
    on_hold: int
    due_soon: int
    due_days: int = SUMMARY_DUE_DAYS

    def to_json(self) -> dict[str, Any]:
        return {
            "open_cases": self.open_cases,
            "by_phase": [{"phase": p, "cases": n} for p, n in self.by_phase],
            "stalled": self.stalled,
            "failed": self.failed,
            "on_hold": self.on_hold,
            "legal_deadlines_due": self.due_soon,
            "due_days": self.due_days,
        }


def build_summary(
    cases: Sequence[OpenCase], held: Collection[tuple[str, str]], *, now: dt.datetime
) -> Summary:
    """Count the open cases: by phase, stalled now, failed, on hold, legal deadline within 7 days."""
    phases: Counter[str] = Counter()
    for case in cases:
        phases.update(case.phases)
    return Summary(
        open_cases=len(cases),
        by_phase=sorted(phases.items(), key=lambda item: (-item[1], item[0])),
        stalled=sum(c.stalled for c in cases),
        failed=sum(c.failed for c in cases),
        on_hold=sum((c.dag_id, c.run_id) in held for c in cases),
        due_soon=sum(legal_due_within(c, now, SUMMARY_DUE_DAYS) for c in cases),
    )


def matching_run_pks(
    cases: Sequence[OpenCase], filters: CaseFilters, held: Collection[tuple[str, str]], *, now: dt.datetime
) -> set[int]:
    """The open cases a summary filter (stalled, phase, held, due within days) keeps."""
    chosen = []
    for case in cases:
        if filters.stalled is not None and case.stalled != filters.stalled:
            continue
        if filters.phase and filters.phase not in case.phases:
            continue
        if filters.held is not None and ((case.dag_id, case.run_id) in held) != filters.held:
            continue
        if filters.due_within_days is not None and not legal_due_within(case, now, filters.due_within_days):
            continue
        chosen.append(case.run_pk)
    return set(chosen)


__all__ = [
    "Deadline",
    "OpenCase",
    "Summary",
    "build_current_steps_query",
    "build_open_runs_query",
    "build_summary",
    "fetch_open_case_rows",
    "legal_due_within",
    "matching_run_pks",
    "open_cases",
]
