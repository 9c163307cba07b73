"""Human steps: something only a person can do (tax office, social insurance, the in-app request).

A human step is an Airflow human-in-the-loop task with

* an **owner** (Airflow user names, templated from the trigger form, e.g. ``{{ params.hr_owner }}``):
  only they may answer it in *Browse › Required Actions* or through the REST API;
* **evidence fields** rendered as a form (certificate number, date, reference, ...), the required ones
  checked when the answer arrives — an unanswered form never completes itself with defaults;
* an **expected duration** from the duration policy (``include/policy.yaml``), recorded with the request
  so stalled steps can be alerted on;
* optionally ``after_deadline``: a legal deadline (:mod:`offboarding.operators.deadlines`) the step is
  asked only after, checked again when it starts whatever state the wait before it is in.

Every request and answer is written to the case's evidence ledger with who answered and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from airflow.providers.standard.operators.hitl import HITLBranchOperator, HITLOperator
from airflow.sdk import Context, Param

from offboarding.operators.base import Case, with_retry_defaults


class EvidenceField(NamedTuple):
    """One field of a human step's form."""

    title: str
    description: str = ""
    type: str = "string"  # "string" | "boolean" | "integer" | "number"
    format: str | None = None  # "date", "date-time", "multiline", ...
    required: bool = True
    enum: Sequence[str] | None = None
    required_for: Sequence[str] | None = None  # answers that need this field; None: every answer
    extra: Mapping[str, Any] = MappingProxyType({})

    def is_required(self, chosen: Sequence[str]) -> bool:
        return self.required and (self.required_for is None or bool(set(chosen) & set(self.required_for)))

    def to_param(self) -> Param:
        # Trap: a HITL form param needs a default that passes its own schema, so every field is
        # nullable with default None; "required" is enforced when the answer arrives.
        schema: dict[str, Any] = {"type": ["null", self.type], "title": self.title}
        if self.description:
            schema["description"] = self.description
        if self.format:
            schema["format"] = self.format
        if self.enum is not None:
            schema["enum"] = [None, *self.enum]
        schema.update(self.extra)
        return Param(None, source="task", **schema)


def _users(assignees: str | Sequence[str] | None) -> list[dict[str, str]]:
    if not assignees:
        return []
    names = assignees.replace(";", ",").split(",") if isinstance(assignees, str) else list(assignees)
    return [{"id": n.strip(), "name": n.strip()} for n in names if n and n.strip()]


def human_step_due(step_id: str) -> str:
    """When a human step asked now is due: the policy's expected duration of ``step_id`` (ISO, UTC)."""
    from offboarding.policy import get_policy

    return get_policy().expected_duration(step_id).due(dt.datetime.now(dt.UTC)).isoformat()


class DueTimeMixin:
    """A human step's due time, fixed when its templates are rendered (``expected_by``, a template field).

    So it is in Airflow's rendered fields of the task instance, which the watchdog lists with the step: no
    read per human step awaiting input, whatever the number of cases in flight.
    """

    step_id: str
    expected_by: str = ""

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
        self.expected_by = human_step_due(self.step_id)

    def due_time(self) -> str:
        """The rendered due time (fixed now when the templates were not rendered, as in a bare ``execute``)."""
        return self.expected_by or human_step_due(self.step_id)


def announce_human_step(
    context: Context,
    task_id: str,
    subject: str,
    users: Sequence[Mapping[str, str]],
    expected_by: str,
) -> None:
    """Record who must answer and by when (``expected_by``, see :class:`DueTimeMixin`).

    The ``expected_by`` rendered field (and, for steps asked before it existed, the XCom of the same name)
    is what the stalled-step watchdog judges the step by.
    """
    Case.from_context(context).ledger.append(
        "human_step.requested",
        actor=f"airflow:{task_id}",
        step=task_id,
        request={"subject": subject, "owners": [u["id"] for u in users]},
        result={"expected_by": expected_by},
    )
    context["ti"].xcom_push(key="expected_by", value=expected_by)


class HumanStepMixin(DueTimeMixin):
    """Owner, evidence, due time and ledger behaviour shared by human steps and human decisions."""

    evidence: Mapping[str, EvidenceField]
    assignees: str | Sequence[str] | None
    step_id: str
    task_id: str
    assigned_users: Any
    subject: str
    after_deadline: str | None = None

    def _prepare_request(self, context: Context) -> None:
        if self.after_deadline:  # asked only once the legal deadline is over, whatever the wait's state
            from offboarding.operators.deadlines import require_deadline_passed

            require_deadline_passed(
                Case.from_context(context),
                self.after_deadline,
                step=self.task_id,
                what=f"asking {self.task_id}",
                context=context,
            )
        from offboarding.operators.controls import corrected_owner

        users = _users(corrected_owner(context, self.assignees))  # a corrected hr_owner
        if not users:
            raise ValueError(f"{self.task_id}: no owner: the trigger form must name who answers this step")
        self.assigned_users = users
        announce_human_step(context, self.task_id, self.subject, users, self.due_time())

    def _check_evidence(self, params_input: Mapping[str, Any], chosen: Sequence[str]) -> dict[str, Any]:
        problems = []
        for name, spec in self.evidence.items():
            value = params_input.get(name)
            if spec.is_required(chosen) and (value is None or (isinstance(value, str) and not value.strip())):
                problems.append(f"{name} ({spec.title}) is required")
            elif spec.format == "date" and value:
                try:
                    dt.date.fromisoformat(str(value))
                except ValueError:
                    problems.append(f"{name} ({spec.title}) must be a date like 2026-12-01, got {value!r}")
        if problems:
            raise ValueError(
                f"{self.task_id}: the answer is incomplete: {'; '.join(problems)}. "
                "Clear this task to ask again."
            )
        return {k: params_input.get(k) for k in self.evidence}

    def _record_answer(self, context: Context, result: Mapping[str, Any]) -> None:
        case = Case.from_context(context)
        who = (result.get("responded_by_user") or {}).get("name") or "timeout-default"
        responded_at = result.get("responded_at")
        case.ledger.append(
            "human_step.answered",
            actor=str(who),
            step=self.task_id,
            request={"subject": self.subject},
            result={
                "chosen_options": list(result.get("chosen_options") or []),
                "evidence": dict(result.get("params_input") or {}),
                "responded_at": responded_at.isoformat()
                if hasattr(responded_at, "isoformat")
                else responded_at,
            },
        )


def _init_kwargs(evidence: Mapping[str, EvidenceField] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    with_retry_defaults(kwargs)  # a bad answer fails the try; a retry asks again
    # Airflow's defaults wrapper passes the DAG's params in ``params``; the form is the evidence
    # fields only (the run's params still reach the task through its context).
    kwargs.pop("params", None)
    params = {name: spec.to_param() for name, spec in (evidence or {}).items()}
    return {"params": params, **kwargs}


class HumanStepOperator(HumanStepMixin, HITLOperator):
    """A form a named person fills in when they have done something outside WeCom."""

    template_fields = (*HITLOperator.template_fields, "assignees", "expected_by")
    ui_color = "#fff4e0"

    def __init__(
        self,
        *,
        subject: str,
        assignees: str | Sequence[str],
        evidence: Mapping[str, EvidenceField] | None = None,
        options: list[str] | None = None,
        step_id: str | None = None,
        after_deadline: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(subject=subject, options=options or ["Done"], **_init_kwargs(evidence, kwargs))
        self.evidence = dict(evidence or {})
        self.assignees = assignees
        self.step_id = step_id or self.task_id.rsplit(".", 1)[-1]
        self.after_deadline = after_deadline

    def execute(self, context: Context) -> Any:
        self._prepare_request(context)
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        result = super().execute_complete(context, event)
        self._check_evidence(result["params_input"], result["chosen_options"])
        self._record_answer(context, result)
        return result


class HumanDecisionOperator(HumanStepMixin, HITLBranchOperator):
    """A human step whose answer chooses the path: ``options_mapping`` maps each answer to a task id."""

    template_fields = (*HITLOperator.template_fields, "assignees", "expected_by")
    ui_color = "#fff4e0"

    def __init__(
        self,
        *,
        subject: str,
        assignees: str | Sequence[str],
        options_mapping: Mapping[str, str],
        evidence: Mapping[str, EvidenceField] | None = None,
        step_id: str | None = None,
        after_deadline: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            subject=subject,
            options=list(options_mapping),
            options_mapping=dict(options_mapping),
            **_init_kwargs(evidence, kwargs),
        )
        self.evidence = dict(evidence or {})
        self.assignees = assignees
        self.step_id = step_id or self.task_id.rsplit(".", 1)[-1]
        self.after_deadline = after_deadline

    def execute(self, context: Context) -> Any:
        self._prepare_request(context)
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        result = HITLOperator.execute_complete(self, context, event)
        self._check_evidence(result["params_input"], result["chosen_options"])
        self._record_answer(context, result)
        # The answer is what later steps read (the reason of a rejection, the details of an objection).
        # Pushed first: do_branch ends the task by raising DownstreamTasksSkipped when it skips a path.
        context["ti"].xcom_push(key="return_value", value=result)
        branches = [self.options_mapping.get(o, o) for o in result["chosen_options"]]
        self.do_branch(context=context, branches_to_execute=branches)
        return result
