"""Turn the page's rows into cases: who, which phase and step, waiting until when, stalled or not, who answered.

Pure functions over the rows of :func:`offboarding.cases_page.query.fetch_page_rows`; the stalled
rule is the watchdog's (:mod:`offboarding.alerting.expected`), so the page and the alerts agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from offboarding.airflow_api import redact_url
from offboarding.alerting.expected import (
    human_step_expected_by,
    legal_wait_expected_by,
    parse_xcom_instant,
    task_expected_by,
)
from offboarding.alerting.messages import describe_duration
from offboarding.alerting.steps import FAILED_STATE, HUMAN_STEP, LEGAL_WAIT, TASK, WAITING_STATES, CaseInfo
from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.query import CURRENT_STATES, LEGAL_WAIT_OPERATORS, CaseFilters
from offboarding.legal_time.clock import format_local

REPORT_ROUTE = "/offboarding/cases/{dag_id}/{run_id}/report"


def _q(value: str) -> str:
    return quote(str(value), safe="")


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_xcom_instant(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return None


def _local(value: dt.datetime | None) -> str | None:
    return format_local(value) if value is not None else None


def _names(users: Any) -> list[str]:
    if isinstance(users, Mapping):
        users = [users]
    if not isinstance(users, list):
        return []
    return [str(u.get("name") or u.get("id")) for u in users if isinstance(u, Mapping)]


@dataclass
class StepView:
    """A current step of a case."""

    task_id: str
    phase: str
    step: str
    state: str
    kind: str
    started_at: str | None = None
    waiting_until: str | None = None
    waiting_until_local: str | None = None
    stalled: bool = False
    stalled_for: str | None = None
    stalled_for_seconds: int | None = None
    owners: list[str] = field(default_factory=list)
    subject: str | None = None
    answer_url: str | None = None
    task_url: str = ""


@dataclass
class AnswerView:
    """A human step someone answered (audit)."""

    task_id: str
    by: str
    at: str | None
    at_local: str | None
    chosen: list[str]


@dataclass
class CaseView:
    """One case as the page shows it."""

    dag_id: str
    run_id: str
    case_id: str
    kind: str
    who: str
    state: str
    triggered_by: str | None
    queued_at: str | None
    queued_at_local: str | None
    phase: str
    steps: list[StepView]
    answers: list[AnswerView]
    stalled: bool
    stalled_for: str | None
    run_url: str
    report_url: str
    backup_folder: str
    #: A company's member offboarding in numbers (offboarding.cases_page.company_progress), else None.
    progress: dict[str, Any] | None = None
    queued_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CasesPage:
    """A page of cases plus what the pager needs."""

    cases: list[CaseView]
    total: int | None
    limit: int
    offset: int
    filters: CaseFilters

    @property
    def next_offset(self) -> int | None:
        end = self.offset + self.limit
        return end if self.total is not None and end < self.total else None

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": [c.to_json() for c in self.cases],
            "total": self.total,
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.next_offset,
            "filters": {k: v for k, v in asdict(self.filters).items() if k not in ("limit", "offset")},
        }


def step_due(
    row: Mapping[str, Any], case: CaseInfo, timing: AlertTiming
) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    """(kind, the instant shown as "waiting until", the wall instant it is due — the watchdog's rule)."""
    state = str(row["ti_state"])
    started = _aware(row["ti_start"])
    step_id = str(row["task_id"]).rpartition(".")[2]
    if state == "awaiting_input":
        # Parsed once: the judgement takes the parsed instant as it takes the XCom's text.
        shown = parse_xcom_instant(row["expected_by"])
        return HUMAN_STEP, shown, human_step_expected_by(shown, started, case.time_scale)
    if row["operator"] in LEGAL_WAIT_OPERATORS:
        rendered = row["rendered_fields"] if isinstance(row["rendered_fields"], Mapping) else {}
        deadline = parse_xcom_instant(rendered.get("deadline"))
        due = legal_wait_expected_by(
            deadline,
            anchor=rendered.get("anchor"),
            started_at=started,
            time_scale=case.time_scale,
            grace=timing.legal_wait_grace,
        )
        return LEGAL_WAIT, deadline, due
    if state in WAITING_STATES:
        due = task_expected_by(step_id, started, timing, case.time_scale)
        return TASK, due, due
    return TASK, None, None


def step_view(
    row: Mapping[str, Any], case: CaseInfo, timing: AlertTiming, now: dt.datetime, ui: str
) -> StepView:
    """One current step: its kind, until when it waits and whether it is stalled (the watchdog's rule)."""
    task_id = str(row["task_id"])
    state = str(row["ti_state"])
    started = _aware(row["ti_start"])
    phase, _, step_id = task_id.rpartition(".")
    base = f"{ui}/dags/{_q(row['dag_id'])}/runs/{_q(row['run_id'])}/tasks/{_q(task_id)}"
    kind, shown, due = step_due(row, case, timing)
    stalled = state in WAITING_STATES and due is not None and now >= due
    late = now - due if stalled and due is not None else None
    return StepView(
        task_id=task_id,
        phase=phase,
        step=step_id,
        state=state,
        kind=kind,
        started_at=started.isoformat() if started else None,
        waiting_until=shown.isoformat() if shown else None,
        waiting_until_local=_local(shown),
        stalled=stalled,
        stalled_for=describe_duration(late) if late is not None else None,
        stalled_for_seconds=int(late.total_seconds()) if late is not None else None,
        owners=_names(row["assignees"]) if state == "awaiting_input" else [],
        subject=row["subject"] if state == "awaiting_input" else None,
        answer_url=f"{base}/required_actions?map_index={row['map_index']}"
        if state == "awaiting_input"
        else None,
        task_url=base,
    )


def build_page(
    rows: Sequence[Mapping[str, Any]],
    filters: CaseFilters,
    *,
    now: dt.datetime,
    timing: AlertTiming,
    ui_url: str = "",
) -> CasesPage:
    """The cases of one page, in the rows' order; the stalled filter is applied exactly here."""
    ui = ui_url.rstrip("/")
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["run_pk"], []).append(row)
    total = int(rows[0]["total"]) if rows else None
    cases = []
    for case_rows in grouped.values():
        case = _case_view(case_rows, now=now, timing=timing, ui=ui)
        if filters.stalled is None or case.stalled == filters.stalled:
            cases.append(case)
    return CasesPage(cases, total, filters.limit, filters.offset, filters)


def _backup_folder(backup_target: Any, case_id: str) -> str:
    """Where the case's backup is, shown on the page (only the deployment's own roots are looked up)."""
    from offboarding.backup.errors import BackupConfigError
    from offboarding.backup.roots import resolve_backup_root

    try:
        root = resolve_backup_root(backup_target or "")
    except BackupConfigError:
        return f"(backup_target {str(backup_target)[:40]!r} is not a storage root of this deployment)"
    return redact_url(f"{root.url.rstrip('/')}/{case_id}/")


def _case_view(
    rows: Sequence[Mapping[str, Any]], *, now: dt.datetime, timing: AlertTiming, ui: str
) -> CaseView:
    first = rows[0]
    dag_id, run_id = str(first["dag_id"]), str(first["run_id"])
    conf = first["conf"] if isinstance(first["conf"], Mapping) else {}
    case = CaseInfo.from_conf(dag_id, run_id, conf)
    steps: list[StepView] = []
    answers: list[AnswerView] = []
    seen: set[str] = set()
    for row in rows:
        if row["task_id"] is None or row["task_id"] in seen:
            continue
        seen.add(row["task_id"])
        if row["responded_at"] is not None:
            when = _aware(row["responded_at"])
            answers.append(
                AnswerView(
                    task_id=str(row["task_id"]),
                    by=", ".join(_names(row["responded_by"])) or "timeout default",
                    at=when.isoformat() if when else None,
                    at_local=_local(when),
                    chosen=list(row["chosen_options"] or []),
                )
            )
        if row["ti_state"] in CURRENT_STATES:
            steps.append(step_view(row, case, timing, now, ui))
    steps.sort(key=lambda s: (not s.stalled, s.state != FAILED_STATE, s.task_id))
    late = [s for s in steps if s.stalled]
    worst = max(late, key=lambda s: s.stalled_for_seconds or 0) if late else None
    backup_folder = _backup_folder(conf.get("backup_target"), case.case_id)
    queued = _aware(first["queued_at"])
    return CaseView(
        dag_id=dag_id,
        run_id=run_id,
        case_id=case.case_id,
        kind=case.kind,
        who=case.subject,
        state=str(first["run_state"]),
        triggered_by=first["triggering_user_name"],
        queued_at=queued.isoformat() if queued else None,
        queued_at_local=_local(queued),
        phase=(steps[0].phase or steps[0].step)
        if steps
        else ("done" if first["run_state"] == "success" else ""),
        steps=steps,
        answers=answers,
        stalled=bool(late),
        stalled_for=worst.stalled_for if worst else None,
        run_url=f"{ui}/dags/{_q(dag_id)}/runs/{_q(run_id)}",
        report_url=REPORT_ROUTE.format(dag_id=_q(dag_id), run_id=_q(run_id)),
        backup_folder=backup_folder,
        queued_reason=_queued_reason(str(first["run_state"]), rows),
    )


def _queued_reason(run_state: str, rows: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a case does not move: its run waits for a case slot, or a step for a slot in its pool."""
    if run_state == "queued":
        return "queued: max_active_runs (the DAG's limit of cases in flight) reached"
    pools = sorted({str(r.get("pool")) for r in rows if r["ti_state"] == "scheduled" and r.get("pool")})
    return f"queued: waiting for a free slot in pool {', '.join(pools)}" if pools else None
