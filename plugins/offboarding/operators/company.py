"""The legal side of dissolving a company: eligibility, tax, social insurance, the notice, objections.

Human steps are :mod:`offboarding.operators.human_step` forms; the ones here also write their evidence
as a ``legal.<step>`` ledger entry, so the case report lists it under *Legal steps' evidence*:

* :class:`LegalStepOperator` — a form, optionally with several answers (``required_for`` per answer) and
  yes/no confirmations that must all be "yes" (e.g. every employee's social insurance stopped);
* :class:`LegalDecisionOperator` — a form whose answer chooses the path (eligible or not, objection or not).

And the tasks around them:

* :class:`PlanNoticePeriodOperator` — when the creditor / public notice ends (一般注销 45 days, 简易注销
  20 days by the duration policy; a last day off work moves to the next working day), from the recorded
  publication, in Asia/Shanghai time;
* :class:`RecordCreditorObjectionOperator` — keeps a creditor's objection (file + ledger) for the
  legal representative to resolve;
* :class:`StopCaseOperator` — ends the case with what to do (e.g. not eligible for 简易注销).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pendulum
from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator
from offboarding.operators.human_step import HumanDecisionOperator, HumanStepOperator

PUBLICATION_TASK_ID = "dissolution_notice.record_notice_publication"
OBJECTIONS_TASK_ID = "dissolution_notice.record_creditor_objections"
OBJECTION_PATH = "legal/creditor_objection.json"
PROCEDURE_NAMES = {
    "general": "一般注销 (general deregistration)",
    "simplified": "简易注销 (simplified deregistration)",
}


def _legal_action(task_id: str) -> str:
    return "legal." + task_id.rsplit(".", 1)[-1]


def _record_legal_evidence(operator: Any, context: Context, result: Mapping[str, Any]) -> None:
    """``legal.<step>``: the answer and its evidence, under the legal steps of the report."""
    who = (result.get("responded_by_user") or {}).get("name") or "timeout-default"
    Case.from_context(context).ledger.append(
        _legal_action(operator.task_id),
        actor=str(who),
        step=operator.task_id,
        key=operator.task_id,
        request={"subject": operator.subject},
        result={
            "answer": ", ".join(result.get("chosen_options") or []),
            **{k: v for k, v in (result.get("params_input") or {}).items() if k in operator.evidence},
        },
    )


class LegalStepOperator(HumanStepOperator):
    """A legal representative's form; ``must_confirm`` names yes/no fields that must be answered "yes"."""

    def __init__(self, *, must_confirm: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        unknown = [name for name in must_confirm if name not in self.evidence]
        if unknown:
            raise ValueError(f"{self.task_id}: must_confirm names fields that are not in evidence: {unknown}")
        self.must_confirm = tuple(must_confirm)

    def _check_evidence(self, params_input: Mapping[str, Any], chosen: Sequence[str]) -> dict[str, Any]:
        evidence = super()._check_evidence(params_input, chosen)
        refused = [
            f"{name} ({self.evidence[name].title}) must be confirmed (yes) before the case can go on"
            for name in self.must_confirm
            if params_input.get(name) is not True
        ]
        if refused:
            raise ValueError(
                f"{self.task_id}: the answer is incomplete: {'; '.join(refused)}. Clear this task to ask again."
            )
        return evidence

    def _record_answer(self, context: Context, result: Mapping[str, Any]) -> None:
        super()._record_answer(context, result)
        _record_legal_evidence(self, context, result)


class LegalDecisionOperator(HumanDecisionOperator):
    """A legal representative's decision that chooses the path; the evidence goes to ``legal.<step>``."""

    def _record_answer(self, context: Context, result: Mapping[str, Any]) -> None:
        super()._record_answer(context, result)
        _record_legal_evidence(self, context, result)


def _human_answer(context: Context, task_id: str) -> Mapping[str, Any]:
    answer = context["ti"].xcom_pull(task_ids=task_id)
    if not isinstance(answer, Mapping) or not isinstance(answer.get("params_input"), Mapping):
        raise AirflowFailException(f"no answer from {task_id}: that step must be answered first")
    return answer


def _instant_text(value: Any) -> str | None:
    from offboarding import legal_time

    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return pendulum.instance(value).in_timezone("UTC").isoformat()
    if isinstance(value, str) and value.strip():
        try:
            return legal_time.parse_instant(value, "responded_at").in_timezone("UTC").isoformat()
        except (TypeError, ValueError):
            return None
    return None


class PlanNoticePeriodOperator(CaseOperator):
    """When the notice period ends, computed once from the recorded publication date and the procedure.

    Returns ``{"procedure", "published_on", "reference", "notice_days", "last_day", "notice_end" (ISO,
    Asia/Shanghai), "notice_end_local", "recorded_at" (when the publication was recorded: the anchor of
    a rehearsal's compressed wait)}`` and records ``legal.notice_planned``.
    """

    def __init__(self, *, publication_task_id: str = PUBLICATION_TASK_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.publication_task_id = publication_task_id

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding import legal_time
        from offboarding.policy import PolicyError, calendar_note, get_policy, notice_end

        procedure = case.company.procedure
        answer = _human_answer(context, self.publication_task_id)
        evidence = answer["params_input"]
        published_on = evidence.get("published_on")
        try:
            notice_days = get_policy().company_deregistration.notice_days[str(procedure)]
            end = notice_end(published_on, str(procedure))
        except KeyError:
            raise AirflowFailException(
                f"procedure: must be general or simplified, got {procedure!r}"
            ) from None
        except (TypeError, ValueError) as err:
            raise AirflowFailException(
                f"published_on (from {self.publication_task_id}): {err}; clear that step and answer it again"
            ) from None
        except PolicyError as err:
            raise AirflowFailException(str(err)) from None
        recorded_at = _instant_text(answer.get("responded_at"))
        if recorded_at is None:
            recorded_at = pendulum.now("UTC").isoformat()
            self.log.warning("the publication step has no answer time; the rehearsal clock starts now")
        last_day = end.subtract(days=1).date()
        result = {
            "procedure": procedure,
            "procedure_name": PROCEDURE_NAMES.get(str(procedure), str(procedure)),
            "published_on": str(published_on),
            "reference": evidence.get("reference"),
            "notice_days": notice_days,
            "last_day": last_day.isoformat(),
            "notice_end": end.isoformat(),
            "notice_end_local": legal_time.format_local(end),
            "recorded_at": recorded_at,
            "calendar": calendar_note(last_day),
        }
        self.record(
            "legal.notice_planned",
            request={"published_on": str(published_on), "procedure": procedure},
            result=result,
        )
        self.log.info(
            "%s notice published on %s: %d days, last day %s; the notice period ends %s (calendar: %s)",
            result["procedure_name"],
            published_on,
            notice_days,
            result["last_day"],
            result["notice_end_local"],
            result["calendar"],
        )
        return result


class RecordCreditorObjectionOperator(CaseOperator):
    """Keep a creditor's objection: ``legal/creditor_objection.json`` and ``legal.creditor_objection_received``.

    Reads the objection's details from the decision step; the legal representative resolves it next.
    """

    def __init__(self, *, decision_task_id: str = OBJECTIONS_TASK_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.decision_task_id = decision_task_id

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        answer = _human_answer(context, self.decision_task_id)
        details = {k: v for k, v in answer["params_input"].items() if v not in (None, "")}
        who = (answer.get("responded_by_user") or {}).get("name")
        record = {
            "objection": details,
            "recorded_by": who,
            "recorded_at": _instant_text(answer.get("responded_at")),
        }
        entry = case.store.write_json(case.case_id, OBJECTION_PATH, record, source=self.decision_task_id)
        self.record(
            "legal.creditor_objection_received", request={"from": self.decision_task_id}, result=record
        )
        self.log.warning(
            "A creditor objected (%s): the legal representative must resolve it before members are removed",
            ", ".join(f"{k}: {v}" for k, v in details.items()),
        )
        return {"objection": details, "file": entry.path}


class StopCaseOperator(CaseOperator):
    """End the case here: record why and what to do (``case.failed``), then fail with that message."""

    template_fields = ("reason", "what_to_do")

    def __init__(self, *, reason: str, what_to_do: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reason = reason
        self.what_to_do = what_to_do

    def run(self, case: Case, context: Context) -> None:
        self.record("case.failed", result={"state": f"stopped: {self.reason}", "note": self.what_to_do})
        raise AirflowFailException(f"The case stops: {self.reason}. What to do: {self.what_to_do}")
