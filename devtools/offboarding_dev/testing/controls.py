"""Case controls in memory, for tests and benchmarks that run tasks without an api-server.

What the plugin's ``GET /offboarding/api/cases/{case_id}`` would answer, folded from the actions recorded
here (:func:`offboarding.cases.lifecycle.fold`, the api-server's own folding), so a test can put a case on
hold, release it, rescind it, reschedule it or correct a field and see what the tasks do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

from offboarding.cases.lifecycle import (
    CORRECT,
    HOLD,
    RELEASE,
    RESCHEDULE,
    RESCIND,
    CaseAction,
    CaseControls,
    fold,
)


class MemoryControls:
    """A :class:`~offboarding.operators.controls.ControlsReader` over actions kept in memory."""

    def __init__(self) -> None:
        self.actions: dict[str, list[CaseAction]] = {}
        self.runs: dict[str, str] = {}
        self.reads: list[str] = []
        self._ids = itertools.count(1)

    def read(self, case_id: str, run_id: str) -> CaseControls:
        self.reads.append(case_id)
        return fold(
            self.actions.get(case_id, []), case_id=case_id, dag_id="", run_id=self.runs.get(case_id, run_id)
        )

    def act(
        self,
        case_id: str,
        action: str,
        *,
        by: str = "ops",
        reason: str | None = None,
        run_id: str | None = None,
        **fields: Any,
    ) -> CaseAction:
        """Record one accepted action (as the api-server does after :func:`~offboarding.cases.lifecycle.decide`)."""
        record = CaseAction(
            id=next(self._ids),
            case_id=case_id,
            dag_id="",
            run_id=run_id or self.runs.get(case_id, case_id),
            action=action,
            by_user=by,
            at=dt.datetime.now(dt.UTC),
            reason=reason,
            fields=fields,
        )
        self.actions.setdefault(case_id, []).append(record)
        return record

    def hold(self, case_id: str, reason: str = "litigation hold", by: str = "legal") -> CaseAction:
        return self.act(case_id, HOLD, by=by, reason=reason)

    def release(self, case_id: str, by: str = "legal") -> CaseAction:
        return self.act(case_id, RELEASE, by=by)

    def rescind(self, case_id: str, reason: str = "the person stays", by: str = "ops") -> CaseAction:
        return self.act(case_id, RESCIND, by=by, reason=reason)

    def reschedule(self, case_id: str, last_working_day: str, by: str = "ops") -> CaseAction:
        return self.act(case_id, RESCHEDULE, by=by, last_working_day=last_working_day)

    def correct(self, case_id: str, by: str = "ops", **fields: Any) -> CaseAction:
        return self.act(case_id, CORRECT, by=by, **fields)


@contextlib.contextmanager
def controls_in_memory() -> Iterator[MemoryControls]:
    """Within the block, tasks read their case's controls from memory (no hold, unless a test adds one)."""
    from offboarding.operators import controls

    memory = MemoryControls()
    original = controls.controls_reader
    controls.controls_reader = lambda: memory  # type: ignore[assignment]
    try:
        yield memory
    finally:
        controls.controls_reader = original  # type: ignore[assignment]


@contextlib.contextmanager
def member_cases_in_memory() -> Iterator[dict[str, Any]]:
    """Within the block, ``check_case`` reads the member's other cases from memory (``GET
    /offboarding/api/cases/{id}/series`` in a deployment): none, unless the caller puts a series (the
    api-server's answer) under the member's first case id in the yielded dict."""
    from offboarding.cases.case_ids import split_case_id
    from offboarding.operators import preflight

    series: dict[str, Any] = {}

    def read(case: Any) -> Any:
        return series.get(split_case_id(case.case_id)[0], {"cases": [], "next_case_id": case.case_id})

    original = preflight.member_cases
    preflight.member_cases = read  # type: ignore[assignment]
    try:
        yield series
    finally:
        preflight.member_cases = original  # type: ignore[assignment]


@contextlib.contextmanager
def open_cases_in_memory() -> Iterator[dict[str, str]]:
    """Within the block, a layoff list's ``check_case`` reads the persons' other open cases from memory
    (the open runs of the case DAGs in a deployment): none, unless the caller puts a lower-cased userid →
    ``"<case id> (<state>)"`` in the yielded dict."""
    from offboarding.operators import layoff

    cases: dict[str, str] = {}
    original = layoff.open_cases_of_persons
    layoff.open_cases_of_persons = lambda case: dict(cases)  # type: ignore[assignment]
    try:
        yield cases
    finally:
        layoff.open_cases_of_persons = original  # type: ignore[assignment]


@contextlib.contextmanager
def case_services_in_memory() -> Iterator[tuple[MemoryControls, dict[str, Any]]]:
    """The api-server's answers a task reads about its case, in memory: its controls (no hold, no rescind),
    the member's other cases and a list's persons' other cases (none). For tasks run without an api-server
    (benches, tests)."""
    with controls_in_memory() as controls, member_cases_in_memory() as series, open_cases_in_memory():
        yield controls, series


__all__ = [
    "MemoryControls",
    "case_services_in_memory",
    "controls_in_memory",
    "member_cases_in_memory",
    "open_cases_in_memory",
]
