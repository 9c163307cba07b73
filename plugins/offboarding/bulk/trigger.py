"""Trigger one DAG run per planned case, safely re-runnable: run id = case id, 409 = already triggered.

Re-offboarding: before each trigger the plugin's ``GET /offboarding/api/cases/{id}/series`` says which
cases the member already has (:func:`offboarding.cases.lifecycle.new_case_for`): a case for the same
departure (same last working day / procedure) is *already triggered*; an open case refuses the row
naming it; when every earlier case is closed or rescinded the row gets the next id
(``offboard-lisi+2``). A deployment without the plugin's API (404) keeps the first id.

Nothing is triggered while any row is invalid unless ``skip_invalid``; a dry run triggers nothing.
When Airflow cannot be reached or refuses the credentials, the remaining cases are not attempted
(they would all fail the same way); a re-run picks them up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TextIO

from offboarding.airflow_api import AirflowApi, AirflowApiError, AirflowAuthError, NotFound, RunAlreadyExists
from offboarding.bulk.plan import BulkPlan, PlannedCase
from offboarding.bulk.progress import ProgressBar
from offboarding.cases.lifecycle import NewCase, new_case_for


class Outcome(StrEnum):
    """What happened to one row."""

    TRIGGERED = "triggered"
    ALREADY_TRIGGERED = "already triggered"
    WOULD_TRIGGER = "would trigger"
    INVALID = "invalid"
    FAILED = "failed"
    NOT_ATTEMPTED = "not attempted"
    REFUSED_OPEN_CASE = "refused: open case"


@dataclass(frozen=True)
class CaseResult:
    row: int
    case_id: str | None
    outcome: Outcome
    detail: str = ""
    label: str = ""
    #: For invalid rows: one line per problem, naming the field (and the sheet's column).
    problems: tuple[str, ...] = ()


@dataclass
class BulkReport:
    """The outcome of every row plus whether the sheet was blocked before triggering."""

    dag_id: str
    results: list[CaseResult] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    blocked: bool = False
    dry_run: bool = False

    def counts(self) -> Counter[Outcome]:
        return Counter(r.outcome for r in self.results)

    def exit_code(self) -> int:
        """0: nothing failed; 1: some triggers failed or were not attempted; 2: the input was refused."""
        if self.blocked or self.file_problems:
            return 2
        counts = self.counts()
        trouble = counts[Outcome.FAILED] or counts[Outcome.NOT_ATTEMPTED] or counts[Outcome.REFUSED_OPEN_CASE]
        return 1 if trouble else 0


def _invalid_result(plan: BulkPlan, case: PlannedCase, label: str) -> CaseResult:
    problems = tuple(plan.where(p) for p in case.problems)
    return CaseResult(case.row, case.case_id, Outcome.INVALID, "; ".join(problems), label, problems)


def _tally(counts: Counter[Outcome]) -> str:
    return (
        f"triggered {counts[Outcome.TRIGGERED]}, already {counts[Outcome.ALREADY_TRIGGERED]}, "
        f"failed {counts[Outcome.FAILED] + counts[Outcome.NOT_ATTEMPTED]}"
    )


def _new_case(api: AirflowApi, case: PlannedCase) -> NewCase:
    """The id this row's case gets (see the module doc); the first id without the plugin's API."""
    assert case.case_id is not None
    try:
        series = api.case_series(case.case_id)
    except NotFound:
        return NewCase("new", case.case_id)
    return new_case_for(series, case.conf)


def trigger_plan(
    plan: BulkPlan,
    api: AirflowApi | None,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: TextIO | None = None,
) -> BulkReport:
    """Trigger the plan's valid cases (``api`` may be None for a dry run)."""
    report = BulkReport(plan.dag_id, file_problems=list(plan.file_problems), dry_run=dry_run)
    if plan.file_problems:
        report.blocked = True
        return report
    label_field = plan.kind.label_field

    def label(case: PlannedCase) -> str:
        return str(case.conf.get(label_field, ""))

    invalid = plan.invalid_cases
    report.results.extend(_invalid_result(plan, c, label(c)) for c in invalid)
    if invalid and not skip_invalid:
        report.blocked = True
        return report
    valid = plan.valid_cases
    if dry_run:
        report.results.extend(
            CaseResult(c.row, c.case_id, Outcome.WOULD_TRIGGER, "", label(c)) for c in valid
        )
        report.results.sort(key=lambda r: r.row)
        return report
    if api is None:
        raise ValueError("api: an AirflowApi is needed unless dry_run")

    bar = ProgressBar(len(valid), stream=progress)
    counts: Counter[Outcome] = Counter()
    stop_reason = ""
    for case in valid:
        assert case.case_id is not None
        if stop_reason:
            result = CaseResult(case.row, case.case_id, Outcome.NOT_ATTEMPTED, stop_reason, label(case))
        else:
            try:
                new = _new_case(api, case)
                if new.outcome == "same":
                    result = CaseResult(
                        case.row, new.case_id, Outcome.ALREADY_TRIGGERED, new.message, label(case)
                    )
                elif new.outcome == "refused":
                    result = CaseResult(
                        case.row, case.case_id, Outcome.REFUSED_OPEN_CASE, new.message, label(case)
                    )
                else:
                    assert new.case_id is not None
                    api.trigger_dag_run(plan.dag_id, new.case_id, case.conf, note=case.note)
                    result = CaseResult(case.row, new.case_id, Outcome.TRIGGERED, "", label(case))
            except RunAlreadyExists:
                result = CaseResult(case.row, case.case_id, Outcome.ALREADY_TRIGGERED, "", label(case))
            except AirflowApiError as exc:
                result = CaseResult(case.row, case.case_id, Outcome.FAILED, str(exc), label(case))
                if isinstance(exc, AirflowAuthError) or exc.status_code is None:
                    stop_reason = f"stopped after row {case.row}: {exc}"
        counts[result.outcome] += 1
        report.results.append(result)
        bar.advance(_tally(counts))
    bar.finish()
    report.results.sort(key=lambda r: r.row)
    return report
