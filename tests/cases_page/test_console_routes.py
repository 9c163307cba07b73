"""The console's routes on Airflow's real API app (``create_app()``, real JWT auth), in a child process:
401 without a token on every route, then the summary, a case's page and timeline picture, the calendar
and its .ics feed, and the exports, each checked for what a person would use it for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1200)]

CHILD = Path(__file__).with_name("console_routes_child.py")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("routes")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(folder / "airflow-home"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{folder / 'airflow.db'}",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "viewer:viewer",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    done = subprocess.run(
        [sys.executable, str(CHILD)], env=env, cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_console_route_needs_a_login(answers: dict[str, Any]) -> None:
    assert set(answers["anonymous"].values()) == {401}
    assert set(answers["status"].values()) == {200}


def test_summary_in_the_json_and_its_filters(answers: dict[str, Any]) -> None:
    summary = answers["summary"]
    assert summary["on_hold"] == 1 and answers["held_total"] == 1
    assert {"phase": "account_deregistration", "cases": 1} in summary["by_phase"]
    assert answers["page_has_strip"]
    assert "phase must be a task group name" in answers["bad_filter"]
    # every open case is judged with the cyclic garbage collector paused, and it is on again after
    assert answers["gc"] == {"on_while_judging": [False, False, False], "on_after": True}


def test_case_page_and_timeline_picture(answers: dict[str, Any]) -> None:
    assert "Timeline 时间线" in answers["case_page"] and "cooling-off ends" in answers["case_page"]
    assert answers["types"]["/offboarding/cases/offboard_employee/showcase-person/timeline.svg"].startswith(
        "image/svg+xml"
    )
    assert answers["svg"].startswith("<svg") and "legal review of the handover" in answers["svg"]


def test_company_progress_in_the_json(answers: dict[str, Any]) -> None:
    progress = answers["company_progress"]
    assert (progress["members"], progress["done"], progress["failed"]) == (10_002, 4_000, 200)


def test_calendar_feed_parses_in_the_right_time_zone(answers: dict[str, Any]) -> None:
    import icalendar

    assert answers["types"]["/offboarding/calendar.ics?owner=hr_wang"].startswith("text/calendar")
    events = list(icalendar.Calendar.from_ical(answers["ics"]).walk("VEVENT"))
    cooling = next(e for e in events if "cooling-off ends" in str(e["SUMMARY"]))
    start = cooling.decoded("DTSTART")
    local = [e for d in answers["calendar"]["days"] for e in d["entries"] if e["title"] == "cooling-off ends"]
    assert local and local[0]["at_local"].endswith("00:00 (Asia/Shanghai)")  # 24:00 of a legal day
    assert start == dt.datetime.fromisoformat(local[0]["at"])  # the same instant, in UTC in the feed
    assert start.utcoffset() == dt.timedelta(0)


def test_exports_hold_the_rows_of_the_page(answers: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(answers["csv"])))
    assert [r["run_id"] for r in rows] == [c["run_id"] for c in answers["person_json"]]
    assert answers["xlsx_bytes"] > 1000
