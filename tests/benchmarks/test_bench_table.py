"""The printed table and the README's Markdown table."""

from __future__ import annotations

import pytest

from benchmarks.results import Goal, Row
from benchmarks.table import format_markdown, format_number, format_ratio, format_table


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (0, "0"),
        (3, "3"),
        (12_345.6, "12,346"),
        (229.0, "229"),
        (133.4, "133"),
        (22.06, "22.1"),
        (8.404, "8.40"),
        (0.4234, "0.423"),
        (0.00376, "0.0038"),
    ],
)
def test_numbers_are_readable(value: float | None, text: str) -> None:
    assert format_number(value) == text


def test_ratio_has_a_times_sign() -> None:
    assert format_ratio(113.2) == "113×" and format_ratio(None) == "—"


def rows() -> list[Row]:
    return [
        Row.measured(
            "parse_cost.dags_folder",
            0.42,
            "s",
            baseline=0.004,
            goal=Goal.ratio_at_most(1.5),
            why_missed="imports",
        ),
        Row.measured("waiting_cost.worker_slots", 0, "slots", baseline=10_000, goal=Goal.at_most(0)),
        Row.not_available("cases_page.first_page_10k", "s", "the page is not written yet"),
    ]


def test_table_aligns_columns_and_lists_notes_and_misses() -> None:
    text = format_table(rows())
    lines = text.splitlines()
    assert lines[0].split() == ["name", "value", "unit", "baseline", "ratio", "goal", "met"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    parse_line = next(line for line in lines if line.startswith("parse_cost.dags_folder"))
    assert parse_line.split()[1:5] == ["0.42", "s", "0.004", "105×"] and parse_line.endswith("NO")
    assert next(line for line in lines if line.startswith("waiting_cost")).endswith("yes")
    assert next(line for line in lines if line.startswith("cases_page")).endswith("n/a")
    assert "- parse_cost.dags_folder: GOAL MISSED: imports" in lines
    assert "- cases_page.first_page_10k: not available: the page is not written yet" in lines
    assert lines[-1] == "Goals missed (1): parse_cost.dags_folder"


def test_table_says_so_when_every_goal_is_met() -> None:
    assert format_table(rows()[1:]).splitlines()[-1] == "Every goal that was measured is met."


def test_markdown_has_a_notes_column_and_escapes_pipes() -> None:
    table = format_markdown([Row.measured("a", 1.0, "s", notes="x | y")]).splitlines()
    assert table[0] == "| name | value | unit | baseline | ratio | goal | met | notes |"
    assert table[1] == "|---|---|---|---|---|---|---|---|"
    assert table[2] == "| a | 1 | s | — | — | — | n/a | x \\| y |"
