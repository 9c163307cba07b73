"""The answer policy of a rehearsal: what each simulated person answers to each human step.

Pure: no HTTP, no Airflow import. ``AnswerPolicy.answer(step, conf=..., account=...)`` looks at one
pending human step (its task id, options and form fields), the run's conf and — for the account
deregistration steps — the sandbox's record of the person's account, and returns

* ``Answer`` — the options to choose and the evidence to fill in;
* ``Wait`` — not yet: the simulated person or reviewer has not acted in the sandbox yet;
* ``CannotAnswer`` — the rehearsal cannot answer this step (a bad override, a state no option fits);
  a person must look at it.

Defaults: approvals are approved; statutory/legal forms are "Done" (or their first option) with
plausible evidence for every field; account deregistration follows the sandbox; the company steps
choose their sensible default ("Eligible", "No objections", ...). Overrides per run id and task id
(``{"offboard-lisi": {"approve_deletion": "Reject"}}``, ``"*"`` for every run) replace the option and
may add evidence (``{"option": "Done", "params": {"reference": "X-1"}}``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The account-deregistration steps, as built by offboarding/workflows/deregistration.py (its labels are
# repeated here so the responder never imports Airflow; tests/rehearsal checks they still match).
RECORD_SUBMISSION = "record_submission"
CONFIRM_REVIEW_OUTCOME = "confirm_review_outcome"
CONFIRM_DEREGISTRATION_OUTCOME = "confirm_deregistration_outcome"
DEREGISTRATION_STEPS = frozenset({RECORD_SUBMISSION, CONFIRM_REVIEW_OUTCOME, CONFIRM_DEREGISTRATION_OUTCOME})
REVIEW_PASSED, REVIEW_REJECTED = "Review passed", "Review rejected"
DEREGISTERED, REVOKED = "Account deregistered", "Revoked: the person logged in"

#: Options a generic human step prefers, in order, before falling back to its first option.
GENERIC_PREFERENCES: tuple[str, ...] = ("Done", "Approve", "OK", "Yes")

#: The company steps' defaults: the first option that starts with one of these (case-insensitive).
COMPANY_PREFERENCES: dict[str, tuple[str, ...]] = {
    "confirm_procedure_eligibility": ("Eligible",),
    "confirm_tax_deregistration": ("清税证明 issued", "清税证明 obtained", "Tax cleared", "Done"),
    "confirm_social_insurance_closed": ("Social insurance closed", "Closed", "Done"),
    "record_notice_publication": ("Published", "Notice published", "Done"),
    "record_creditor_objections": ("No objections", "No objection", "None"),
    "resolve_creditor_objection": ("Resolved", "Settled", "Done"),
    "close_wecom_enterprise": ("Enterprise closed", "Closed", "Dissolved", "Done"),
}


@dataclass(frozen=True)
class HumanStep:
    """One pending human step, as Airflow's ``hitlDetails`` API describes it."""

    dag_id: str
    run_id: str
    task_id: str
    options: tuple[str, ...]
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    assigned_users: tuple[str, ...] = ()
    subject: str = ""
    map_index: int = -1
    try_number: int = 1
    state: str | None = None
    multiple: bool = False

    @property
    def name(self) -> str:
        """The task id without its task-group prefix (``statutory_steps.stop_social_insurance`` → …)."""
        return self.task_id.rsplit(".", 1)[-1]

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        """Identifies one try of one step (a retried step is a new question)."""
        return (self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)

    @property
    def label(self) -> str:
        return f"{self.run_id} {self.task_id}"

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> HumanStep:
        """Build from one item of ``GET .../hitlDetails``."""
        ti = item.get("task_instance") or {}
        params = {
            str(name): spec if isinstance(spec, Mapping) else {"value": spec, "schema": {}}
            for name, spec in (item.get("params") or {}).items()
        }
        users = tuple(str(u.get("id") or u.get("name")) for u in item.get("assigned_users") or [])
        return cls(
            dag_id=str(ti.get("dag_id")),
            run_id=str(ti.get("dag_run_id") or ti.get("run_id")),
            task_id=str(ti.get("task_id")),
            options=tuple(item.get("options") or ()),
            params=params,
            assigned_users=users,
            subject=str(item.get("subject") or ""),
            map_index=int(ti.get("map_index", -1)),
            try_number=int(ti.get("try_number") or 1),
            state=ti.get("state"),
            multiple=bool(item.get("multiple")),
        )


@dataclass(frozen=True)
class Answer:
    """Choose ``chosen_options`` and send ``params_input`` as the evidence; ``why`` is for the log."""

    chosen_options: tuple[str, ...]
    params_input: Mapping[str, Any]
    why: str


@dataclass(frozen=True)
class Wait:
    """Not yet: the simulated person or reviewer has not done what this step records."""

    reason: str


@dataclass(frozen=True)
class CannotAnswer:
    """The rehearsal cannot answer this step; a person has to."""

    reason: str


Decision = Answer | Wait | CannotAnswer


@dataclass(frozen=True)
class Override:
    """A per-run, per-task replacement of the default answer."""

    option: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: Any, where: str) -> Override:
        """From ``"Reject"`` or ``{"option": "Reject", "params": {...}}``; ValueError naming ``where``."""
        if isinstance(value, str):
            if not value.strip():
                raise ValueError(f"overrides[{where}]: the option must not be empty")
            return cls(option=value)
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"option", "params"})
            if unknown:
                raise ValueError(f"overrides[{where}]: unknown key(s) {unknown}; use 'option' and 'params'")
            option, params = value.get("option"), value.get("params")
            params = {} if params is None else params
            if option is not None and (not isinstance(option, str) or not option.strip()):
                raise ValueError(f"overrides[{where}].option: must be a non-empty string, got {option!r}")
            if not isinstance(params, Mapping):
                raise ValueError(f"overrides[{where}].params: must be an object, got {type(params).__name__}")
            if option is None and not params:
                raise ValueError(f"overrides[{where}]: give an 'option', 'params' or both")
            return cls(option=option, params=dict(params))
        raise ValueError(
            f"overrides[{where}]: must be an option name or {{'option': ..., 'params': {{...}}}}, "
            f"got {type(value).__name__}"
        )


def parse_overrides(raw: Mapping[str, Any] | None) -> dict[str, dict[str, Override]]:
    """``{run_id or "*": {task_id: option | {"option", "params"}}}`` → parsed, checked overrides."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"overrides: must map run ids to {{task_id: option}}, got {type(raw).__name__}")
    parsed: dict[str, dict[str, Override]] = {}
    for run_id, tasks in raw.items():
        if not isinstance(run_id, str) or not run_id:
            raise ValueError(f"overrides: run id keys must be non-empty strings, got {run_id!r}")
        if not isinstance(tasks, Mapping):
            raise ValueError(f"overrides[{run_id}]: must map task ids to options, got {type(tasks).__name__}")
        parsed[run_id] = {
            str(task_id): Override.parse(value, f"{run_id}][{task_id}") for task_id, value in tasks.items()
        }
    return parsed


def _now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _local_text(instant: str | None) -> str | None:
    """A sandbox instant (``...Z``) as an ISO date-time in Asia/Shanghai (+08:00), to the second."""
    if not instant:
        return None
    parsed = dt.datetime.fromisoformat(str(instant).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _schema_type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or [])
    non_null = [t for t in types if t != "null"]
    return non_null[0] if non_null else None


def prefer(options: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first candidate found among ``options`` (exact, else option starting with it, ignoring case)."""
    for candidate in candidates:
        if candidate in options:
            return candidate
    for candidate in candidates:
        wanted = candidate.casefold()
        for option in options:
            if option.casefold().startswith(wanted):
                return option
    return None


class AnswerPolicy:
    """What the people of a rehearsal answer; see the module docstring for the defaults."""

    def __init__(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        company_preferences: Mapping[str, Sequence[str]] | None = None,
        now: Callable[[], dt.datetime] = _now_utc,
    ) -> None:
        self.overrides = parse_overrides(overrides)
        self.company_preferences = {**COMPANY_PREFERENCES, **dict(company_preferences or {})}
        self._now = now

    # -- which steps need the sandbox ------------------------------------------------------------
    def override_for(self, step: HumanStep) -> Override | None:
        """The override of this run (else of ``"*"``) for the task id or its short name, if any."""
        for run_key in (step.run_id, "*"):
            tasks = self.overrides.get(run_key) or {}
            for task_key in (step.task_id, step.name):
                if task_key in tasks:
                    return tasks[task_key]
        return None

    def needs_account(self, step: HumanStep) -> bool:
        """True when the answer depends on the sandbox's account of the person (deregistration)."""
        override = self.override_for(step)
        return step.name in DEREGISTRATION_STEPS and (override is None or override.option is None)

    @staticmethod
    def account_userid(conf: Mapping[str, Any]) -> str | None:
        """Whose account a deregistration step is about: the person, or the company's admin."""
        userid = conf.get("userid") or conf.get("admin_userid")
        return str(userid) if userid else None

    # -- evidence --------------------------------------------------------------------------------
    def evidence_value(self, step: HumanStep, name: str, spec: Mapping[str, Any]) -> Any:
        """A plausible value for one form field, from its JSON schema."""
        schema = spec.get("schema") or {}
        enum = [v for v in schema.get("enum") or [] if v is not None]
        if enum:
            return enum[0]
        kind = _schema_type(schema)
        now = self._now().astimezone(SHANGHAI)
        fmt = schema.get("format")
        if kind == "boolean":
            return True
        if kind in ("integer", "number"):
            minimum = schema.get("minimum")
            return minimum if isinstance(minimum, int | float) and minimum > 0 else 0
        if kind == "array":
            return [f"REHEARSAL-{step.name}"] if schema.get("minItems") else []
        if kind == "object":
            return {}
        if kind == "string" or (kind is None and fmt):
            if fmt == "date":
                return now.date().isoformat()
            if fmt == "date-time":
                return now.isoformat(timespec="seconds")
            if fmt == "time":
                return now.time().isoformat(timespec="seconds")
            return f"REHEARSAL-{step.name}"
        value = spec.get("value")
        return value if value is not None else f"REHEARSAL-{step.name}"

    def evidence(self, step: HumanStep) -> dict[str, Any]:
        """Plausible evidence for every field of the step's form."""
        return {name: self.evidence_value(step, name, spec) for name, spec in step.params.items()}

    # -- the decision ----------------------------------------------------------------------------
    def answer(
        self,
        step: HumanStep,
        *,
        conf: Mapping[str, Any] | None = None,
        account: Mapping[str, Any] | None = None,
    ) -> Decision:
        """What to answer to ``step`` now (``account`` is the sandbox account for deregistration steps)."""
        if not step.options:
            return CannotAnswer(f"{step.label}: the step offers no option")
        override = self.override_for(step)
        if override is not None and override.option is not None:
            if override.option not in step.options:
                return CannotAnswer(
                    f"{step.label}: the override {override.option!r} is not an option of this step "
                    f"(options: {', '.join(step.options)})"
                )
            params = {**self.evidence(step), **override.params}
            return Answer((override.option,), params, f"override for {step.run_id}")
        if step.name in DEREGISTRATION_STEPS:
            decision = self._deregistration(step, conf or {}, account)
        else:
            decision = self._default(step)
        if isinstance(decision, Answer) and override is not None:
            params = {**decision.params_input, **override.params}
            return Answer(decision.chosen_options, params, decision.why + " (evidence overridden)")
        return decision

    def _default(self, step: HumanStep) -> Decision:
        company = self.company_preferences.get(step.name)
        chosen = prefer(step.options, company) if company else None
        why = "company default" if chosen else "default"
        chosen = chosen or prefer(step.options, GENERIC_PREFERENCES) or step.options[0]
        return Answer((chosen,), self.evidence(step), why)

    def _option(self, step: HumanStep, label: str) -> str | CannotAnswer:
        if label in step.options:
            return label
        return CannotAnswer(
            f"{step.label}: expected the option {label!r}, the step offers {', '.join(step.options)} "
            "(did workflows/deregistration.py change its labels?)"
        )

    def _deregistration(
        self, step: HumanStep, conf: Mapping[str, Any], account: Mapping[str, Any] | None
    ) -> Decision:
        userid = self.account_userid(conf)
        if userid is None:
            return CannotAnswer(f"{step.label}: the run's conf names no userid/admin_userid")
        if account is None:
            return CannotAnswer(f"{step.label}: the sandbox's account of {userid} is not available")
        status = account.get("status")
        evidence = self.evidence(step)
        if step.name == RECORD_SUBMISSION:
            return self._submission(step, userid, account, evidence)
        if step.name == CONFIRM_REVIEW_OUTCOME:
            outcome = account.get("review_outcome")
            if outcome == "pass":
                chosen = self._option(step, REVIEW_PASSED)
                params = {**evidence, "reason": None} if "reason" in evidence else evidence
                why = f"the sandbox reviewer passed {userid}'s request"
            elif outcome == "reject":
                chosen = self._option(step, REVIEW_REJECTED)
                params = {**evidence, "reason": account.get("reject_reason") or "rejected"}
                why = f"the sandbox reviewer rejected {userid}'s request"
            elif status == "under_review":
                hint = account.get("review_due_hint")
                return Wait(
                    f"{userid}'s request is under review" + (f" (expected by {hint})" if hint else "")
                )
            else:
                return CannotAnswer(
                    f"{step.label}: {userid}'s account is {status!r} with no review outcome "
                    "(e.g. a login revoked the request during the review); answer it in the UI"
                )
            if isinstance(chosen, CannotAnswer):
                return chosen
            return Answer((chosen,), params, why)
        # CONFIRM_DEREGISTRATION_OUTCOME
        if status == "deregistered":
            chosen = self._option(step, DEREGISTERED)
            params = {**evidence, "revoked_at": None} if "revoked_at" in evidence else evidence
            why = f"the sandbox deregistered {userid}'s account"
        elif status == "revoked" or account.get("revoked_at"):
            chosen = self._option(step, REVOKED)
            params = {**evidence, "revoked_at": _local_text(account.get("revoked_at"))}
            why = f"{userid} logged in during the cooling-off"
        elif status in ("cooling_off", "under_review"):
            ends = account.get("cooling_off_ends_at")
            return Wait(f"{userid}'s account is {status}" + (f" until {ends}" if ends else ""))
        else:
            return CannotAnswer(f"{step.label}: {userid}'s account is {status!r}; no outcome fits")
        if isinstance(chosen, CannotAnswer):
            return chosen
        return Answer((chosen,), params, why)

    def _submission(
        self, step: HumanStep, userid: str, account: Mapping[str, Any], evidence: dict[str, Any]
    ) -> Decision:
        submitted = account.get("submitted_at")
        if submitted:
            chosen = prefer(step.options, GENERIC_PREFERENCES) or step.options[0]
            params = {**evidence, "submitted_at": _local_text(submitted)}
            return Answer((chosen,), params, f"{userid} submitted the request in the sandbox at {submitted}")
        refusals = [e for e in account.get("events") or [] if e.get("event") == "submission_refused"]
        if refusals:
            return CannotAnswer(
                f"{step.label}: WeCom refused {userid}'s deregistration: {refusals[-1].get('reason')}"
            )
        return Wait(f"{userid} has not submitted the deregistration yet (account {account.get('status')})")


__all__ = [
    "COMPANY_PREFERENCES",
    "CONFIRM_DEREGISTRATION_OUTCOME",
    "CONFIRM_REVIEW_OUTCOME",
    "DEREGISTERED",
    "RECORD_SUBMISSION",
    "REVIEW_PASSED",
    "REVIEW_REJECTED",
    "REVOKED",
    "Answer",
    "AnswerPolicy",
    "CannotAnswer",
    "Decision",
    "HumanStep",
    "Override",
    "Wait",
    "parse_overrides",
    "prefer",
]
