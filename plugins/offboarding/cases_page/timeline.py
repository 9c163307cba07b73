"""A case's timeline as data: phases on a time axis, legal deadlines, human steps, incidents, lifecycle actions.

Pure: :func:`build_timeline` takes the run, its task instances (rows of
:func:`offboarding.cases_page.timeline_query.fetch_timeline_rows`), the case's lifecycle actions
(:mod:`offboarding.cases_page.actions`) and "now"; :mod:`offboarding.cases_page.timeline_svg` draws it.

* **Phases** — one bar per task group (or top-level step): from its first task's start to its last
  task's end, or to now while a task of it is current; its state is failed / waiting / done.
* **Legal deadlines** — the last working day (the form's, or the last accepted reschedule), the
  account deregistration's review due time and cooling-off end (``plan_deadlines``), the dissolution
  notice's end (``plan_notice_period``), a legal wait's rendered deadline, and the customers' automatic
  takeover (the last customer transfer + the policy's takeover delay).
* **Human steps** — who must answer (owners), when asked, when due (``expected_by``), who answered when.
* **Incidents** — a stalled step (since when it is late, by the watchdog's rule) and a failed task.
* **Actions** — hold, release, rescind, reschedule, correct, with who and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offboarding.alerting.expected import parse_xcom_instant
from offboarding.alerting.steps import FAILED_STATE, WAITING_STATES, CaseInfo
from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.actions import CaseAction
from offboarding.cases_page.cases import step_view
from offboarding.cases_page.overview import DEADLINE_TITLES
from offboarding.cases_page.query import CURRENT_STATES, LEGAL_WAIT_OPERATORS
from offboarding.legal_time.clock import end_of_local_day, format_local

DONE, WAITING, FAILED, NOT_STARTED = "done", "waiting", "failed", "not started"
PLAN_XCOMS = {
    # step id of the task that plans deadlines → (return-value key, deadline title)
    "plan_deadlines": (("review_due", "review due"), ("cooling_off_end", "cooling-off ends")),
    "plan_notice_period": (("notice_end", "notice period ends"),),
}
WAIT_TITLES = DEADLINE_TITLES
TRANSFER_STEPS = ("hand_over_customers", "transfer_resigned_customers")
TAKEOVER_TITLE = "customers taken over"


def _aware(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_xcom_instant(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return None


def _names(users: Any) -> list[str]:
    if isinstance(users, Mapping):
        users = [users]
    if not isinstance(users, list):
        return []
    return [str(u.get("name") or u.get("id")) for u in users if isinstance(u, Mapping)]


@dataclass(frozen=True)
class PhaseBar:
    name: str
    start: dt.datetime
    end: dt.datetime
    state: str  # done | waiting | failed
    ongoing: bool
    stalled: bool = False
    tasks: int = 0

    @property
    def text(self) -> str:
        when = f"{format_local(self.start)} → {'now' if self.ongoing else format_local(self.end)}"
        late = ", stalled" if self.stalled else ""
        return f"phase {self.name}: {self.state}{late} ({self.tasks} task(s)), {when}"


@dataclass(frozen=True)
class Marker:
    """A dated mark: a legal deadline, an incident (stall, failure) or a lifecycle action."""

    kind: str  # "deadline" | "stall" | "failure" | "hold" | "release" | "rescind" | "reschedule" | "correct"
    title: str
    at: dt.datetime
    detail: str = ""

    @property
    def text(self) -> str:
        detail = f" — {self.detail}" if self.detail else ""
        return f"{self.title}: {format_local(self.at)}{detail}"


@dataclass(frozen=True)
class HumanStep:
    task_id: str
    title: str
    owners: tuple[str, ...]
    asked_at: dt.datetime
    due: dt.datetime | None
    answered_at: dt.datetime | None
    answered_by: str | None
    answer: str | None
    stalled: bool = False

    @property
    def text(self) -> str:
        owners = ", ".join(self.owners) or "anyone allowed"
        parts = [f"human step {self.title} (owner {owners}), asked {format_local(self.asked_at)}"]
        if self.due:
            parts.append(f"due {format_local(self.due)}")
        if self.answered_at:
            parts.append(
                f"answered {format_local(self.answered_at)} by {self.answered_by or 'timeout default'}"
            )
            if self.answer:
                parts.append(f"answer {self.answer}")
        else:
            parts.append("stalled, not answered" if self.stalled else "not answered yet")
        return "; ".join(parts)


@dataclass
class Timeline:
    case_id: str
    who: str
    kind: str
    run_state: str
    start: dt.datetime
    end: dt.datetime  # the axis' end: now or the latest mark
    now: dt.datetime
    phases: list[PhaseBar] = field(default_factory=list)
    deadlines: list[Marker] = field(default_factory=list)
    human_steps: list[HumanStep] = field(default_factory=list)
    events: list[Marker] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "phases": [p.text for p in self.phases],
            "deadlines": [d.text for d in self.deadlines],
            "human_steps": [h.text for h in self.human_steps],
            "events": [e.text for e in self.events],
        }


def _phase_of(task_id: str) -> str:
    group, _, step = task_id.rpartition(".")
    return group or step


def _deadlines(
    info: CaseInfo,
    conf: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    actions: Sequence[CaseAction],
    takeover_delay: dt.timedelta,
) -> list[Marker]:
    found: dict[str, Marker] = {}
    day = conf.get("last_working_day") if info.kind in ("person", "layoff") else None
    rescheduled = [a for a in actions if a.action == "reschedule" and a.fields.get("last_working_day")]
    basis = "the form"
    if rescheduled:
        day, basis = rescheduled[-1].fields["last_working_day"], f"rescheduled by {rescheduled[-1].by}"
    if day:
        try:
            at = end_of_local_day(str(day)).astimezone(dt.UTC)
            found["last working day ends"] = Marker(
                "deadline", "last working day ends", at, f"{day}, {basis}"
            )
        except (TypeError, ValueError):
            pass
    transfers: list[dt.datetime] = []
    for row in rows:
        step = str(row["task_id"]).rpartition(".")[2]
        value = row.get("plan_value")
        if step in PLAN_XCOMS and isinstance(value, Mapping):
            for key, title in PLAN_XCOMS[step]:
                at = parse_xcom_instant(value.get(key))
                if at is not None:
                    found[title] = Marker("deadline", title, at.astimezone(dt.UTC), f"planned by {step}")
        if row["operator"] in LEGAL_WAIT_OPERATORS:
            rendered = row["rendered_fields"] if isinstance(row["rendered_fields"], Mapping) else {}
            at = parse_xcom_instant(rendered.get("deadline"))
            title = WAIT_TITLES.get(step) or str(rendered.get("waiting_for") or step)
            if at is not None and title not in found:
                found[title] = Marker("deadline", title, at.astimezone(dt.UTC), f"waited for by {step}")
        if step in TRANSFER_STEPS and row["ti_state"] == "success":
            end = _aware(row["ti_end"])
            if end is not None:
                transfers.append(end)
    if transfers:
        at = max(transfers) + takeover_delay
        found[TAKEOVER_TITLE] = Marker(
            "deadline",
            TAKEOVER_TITLE,
            at,
            f"WeCom's automatic takeover {takeover_delay} after the last transfer",
        )
    return sorted(found.values(), key=lambda m: m.at)


def _grouped(events: list[Marker]) -> list[Marker]:
    """Stalls and failures of the same step (the batches of a mapped task) as one mark, at the first."""
    kept: list[Marker] = []
    same: dict[tuple[str, str], list[Marker]] = {}
    for event in events:
        if event.kind in ("stall", "failure"):
            same.setdefault((event.kind, event.title), []).append(event)
        else:
            kept.append(event)
    for (kind, title), group in same.items():
        first = min(group, key=lambda m: m.at)
        if len(group) == 1:
            kept.append(first)
        else:
            step, _, what = title.rpartition(" ")
            kept.append(
                Marker(
                    kind, f"{step}: {len(group)} {what}", first.at, f"the first at {format_local(first.at)}"
                )
            )
    return kept


def build_timeline(
    run: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    actions: Sequence[CaseAction],
    *,
    now: dt.datetime,
    timing: AlertTiming,
    takeover_delay: dt.timedelta = dt.timedelta(hours=24),
) -> Timeline:
    """The timeline of one case; ``run`` has ``dag_id``, ``run_id``, ``conf``, ``state``, ``start_date``,
    ``queued_at``; ``rows`` one per task instance (see the module docstring)."""
    rows = list(rows)
    conf = run["conf"] if isinstance(run["conf"], Mapping) else {}
    info = CaseInfo.from_conf(str(run["dag_id"]), str(run["run_id"]), conf)
    start = _aware(run.get("start_date")) or _aware(run.get("queued_at")) or now
    run_end = _aware(run.get("end_date"))
    phases: dict[str, dict[str, Any]] = {}
    human: list[HumanStep] = []
    events: list[Marker] = []
    for row in rows:
        state = str(row["ti_state"] or "")
        began = _aware(row["ti_start"])
        ended = _aware(row["ti_end"])
        if began is None:
            continue
        current = state in CURRENT_STATES
        stalled = False
        if current:
            view = step_view(row, info, timing, now, "")
            stalled = view.stalled
            if stalled and view.stalled_for_seconds is not None:
                since = now - dt.timedelta(seconds=view.stalled_for_seconds)
                events.append(Marker("stall", f"{view.step} stalled", since, f"late by {view.stalled_for}"))
        if state == FAILED_STATE:
            events.append(
                Marker(
                    "failure",
                    f"{str(row['task_id']).rpartition('.')[2]} failed",
                    ended or began,
                    f"try {row.get('try_number') or 1}",
                )
            )
        phase = phases.setdefault(
            _phase_of(str(row["task_id"])),
            {
                "start": began,
                "end": began,
                "ongoing": False,
                "failed": False,
                "waiting": False,
                "stalled": False,
                "tasks": 0,
            },
        )
        phase["tasks"] += 1
        phase["start"] = min(phase["start"], began)
        phase["end"] = max(phase["end"], ended or now)
        phase["ongoing"] |= ended is None and state in (*WAITING_STATES, "queued", "scheduled")
        phase["failed"] |= state == FAILED_STATE
        phase["waiting"] |= state in WAITING_STATES
        phase["stalled"] |= stalled
        if row.get("asked_at") is not None or row.get("assignees") is not None:
            answered = _aware(row.get("responded_at"))
            human.append(
                HumanStep(
                    task_id=str(row["task_id"]),
                    title=str(row.get("subject") or str(row["task_id"]).rpartition(".")[2]),
                    owners=tuple(_names(row.get("assignees"))),
                    asked_at=_aware(row.get("asked_at")) or began,
                    due=parse_xcom_instant(row.get("expected_by")),
                    answered_at=answered,
                    answered_by=(", ".join(_names(row.get("responded_by"))) or "timeout default")
                    if answered
                    else None,
                    answer=", ".join(row.get("chosen_options") or []) or None,
                    stalled=stalled,
                )
            )
    bars = [
        PhaseBar(
            name=name,
            start=p["start"],
            end=p["end"] if not p["ongoing"] else now,
            state=FAILED if p["failed"] else WAITING if p["ongoing"] or p["waiting"] else DONE,
            ongoing=p["ongoing"],
            stalled=p["stalled"],
            tasks=p["tasks"],
        )
        for name, p in phases.items()
    ]
    bars.sort(key=lambda b: (b.start, b.name))
    for action in actions:
        detail = f"by {action.by}"
        if action.reason:
            detail += f": {action.reason}"
        if action.fields:
            detail += " (" + ", ".join(f"{k}={v}" for k, v in sorted(action.fields.items())) + ")"
        events.append(Marker(action.action, action.action, action.at, detail))
    events = _grouped(events)
    events.sort(key=lambda m: m.at)
    deadlines = _deadlines(info, conf, rows, actions, takeover_delay)
    human.sort(key=lambda h: h.asked_at)
    marks = [now, *(b.end for b in bars), *(d.at for d in deadlines), *(e.at for e in events)]
    marks += [h.due for h in human if h.due]
    end = max(m for m in marks if m is not None)
    if run_end is not None and not bars:
        end = max(end, run_end)
    start = min([start, *(b.start for b in bars), *(e.at for e in events)])
    return Timeline(
        case_id=info.case_id,
        who=info.subject,
        kind=info.kind,
        run_state=str(run.get("state") or ""),
        start=start,
        end=end,
        now=now,
        phases=bars,
        deadlines=deadlines,
        human_steps=human,
        events=events,
    )


__all__ = ["HumanStep", "Marker", "PhaseBar", "Timeline", "build_timeline"]
