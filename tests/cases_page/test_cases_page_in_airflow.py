"""The "Offboarding cases" page served by a real api-server: auth, JSON, HTML, plugin registration."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from e2e_airflow import DAG_ID, STEP, case_conf, e2e_airflow, task_state, wait_for

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")


def token(airflow: Any, user: str) -> str:
    response = requests.post(
        f"{airflow.api_url}/auth/token",
        json={"username": user, "password": airflow.passwords[user]},
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def waiting_case() -> Iterator[tuple[Any, str]]:
    airflow, _, _ = e2e_airflow()
    run_id = "offboard-e2e_page"
    with airflow.api() as api:
        api.trigger_dag_run(DAG_ID, run_id, case_conf("e2e_page"))
    wait_for(lambda: task_state(airflow, run_id) == "awaiting_input", 120, "the human step to park", airflow)
    yield airflow, run_id


@pytest.mark.parametrize(
    "path",
    [
        "/offboarding/cases",
        "/offboarding/api/cases",
        f"/offboarding/cases/{DAG_ID}/x/report",
        f"/offboarding/cases/{DAG_ID}/x",
        f"/offboarding/cases/{DAG_ID}/x/timeline.svg",
        "/offboarding/calendar",
        "/offboarding/api/calendar",
        "/offboarding/calendar.ics",
        "/offboarding/cases.csv",
        "/offboarding/cases.xlsx",
        f"/offboarding/cases/{DAG_ID}/x/report.pdf",
    ],
)
def test_every_route_needs_credentials(waiting_case: tuple[Any, str], path: str) -> None:
    airflow, _ = waiting_case
    assert requests.get(f"{airflow.api_url}{path}", timeout=30).status_code == 401


def test_json_lists_the_case_with_phase_step_deadline_and_owner(waiting_case: tuple[Any, str]) -> None:
    airflow, run_id = waiting_case
    headers = {"Authorization": f"Bearer {token(airflow, 'auditor')}"}
    body = requests.get(f"{airflow.api_url}/offboarding/api/cases", headers=headers, timeout=30).json()

    [case] = [c for c in body["cases"] if c["run_id"] == run_id]
    assert case["kind"] == "person"
    assert case["who"] == "测试e2e_page (e2e_page)"
    assert case["phase"] == "statutory_steps"
    [step] = case["steps"]
    assert step["task_id"] == STEP and step["state"] == "awaiting_input"
    assert step["waiting_until_local"].endswith("(Asia/Shanghai)")
    assert step["owners"] == ["hr_wang"]
    assert step["answer_url"].endswith(f"/tasks/{STEP}/required_actions?map_index=-1")
    assert case["triggered_by"] == "admin"
    assert case["report_url"] == f"/offboarding/cases/{DAG_ID}/{run_id}/report"


def test_filters_and_bad_filters(waiting_case: tuple[Any, str]) -> None:
    airflow, run_id = waiting_case
    headers = {"Authorization": f"Bearer {token(airflow, 'admin')}"}
    base = f"{airflow.api_url}/offboarding/api/cases"
    companies = requests.get(base, params={"kind": "company"}, headers=headers, timeout=30).json()
    assert companies["cases"] == []
    one = requests.get(base, params={"dag_id": DAG_ID, "run_id": run_id}, headers=headers, timeout=30).json()
    assert [c["run_id"] for c in one["cases"]] == [run_id]
    bad = requests.get(base, params={"kind": "robot"}, headers=headers, timeout=30)
    assert bad.status_code == 400 and "kind must be one of person, company" in bad.text


def test_html_page_and_report_link(waiting_case: tuple[Any, str]) -> None:
    airflow, run_id = waiting_case
    cookies = {"_token": token(airflow, "auditor")}  # what the UI's iframe sends
    page = requests.get(f"{airflow.api_url}/offboarding/cases", cookies=cookies, timeout=30)
    assert page.status_code == 200
    assert "Offboarding cases" in page.text and run_id in page.text and "hr_wang" in page.text
    report = requests.get(
        f"{airflow.api_url}/offboarding/cases/{DAG_ID}/{run_id}/report", cookies=cookies, timeout=30
    )
    assert report.status_code == 404 and "written when the case closes" in report.text
    pdf = requests.get(
        f"{airflow.api_url}/offboarding/cases/{DAG_ID}/{run_id}/report.pdf", cookies=cookies, timeout=30
    )
    assert pdf.status_code == 404 and "offboarding evidence report <case folder> --pdf" in pdf.text
    other = requests.get(
        f"{airflow.api_url}/offboarding/cases/example_dag/{run_id}/report.pdf", cookies=cookies, timeout=30
    )
    assert other.status_code == 404 and "not an offboarding case DAG" in other.text


def test_the_plugin_registers_the_app_and_the_views(waiting_case: tuple[Any, str]) -> None:
    airflow, _ = waiting_case
    headers = {"Authorization": f"Bearer {token(airflow, 'admin')}"}
    plugins = requests.get(f"{airflow.api_url}/api/v2/plugins", headers=headers, timeout=30).json()["plugins"]
    [plugin] = [p for p in plugins if p["name"] == "offboarding"]
    assert [a["url_prefix"] for a in plugin["fastapi_apps"]] == ["/offboarding"]
    views = {v["destination"]: v for v in plugin["external_views"]}
    assert views["nav"]["href"] == "/offboarding/cases" and views["nav"]["url_route"]
    assert views["dag_run"]["href"] == "/offboarding/cases?dag_id={DAG_ID}&run_id={RUN_ID}"


def test_screenshot_of_the_page(waiting_case: tuple[Any, str], tmp_path: Path) -> None:
    airflow, run_id = waiting_case
    html = requests.get(
        f"{airflow.api_url}/offboarding/cases", cookies={"_token": token(airflow, "admin")}, timeout=30
    ).text
    assert run_id in html
    page = tmp_path / "cases.html"
    page.write_text(html, encoding="utf-8")
    shot = tmp_path / "cases.png"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1400,900",
            page.as_uri(),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert shot.stat().st_size > 10_000  # a rendered table, not a blank page


def test_summary_strip_and_its_filters(waiting_case: tuple[Any, str]) -> None:
    airflow, run_id = waiting_case
    headers = {"Authorization": f"Bearer {token(airflow, 'auditor')}"}
    base = f"{airflow.api_url}/offboarding/api/cases"
    body = requests.get(base, headers=headers, timeout=30).json()
    summary = body["summary"]
    phases = {p["phase"]: p["cases"] for p in summary["by_phase"]}
    assert phases.get("statutory_steps", 0) >= 1 and summary["on_hold"] == 0
    listed = requests.get(base, params={"phase": "statutory_steps"}, headers=headers, timeout=30).json()
    assert listed["total"] == phases["statutory_steps"]
    assert run_id in [c["run_id"] for c in listed["cases"]]
    bad = requests.get(base, params={"due_within_days": "0"}, headers=headers, timeout=30)
    assert bad.status_code == 400 and "due_within_days" in bad.text
    page = requests.get(f"{airflow.api_url}/offboarding/cases", headers=headers, timeout=30).text
    assert "Open cases by phase" in page and 'href="/offboarding/cases?phase=statutory_steps"' in page


def test_case_page_and_run_tab_show_the_timeline(waiting_case: tuple[Any, str]) -> None:
    airflow, run_id = waiting_case
    cookies = {"_token": token(airflow, "auditor")}
    own = requests.get(f"{airflow.api_url}/offboarding/cases/{DAG_ID}/{run_id}", cookies=cookies, timeout=30)
    assert own.status_code == 200 and "Timeline 时间线" in own.text and "<svg" in own.text
    tab = requests.get(
        f"{airflow.api_url}/offboarding/cases",
        params={"dag_id": DAG_ID, "run_id": run_id},
        cookies=cookies,
        timeout=30,
    )
    assert "Timeline 时间线" in tab.text and "waiting for an answer" in tab.text
    svg = requests.get(
        f"{airflow.api_url}/offboarding/cases/{DAG_ID}/{run_id}/timeline.svg", cookies=cookies, timeout=30
    )
    assert svg.headers["content-type"].startswith("image/svg+xml") and "hr_wang" in svg.text
    missing = requests.get(
        f"{airflow.api_url}/offboarding/cases/{DAG_ID}/no-such-run", cookies=cookies, timeout=30
    )
    assert missing.status_code == 404


def test_calendar_and_its_ics_feed(waiting_case: tuple[Any, str]) -> None:
    import icalendar

    airflow, run_id = waiting_case
    headers = {"Authorization": f"Bearer {token(airflow, 'auditor')}"}
    page = requests.get(
        f"{airflow.api_url}/offboarding/calendar", params={"owner": "hr_wang"}, headers=headers, timeout=30
    )
    assert page.status_code == 200 and "截止日历" in page.text
    feed = requests.get(
        f"{airflow.api_url}/offboarding/calendar.ics",
        params={"owner": "hr_wang"},
        headers=headers,
        timeout=30,
    )
    assert feed.headers["content-type"].startswith("text/calendar")
    events = list(icalendar.Calendar.from_ical(feed.text).walk("VEVENT"))
    mine = [e for e in events if run_id in str(e["URL"])]
    assert mine and all(e.decoded("DTSTART").tzinfo is not None for e in mine)


def test_exports_have_the_page_rows(waiting_case: tuple[Any, str]) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    airflow, _ = waiting_case
    headers = {"Authorization": f"Bearer {token(airflow, 'auditor')}"}
    page = requests.get(f"{airflow.api_url}/offboarding/api/cases", headers=headers, timeout=30).json()
    ids = [c["run_id"] for c in page["cases"]]
    text = requests.get(
        f"{airflow.api_url}/offboarding/cases.csv", headers=headers, timeout=30
    ).content.decode("utf-8-sig")
    assert [r["run_id"] for r in csv.DictReader(io.StringIO(text))] == ids
    xlsx = requests.get(f"{airflow.api_url}/offboarding/cases.xlsx", headers=headers, timeout=30).content
    rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert [r[rows[0].index("run_id")] for r in rows[1:]] == ids
