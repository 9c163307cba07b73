"""Reading ``-X importtime`` output: only the imports the parse caused, summed by package."""

from __future__ import annotations

import pytest

from benchmarks.importtime import MARKER, by_package, describe, parse_importtime

OUTPUT = f"""import time: self [us] | cumulative | imported package
import time:      2000 |     900000 | airflow
{MARKER}
2026-11-24T19:48:18Z [info     ] Filling up the DagBag from dags
import time:      1411 |     156932 |           holidays
import time:     49888 |      49888 |             holidays.calendars.islamic
import time:       935 |     127771 |   requests
import time:       788 |      61423 |     urllib3
import time:      1667 |     226073 | offboarding.workflows.person
import time:     24602 |      24602 |   offboarding.policy
"""


def test_only_lines_after_the_marker_count() -> None:
    costs = parse_importtime(OUTPUT)
    assert [c.module for c in costs] == [
        "holidays",
        "holidays.calendars.islamic",
        "requests",
        "urllib3",
        "offboarding.workflows.person",
        "offboarding.policy",
    ]
    assert costs[0].depth == 5 and costs[-1].depth == 1 and costs[-2].depth == 0
    assert parse_importtime(OUTPUT, marker=None)[0].module == "airflow"
    assert parse_importtime("no marker here\n") == []


def test_costs_are_summed_by_top_level_package() -> None:
    packages = by_package(parse_importtime(OUTPUT))
    assert [name for name, _ in packages] == ["holidays", "offboarding", "requests", "urllib3"]
    assert dict(packages) == pytest.approx(
        {"holidays": 51.299, "offboarding": 26.269, "requests": 0.935, "urllib3": 0.788}
    )


def test_the_description_names_the_heaviest_packages_and_modules() -> None:
    text = describe(parse_importtime(OUTPUT), top=2)
    assert text.startswith("modules first imported while parsing: 79 ms in 6 modules")
    assert "by package: holidays 51 ms, offboarding 26 ms" in text
    assert "slowest modules: holidays.calendars.islamic 50 ms, offboarding.policy 25 ms" in text
    assert describe([]) == "no module was imported while parsing"
