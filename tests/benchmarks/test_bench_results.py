"""Result rows and goals: the ratio, the judgement, and rows that must never carry a number."""

from __future__ import annotations

import json

import pytest

from benchmarks.results import Goal, Row, ratio_of


@pytest.mark.parametrize(
    ("goal", "text"),
    [
        (Goal.ratio_at_most(1.5), "ratio ≤ 1.5"),
        (Goal.ratio_at_least(0.8), "ratio ≥ 0.8"),
        (Goal.at_most(150, "MB"), "≤ 150 MB"),
        (Goal.at_most(0), "≤ 0"),
    ],
)
def test_goal_reads_like_the_brief(goal: Goal, text: str) -> None:
    assert goal.text == text


def test_a_ratio_goal_judges_the_ratio_not_the_value() -> None:
    met = Row.measured("parse", 0.3, "s", baseline=0.25, goal=Goal.ratio_at_most(1.5))
    missed = Row.measured("parse", 0.3, "s", baseline=0.1, goal=Goal.ratio_at_most(1.5), why_missed="imports")
    assert met.ratio == pytest.approx(1.2) and met.met is True and "MISSED" not in met.notes
    assert missed.ratio == pytest.approx(3.0) and missed.met is False
    assert missed.notes.endswith("GOAL MISSED: imports")


def test_an_at_least_goal_and_a_value_goal() -> None:
    slow = Row.measured("throughput", 70.0, "MB/s", baseline=100.0, goal=Goal.ratio_at_least(0.8))
    fast = Row.measured("throughput", 90.0, "MB/s", baseline=100.0, goal=Goal.ratio_at_least(0.8))
    assert (slow.met, fast.met) == (False, True)
    assert "cause not known" in slow.notes
    assert Row.measured("memory", 151.0, "MB", goal=Goal.at_most(150, "MB")).met is False
    assert Row.measured("slots", 0, "slots", baseline=10_000, goal=Goal.at_most(0)).met is True


def test_rows_without_a_goal_or_a_baseline_are_not_judged() -> None:
    row = Row.measured("cpu", 12.0, "CPU s/h", baseline=0)
    assert row.ratio is None and row.met is None and row.goal is None
    assert ratio_of(None, 2.0) is None and ratio_of(3.0, None) is None and ratio_of(3.0, 2.0) == 1.5


def test_not_available_and_failed_rows_carry_no_number() -> None:
    absent = Row.not_available("company_10k.calls", "calls", "the batch operator is not written yet")
    crashed = Row.failed("waiting_cost", "RuntimeError: boom")
    assert absent.value is None and absent.ratio is None and absent.met is None
    assert absent.notes == "not available: the batch operator is not written yet"
    assert crashed.value is None and crashed.met is False and crashed.notes.startswith("bench failed")


def test_a_row_is_json_with_the_briefs_fields() -> None:
    row = Row.measured("x", 2.0, "s", baseline=1.0, goal=Goal.ratio_at_most(1.5), notes="n")
    data = json.loads(json.dumps(row.to_json()))
    assert list(data) == ["name", "value", "unit", "baseline", "ratio", "goal", "met", "notes"]
    assert data["met"] is False and data["ratio"] == 2.0
