"""A case's lifecycle after the trigger: rescind, reschedule, hold/release, correct — the record and the rules.

Airflow-free and pure. The REST handlers (:mod:`offboarding.cases_page.actions_api`) are the only
writers of the action record (table ``offboarding_case_action``); they ask :func:`decide` whether an
action applies now, store it, and serve ``GET /offboarding/api/cases/{case_id}`` — the JSON form of
:class:`CaseControls`, built by :func:`fold` from the accepted actions. Tasks read that JSON over REST
(:meth:`CaseControls.from_json`) and use :attr:`CaseControls.held`, :attr:`CaseControls.rescinded`,
:meth:`CaseControls.effective_last_working_day` and :meth:`CaseControls.corrected`.

The rules (one implementation for the page, the CLI and REST):

* **rescind** (``reason`` required): refused once the member was deleted (a person: ``deletion.delete_member``
  started; a company: the first member batch or the leaders' batch started, or the enterprise closure),
  with "irreversible since <time>: <what was done>" and what can still be done; refused when already
  rescinded or when the case closed.
* **reschedule** (``last_working_day`` YYYY-MM-DD, not before today in Asia/Shanghai): a person case only,
  while no handover step started; refused after, naming the step.
* **hold** (``reason`` required): refused when already held, rescinded or closed. **release**: only when held.
* **correct** (``successor_userid``, ``approvers``, ``hr_owner``, ``notify``): each field refused once the
  step that uses it started (named); values validated with the trigger form's validation, including the
  separation of duties against the acting user and the deployment's lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

RESCIND = "rescind"
RESCHEDULE = "reschedule"
HOLD = "hold"
RELEASE = "release"
CORRECT = "correct"
ACTIONS = (RESCIND, RESCHEDULE, HOLD, RELEASE, CORRECT)
ACCEPTED = "accepted"

#: The case's state as ``GET /offboarding/api/cases/{case_id}`` reports it.
OPEN, ON_HOLD, RESCINDING, RESCINDED, CLOSED, FAILED = (
    "open",
    "on_hold",
    "rescinding",
    "rescinded",
    "closed",
    "failed",
)
STATES = (OPEN, ON_HOLD, RESCINDING, RESCINDED, CLOSED, FAILED)
#: A new case for the same member may be opened only when every earlier one is in one of these.
FINAL_STATES = (CLOSED, RESCINDED)

CORRECTABLE_FIELDS = ("successor_userid", "approvers", "hr_owner", "notify")
DATE_FORMAT = "%Y-%m-%d"

#: Task-instance states of a step that started (it may have acted already).
STARTED_STATES = frozenset(
    {
        "running",
        "success",
        "failed",
        "up_for_retry",
        "up_for_reschedule",
        "deferred",
        "awaiting_input",
        "restarting",
    }
)
#: Task-instance states of a step that has not finished (may still be stopped or skipped).
UNFINISHED_STATES = frozenset(
    {
        None,
        "none",
        "scheduled",
        "queued",
        "up_for_retry",
        "up_for_reschedule",
        "deferred",
        "awaiting_input",
        "restarting",
    }
)


# --- the record ------------------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def _parse_instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)
    return None


@dataclass(frozen=True)
class CaseAction:
    """One accepted action on a case (a row of ``offboarding_case_action``)."""

    id: int
    case_id: str
    dag_id: str
    run_id: str
    action: str
    by_user: str
    at: dt.datetime
    reason: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = ACCEPTED

    def to_json(self) -> dict[str, Any]:
        """The history entry of ``GET /offboarding/api/cases/{case_id}``."""
        return {
            "id": self.id,
            "action": self.action,
            "by": self.by_user,
            "at": _iso(self.at),
            "reason": self.reason,
            "fields": dict(self.fields),
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, case_id: str, dag_id: str, run_id: str) -> CaseAction:
        at = _parse_instant(data.get("at")) or dt.datetime.fromtimestamp(0, dt.UTC)
        return cls(
            id=int(data["id"]),
            case_id=case_id,
            dag_id=dag_id,
            run_id=run_id,
            action=str(data["action"]),
            by_user=str(data.get("by") or ""),
            at=at,
            reason=data.get("reason"),
            fields=dict(data.get("fields") or {}),
            outcome=str(data.get("outcome") or ACCEPTED),
        )


@dataclass(frozen=True)
class Hold:
    """A legal or compliance hold in force."""

    since: str
    by: str
    reason: str
    action_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "by": self.by, "reason": self.reason}


@dataclass(frozen=True)
class Rescind:
    """The accepted rescind (the case stops and is undone)."""

    at: str
    by: str
    reason: str
    action_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "by": self.by, "reason": self.reason, "action_id": self.action_id}


@dataclass(frozen=True)
class CaseControls:
    """What the case's actions say now: hold, rescind, effective last working day, corrected fields."""

    case_id: str
    dag_id: str
    run_id: str
    kind: str = "person"
    state: str = OPEN
    phase: str = ""
    hold: Hold | None = None
    rescind: Rescind | None = None
    last_working_day: str | None = None
    corrections: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[CaseAction, ...] = ()

    @property
    def held(self) -> bool:
        """A hold is in force: nothing irreversible may run."""
        return self.hold is not None

    @property
    def rescinded(self) -> bool:
        """A rescind was accepted: the case must stop (its undo may still be running)."""
        return self.rescind is not None

    def effective_last_working_day(self, form_value: str | None) -> str | None:
        """The last accepted reschedule, else the form's value."""
        rescheduled = next(
            (a.fields.get("last_working_day") for a in reversed(self.history) if a.action == RESCHEDULE),
            None,
        )
        return rescheduled or form_value

    def corrected(self, field_name: str, form_value: Any) -> Any:
        """The latest accepted correction of ``field_name``, else the form's value."""
        return self.corrections.get(field_name, form_value)

    def to_json(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "kind": self.kind,
            "state": self.state,
            "phase": self.phase,
            "hold": self.hold.to_json() if self.hold else None,
            "rescind": self.rescind.to_json() if self.rescind else None,
            "last_working_day": self.last_working_day,
            "corrections": dict(self.corrections),
            "history": [a.to_json() for a in self.history],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CaseControls:
        """The controls from ``GET /offboarding/api/cases/{case_id}`` (raises ValueError on a bad shape)."""
        try:
            case_id, dag_id, run_id = str(data["case_id"]), str(data["dag_id"]), str(data["run_id"])
            hold_data, rescind_data = data.get("hold"), data.get("rescind")
            hold = (
                Hold(
                    since=str(hold_data["since"]),
                    by=str(hold_data.get("by") or ""),
                    reason=str(hold_data.get("reason") or ""),
                )
                if isinstance(hold_data, Mapping)
                else None
            )
            rescind = (
                Rescind(
                    at=str(rescind_data["at"]),
                    by=str(rescind_data.get("by") or ""),
                    reason=str(rescind_data.get("reason") or ""),
                    action_id=rescind_data.get("action_id"),
                )
                if isinstance(rescind_data, Mapping)
                else None
            )
            history = tuple(
                CaseAction.from_json(h, case_id=case_id, dag_id=dag_id, run_id=run_id)
                for h in data.get("history") or ()
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"not a case's controls: {err}") from None
        state = str(data.get("state") or OPEN)
        return cls(
            case_id=case_id,
            dag_id=dag_id,
            run_id=run_id,
            kind=str(data.get("kind") or "person"),
            state=state if state in STATES else OPEN,
            phase=str(data.get("phase") or ""),
            hold=hold,
            rescind=rescind,
            last_working_day=data.get("last_working_day"),
            corrections=dict(data.get("corrections") or {}),
            history=history,
        )


def fold(
    actions: Iterable[CaseAction],
    *,
    case_id: str,
    dag_id: str,
    run_id: str,
    kind: str = "person",
    form_last_working_day: str | None = None,
    state: str = OPEN,
    phase: str = "",
) -> CaseControls:
    """The controls the accepted actions add up to, oldest first (later corrections win)."""
    history = tuple(sorted((a for a in actions if a.outcome == ACCEPTED), key=lambda a: (a.at, a.id)))
    hold: Hold | None = None
    rescind: Rescind | None = None
    last_working_day = form_last_working_day
    corrections: dict[str, Any] = {}
    for a in history:
        if a.action == HOLD:
            hold = Hold(since=_iso(a.at) or "", by=a.by_user, reason=a.reason or "", action_id=a.id)
        elif a.action == RELEASE:
            hold = None
        elif a.action == RESCIND:
            rescind = Rescind(at=_iso(a.at) or "", by=a.by_user, reason=a.reason or "", action_id=a.id)
        elif a.action == RESCHEDULE and a.fields.get("last_working_day"):
            last_working_day = str(a.fields["last_working_day"])
        elif a.action == CORRECT:
            corrections.update(a.fields)
    return CaseControls(
        case_id=case_id,
        dag_id=dag_id,
        run_id=run_id,
        kind=kind,
        state=state,
        phase=phase,
        hold=hold,
        rescind=rescind,
        last_working_day=last_working_day,
        corrections=corrections,
        history=history,
    )


# --- where the run is --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRun:
    """One step of the run (mapped instances folded: earliest start, latest end, any started)."""

    task_id: str
    state: str | None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None

    @property
    def started(self) -> bool:
        return self.state in STARTED_STATES or self.started_at is not None

    @property
    def finished_ok(self) -> bool:
        return self.state in ("success", "skipped")


@dataclass(frozen=True)
class CaseProgress:
    """Which steps of the case's run ran, from its task instances (Airflow's own record)."""

    run_state: str | None
    steps: Mapping[str, StepRun] = field(default_factory=dict)
    run_ended_at: dt.datetime | None = None

    @classmethod
    def from_task_instances(
        cls,
        run_state: str | None,
        rows: Iterable[Mapping[str, Any]],
        *,
        run_ended_at: dt.datetime | None = None,
    ) -> CaseProgress:
        """``rows``: ``task_id``, ``state``, ``start_date``, ``end_date`` (one per task instance)."""
        steps: dict[str, StepRun] = {}
        for row in rows:
            task_id = str(row["task_id"])
            state = row.get("state")
            state = str(state) if state is not None else None
            start, end = _parse_instant(row.get("start_date")), _parse_instant(row.get("end_date"))
            seen = steps.get(task_id)
            if seen is not None:
                # A mapped step: "started" if any instance started; the earliest start, the latest end.
                if seen.state in STARTED_STATES and state not in STARTED_STATES:
                    state = seen.state
                start = min((t for t in (seen.started_at, start) if t is not None), default=None)
                end = max((t for t in (seen.ended_at, end) if t is not None), default=None)
            steps[task_id] = StepRun(task_id, state, start, end)
        return cls(run_state=run_state, steps=steps, run_ended_at=_parse_instant(run_ended_at))

    def step(self, task_id: str) -> StepRun | None:
        return self.steps.get(task_id)

    def first_started(self, task_ids: Sequence[str]) -> StepRun | None:
        """The step of ``task_ids`` (exact ids, or ``group.`` prefixes) that started first, if any."""
        started = [
            s
            for s in self.steps.values()
            if s.started
            and any(s.task_id == t or (t.endswith(".") and s.task_id.startswith(t)) for t in task_ids)
        ]
        if not started:
            return None
        far = dt.datetime.max.replace(tzinfo=dt.UTC)
        return min(started, key=lambda s: (s.started_at or far, s.task_id))

    @property
    def closed(self) -> bool:
        return self.run_state == "success"


# --- the steps each rule is about ----------------------------------------------------------------------

#: Steps after which a person case can no longer be undone (the member is gone from WeCom).
PERSON_IRREVERSIBLE = ("deletion.delete_member",)
#: A company: the member batches (each deletes members) and the enterprise closure.
COMPANY_IRREVERSIBLE = (
    "offboard_all_members.offboard_member_batch",
    "offboard_all_members.offboard_leaders",
    "close_wecom_enterprise",
)
#: The handover starts what a reschedule can no longer move.
HANDOVER_STEPS = ("handover.",)
#: The kinds of case with a last working day, and the steps after which it can no longer move.
RESCHEDULABLE = {"person": HANDOVER_STEPS, "layoff": ("offboard_all_members.offboard_member_batch",)}
#: The first step that uses each correctable field, per kind (prefix ``x.``: any step of the group).
FIELD_STEPS: dict[str, dict[str, tuple[str, ...]]] = {
    "person": {
        "successor_userid": ("handover.", "deletion.transfer_resigned_customers"),
        "approvers": ("approve_deletion",),
        "hr_owner": ("statutory_steps.", "deregistration."),
        "notify": ("close_case",),
    },
    "company": {
        "successor_userid": ("offboard_all_members.",),
        "approvers": ("approve_member_deletion",),
        "notify": ("close_case",),
    },
    "layoff": {
        "approvers": ("approve_member_deletion",),
        "notify": ("close_case",),
    },
}
STILL_POSSIBLE_AFTER_DELETION = {
    "person": (
        "re-invite the person to WeCom as a new member (a new account: the old one's chats are gone) "
        "and hand customers back from the successor with an on-job transfer (在职继承)"
    ),
    "company": (
        "stop the wind-up outside WeCom and re-invite the deleted members; hold the case to stop "
        "further batches while you decide"
    ),
    "layoff": (
        "re-invite the deleted persons as new members and hand customers back from their successors; hold "
        "the case to stop further batches while you decide"
    ),
}


# --- the decision ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """The action applies now; record it with ``reason`` and ``fields``."""

    action: str
    reason: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    """Not applicable now (HTTP 409): why, since when, and what can still be done."""

    reason: str
    since: str | None = None
    can_still: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"detail": self.reason, "since": self.since, "can_still": self.can_still}


@dataclass(frozen=True)
class Invalid:
    """A bad body (HTTP 422), naming the field."""

    field: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"detail": f"{self.field}: {self.message}", "field": self.field}


Decision = Accepted | Refused | Invalid
#: ``(merged conf, acting user) -> [(field, message), ...]``: the trigger form's validation of a corrected conf.
Validator = Callable[[Mapping[str, Any], str], Sequence[tuple[str, str]]]


def _reason(body: Mapping[str, Any]) -> str | Invalid:
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return Invalid("reason", "required: say why (it goes into the case's evidence ledger)")
    if len(reason) > 2000:
        return Invalid("reason", "at most 2000 characters")
    return reason.strip()


def _when(step: StepRun) -> str | None:
    return _iso(step.ended_at if step.state == "success" and step.ended_at else step.started_at)


def _over(controls: CaseControls, progress: CaseProgress) -> Refused | None:
    """Refusal common to every action: the case was rescinded or closed."""
    if controls.rescind is not None:
        return Refused(
            f"the case was rescinded by {controls.rescind.by} ({controls.rescind.reason})",
            since=controls.rescind.at,
        )
    if progress.closed:
        return Refused("the case is closed", since=_iso(progress.run_ended_at))
    return None


def _irreversible(controls: CaseControls, progress: CaseProgress) -> Refused | None:
    company = controls.kind != "person"  # a company's or a layoff list's batches delete members
    step = progress.first_started(COMPANY_IRREVERSIBLE if company else PERSON_IRREVERSIBLE)
    if step is None:
        return None
    if company:
        what = (
            "the WeCom enterprise closure started"
            if step.task_id == "close_wecom_enterprise"
            else f"member deletion started ({step.task_id}: a batch deletes members)"
        )
    elif step.state == "success":
        what = "the member was deleted from WeCom (deletion.delete_member)"
    else:
        what = f"the member deletion started (deletion.delete_member is {step.state})"
    return Refused(
        f"irreversible since {_when(step)}: {what}",
        since=_when(step),
        can_still=STILL_POSSIBLE_AFTER_DELETION[controls.kind],
    )


def _date(value: Any, today: dt.date) -> dt.date | Invalid:
    if not isinstance(value, str):
        return Invalid("last_working_day", "required: a date YYYY-MM-DD")
    try:
        day = dt.datetime.strptime(value, DATE_FORMAT).date()
    except ValueError:
        return Invalid("last_working_day", f"{value!r} is not a date YYYY-MM-DD")
    if day < today:
        return Invalid("last_working_day", f"{value} is in the past (today is {today.isoformat()})")
    return day


def decide(
    action: str,
    body: Any,
    controls: CaseControls,
    progress: CaseProgress,
    *,
    today: dt.date | None = None,
    acting_user: str = "",
    form: Mapping[str, Any] | None = None,
    validate: Validator | None = None,
) -> Decision:
    """Whether ``action`` with ``body`` applies to the case now.

    ``today``: the date in Asia/Shanghai (reschedule); ``form``: the run's conf and ``validate`` the
    trigger form's validation (correct).
    """
    if action not in ACTIONS:
        return Invalid("action", f"must be one of {', '.join(ACTIONS)}, got {action!r}")
    if not isinstance(body, Mapping):
        return Invalid("body", "must be a JSON object")
    if action == RESCIND:
        return _decide_rescind(body, controls, progress)
    if action == RESCHEDULE:
        return _decide_reschedule(body, controls, progress, today or dt.date.today())
    if action == HOLD:
        return _decide_hold(body, controls, progress)
    if action == RELEASE:
        unknown = sorted(set(body) - {"reason"})
        if unknown:
            return Invalid(unknown[0], "not a field of release (send {} or a reason)")
        if controls.hold is None:
            return Refused("the case is not on hold")
        if (over := _over(controls, progress)) is not None:
            return over
        reason = body.get("reason")
        return Accepted(
            RELEASE, reason=reason.strip() if isinstance(reason, str) and reason.strip() else None
        )
    return _decide_correct(body, controls, progress, acting_user, form or {}, validate)


def _decide_rescind(body: Mapping[str, Any], controls: CaseControls, progress: CaseProgress) -> Decision:
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        return Invalid(unknown[0], 'not a field of rescind (send {"reason": ...})')
    reason = _reason(body)
    if isinstance(reason, Invalid):
        return reason
    if controls.rescind is not None:
        return Refused(f"the case was already rescinded by {controls.rescind.by}", since=controls.rescind.at)
    if (irreversible := _irreversible(controls, progress)) is not None:
        return irreversible
    if progress.closed:
        return Refused("the case is closed", since=_iso(progress.run_ended_at))
    return Accepted(RESCIND, reason=reason)


def _decide_reschedule(
    body: Mapping[str, Any], controls: CaseControls, progress: CaseProgress, today: dt.date
) -> Decision:
    unknown = sorted(set(body) - {"last_working_day", "reason"})
    if unknown:
        return Invalid(unknown[0], 'not a field of reschedule (send {"last_working_day": "YYYY-MM-DD"})')
    if controls.kind not in RESCHEDULABLE:
        return Invalid("last_working_day", f"a {controls.kind} case has no last working day to reschedule")
    day = _date(body.get("last_working_day"), today)
    if isinstance(day, Invalid):
        return day
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        return Invalid("reason", "must be text")
    if (over := _over(controls, progress)) is not None:
        return over
    started = progress.first_started(RESCHEDULABLE[controls.kind])
    if started is not None:
        return Refused(
            f"the handover started ({started.task_id} at {_iso(started.started_at)}): the last working "
            "day can no longer move",
            since=_iso(started.started_at),
            can_still="rescind the case if the person stays" if controls.kind == "person" else None,
        )
    return Accepted(
        RESCHEDULE,
        reason=reason.strip() if isinstance(reason, str) and reason.strip() else None,
        fields={"last_working_day": day.isoformat()},
    )


def _decide_hold(body: Mapping[str, Any], controls: CaseControls, progress: CaseProgress) -> Decision:
    unknown = sorted(set(body) - {"reason"})
    if unknown:
        return Invalid(unknown[0], 'not a field of hold (send {"reason": ...})')
    reason = _reason(body)
    if isinstance(reason, Invalid):
        return reason
    if controls.hold is not None:
        return Refused(
            f"the case is already on hold by {controls.hold.by} ({controls.hold.reason})",
            since=controls.hold.since,
        )
    if (over := _over(controls, progress)) is not None:
        return over
    return Accepted(HOLD, reason=reason)


def _decide_correct(
    body: Mapping[str, Any],
    controls: CaseControls,
    progress: CaseProgress,
    acting_user: str,
    form: Mapping[str, Any],
    validate: Validator | None,
) -> Decision:
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        return Invalid("reason", "must be text")
    values = {k: v for k, v in body.items() if k != "reason"}
    steps = FIELD_STEPS.get(controls.kind, {})
    if not values:
        return Invalid("body", f"name at least one field to correct: {', '.join(steps)}")
    for name in sorted(values):
        if name not in steps:
            return Invalid(name, f"cannot be corrected (correctable: {', '.join(steps)})")
    if (over := _over(controls, progress)) is not None:
        return over
    if validate is not None:
        merged = {**form, **controls.corrections, **values}
        for problem_field, message in validate(merged, acting_user):
            if problem_field in values:
                return Invalid(problem_field, message)
    for name in sorted(values):
        step = progress.first_started(steps[name])
        if step is not None:
            return Refused(
                f"{name} can no longer be corrected: {step.task_id}, the step that uses it, already "
                f"started ({step.state} since {_iso(step.started_at)})",
                since=_iso(step.started_at),
            )
    return Accepted(
        CORRECT,
        reason=reason.strip() if isinstance(reason, str) and reason.strip() else None,
        fields=dict(values),
    )


def case_state(progress: CaseProgress, controls: CaseControls, rescind_run_state: str | None = None) -> str:
    """The case's state: rescinding/rescinded after a rescind (by the ``offboarding_rescind`` run), else
    on_hold, else the run's: closed (success), failed, open."""
    if controls.rescind is not None:
        if rescind_run_state == "success":
            return RESCINDED
        if rescind_run_state == "failed":
            return FAILED
        return RESCINDING
    if progress.run_state == "failed":
        return FAILED
    if progress.closed:
        return CLOSED
    if controls.hold is not None:
        return ON_HOLD
    return OPEN


# --- re-offboarding: which case id a new trigger gets --------------------------------------------------


@dataclass(frozen=True)
class NewCase:
    """What a new trigger for a member is: a new case (``case_id``), the same case again, or refused."""

    outcome: str  # "new" | "same" | "refused"
    case_id: str | None
    message: str = ""


def _same_request(case: Mapping[str, Any], conf: Mapping[str, Any]) -> bool:
    """An existing case was started for the same departure (a re-run of the same sheet row or form):
    a person's same last working day, a company's same procedure."""
    for key in ("last_working_day", "procedure"):
        if key in conf:
            return case.get(key) == conf.get(key)
    return False


def new_case_for(series: Mapping[str, Any], conf: Mapping[str, Any]) -> NewCase:
    """The id a new case of this member gets, from ``GET /offboarding/api/cases/{id}/series``.

    * an existing case for the same departure (same last working day / procedure) → ``same`` (a re-run:
      nothing new is started);
    * an open case (not closed, not rescinded) → ``refused``, naming it;
    * otherwise → ``new`` with the next id (``offboard-lisi`` first, then ``offboard-lisi+2``...).
    """
    if (on_list := _on_open_list(series)) is not None:
        return NewCase("refused", None, on_list)
    cases = [c for c in series.get("cases") or () if isinstance(c, Mapping)]
    for case in cases:
        if _same_request(case, conf):
            return NewCase(
                "same", str(case.get("case_id")), f"case {case.get('case_id')} ({case.get('state')})"
            )
    open_cases = [c for c in cases if c.get("state") not in FINAL_STATES]
    if open_cases:
        first = open_cases[0]
        return NewCase(
            "refused",
            None,
            f"case {first.get('case_id')} of the same member is still open (state {first.get('state')}, run "
            f"{first.get('run_id')}): a second case is refused; follow, reschedule or rescind that one",
        )
    return NewCase("new", str(series["next_case_id"]))


def _on_open_list(series: Mapping[str, Any]) -> str | None:
    """Why a person on an open layoff list gets no case of their own (None: on no open list)."""
    lists = [str(c) for c in series.get("open_lists") or ()]
    if not lists:
        return None
    return (
        f"the person is on the open layoff list {', '.join(lists)}, which offboards them: a case of their own "
        "is refused; follow that list (or rescind it before its first batch and trigger it again without them)"
    )


def checked_case_id(run_id: str, case_id: str, conf: Mapping[str, Any], series: Mapping[str, Any]) -> str:
    """The case id ``check_case`` gives its run, from the member's other cases (``series`` without this
    run); ValueError naming the open case when a second one would be opened.

    A run whose id is a case id (bulk, CLI, REST) keeps it; a run from the UI form (``manual__...``)
    gets the member's next case id (:func:`new_case_for`).
    """
    if (on_list := _on_open_list(series)) is not None:
        raise ValueError(on_list)
    cases = [c for c in series.get("cases") or () if isinstance(c, Mapping) and c.get("run_id") != run_id]
    if run_id == case_id:
        open_cases = [c for c in cases if c.get("state") not in FINAL_STATES]
        if open_cases:
            first = open_cases[0]
            raise ValueError(
                f"case {first.get('case_id')} of the same member is still open (state {first.get('state')}, "
                f"run {first.get('run_id')}): a second case is refused; follow, reschedule or rescind that one"
            )
        return case_id
    decision = new_case_for({**series, "cases": cases}, conf)
    if decision.outcome == "same":
        raise ValueError(
            f"this departure is already {decision.message}: a second case is refused; follow that one "
            "(or rescind it and trigger again)"
        )
    if decision.outcome == "refused":
        raise ValueError(decision.message)
    assert decision.case_id is not None
    return decision.case_id


def available_actions(
    controls: CaseControls, progress: CaseProgress, *, today: dt.date | None = None
) -> dict[str, Refused | Invalid | None]:
    """Which actions apply now (None) or why not — the rules of :func:`decide` probed with a valid body,
    for the page's buttons. Keys: the actions, and ``correct:<field>`` for each correctable field."""
    day = today or dt.date.today()
    probes: dict[str, tuple[str, dict[str, Any]]] = {
        RESCIND: (RESCIND, {"reason": "probe"}),
        RESCHEDULE: (RESCHEDULE, {"last_working_day": day.isoformat()}),
        HOLD: (HOLD, {"reason": "probe"}),
        RELEASE: (RELEASE, {}),
    }
    for name in FIELD_STEPS.get(controls.kind, {}):
        probes[f"{CORRECT}:{name}"] = (CORRECT, {name: "probe"})
    found: dict[str, Refused | Invalid | None] = {}
    for key, (action, body) in probes.items():
        decision = decide(action, body, controls, progress, today=day)
        found[key] = None if isinstance(decision, Accepted) else decision
    return found
