"""Trigger the one layoff case of a sheet (``--one-case``) and say what happened.

The run id is the case id (``layoff-<list id>``): a list is offboarded once, so a second trigger of the
same list (409) is reported as already triggered, not as an error, and nothing new starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from offboarding.airflow_api import AirflowApi, AirflowApiError, RunAlreadyExists
from offboarding.bulk.layoff_plan import LayoffPlan, rows_text
from offboarding.bulk.trigger import Outcome
from offboarding.cases import LAYOFF_DAG_ID


@dataclass(frozen=True)
class LayoffResult:
    """What happened to the list's case."""

    outcome: Outcome
    detail: str = ""

    def exit_code(self) -> int:
        """0: triggered (or already, or a dry run); 1: the trigger failed; 2: the sheet was refused."""
        if self.outcome is Outcome.INVALID:
            return 2
        return 1 if self.outcome is Outcome.FAILED else 0


def trigger_layoff(plan: LayoffPlan, api: AirflowApi | None, *, dry_run: bool = False) -> LayoffResult:
    """Trigger the plan's case unless it is invalid or a dry run (``api`` may be None then)."""
    if not plan.valid or plan.case_id is None:
        return LayoffResult(Outcome.INVALID)
    if dry_run:
        return LayoffResult(Outcome.WOULD_TRIGGER)
    if api is None:
        raise ValueError("api: an AirflowApi is needed unless dry_run")
    try:
        api.trigger_dag_run(LAYOFF_DAG_ID, plan.case_id, plan.conf)
    except RunAlreadyExists:
        return LayoffResult(Outcome.ALREADY_TRIGGERED, "a list is offboarded once: nothing new was started")
    except AirflowApiError as exc:
        return LayoffResult(Outcome.FAILED, str(exc))
    return LayoffResult(Outcome.TRIGGERED)


def _refusal(plan: LayoffPlan) -> list[str]:
    if plan.file_problems:
        return [
            "The sheet cannot be used:",
            *(f"  - {p}" for p in plan.file_problems),
            "Nothing was triggered.",
        ]
    lines = [
        f"The sheet cannot be one case ({len(plan.problems)} problem{'s' if len(plan.problems) > 1 else ''}; "
        "row numbers as in the sheet, header = row 1):"
    ]
    lines.extend(f"  {'the list' if p.row is None else f'row {p.row}'}: {p.text}" for p in plan.problems)
    lines.append(
        "Nothing was triggered: a list is triggered whole; fix these rows or leave them out of the sheet."
    )
    return lines


def _what(plan: LayoffPlan) -> str:
    persons = plan.persons
    successors = len({str(p.get("successor_userid", "")).lower() for p in persons})
    return (
        f"{plan.case_id}  {plan.conf['list_name']}: {len(persons)} person{'s' if len(persons) != 1 else ''} "
        f"(rows {rows_text(plan.rows)}), {successors} successor{'s' if successors != 1 else ''}, "
        f"last working day {plan.conf.get('last_working_day')}"
    )


def render_layoff_report(plan: LayoffPlan, result: LayoffResult) -> str:
    """The refusal (every problem by row) or the case triggered, then a one-line summary."""
    if result.outcome is Outcome.INVALID:
        lines = _refusal(plan)
    elif result.outcome is Outcome.WOULD_TRIGGER:
        lines = [f"Would trigger on DAG {LAYOFF_DAG_ID} (dry run, nothing sent):", f"  {_what(plan)}"]
        lines.extend(
            f"    row {row}: {p.get('userid')} → {p.get('successor_userid')}  {p.get('display_name', '')}".rstrip()
            for row, p in zip(plan.rows, plan.persons, strict=True)
        )
    else:
        detail = f": {result.detail}" if result.detail else ""
        lines = [f"{result.outcome.value.capitalize()} on DAG {LAYOFF_DAG_ID}{detail}", f"  {_what(plan)}"]
    lines.append(f"Summary for DAG {LAYOFF_DAG_ID}: {result.outcome.value} (one case for the whole sheet)")
    return "\n".join(lines) + "\n"
