"""The cases page's query on a metadata database holding 10,000 synthetic cases: one SELECT per page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.cases import build_page
from offboarding.cases_page.query import CaseFilters, fetch_page_rows
from offboarding_dev.synthetic import SyntheticCases, create_metadata_tables, seed_synthetic_cases

NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def metadata_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, SyntheticCases]]:
    path: Path = tmp_path_factory.mktemp("metadata") / "airflow.db"
    engine = create_engine(f"sqlite:///{path}")
    create_metadata_tables(engine)
    seeded = seed_synthetic_cases(engine, 10_000, now=NOW)
    yield engine, seeded
    engine.dispose()


def page(engine: Any, filters: CaseFilters, statements: list[str] | None = None) -> Any:
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statements is not None:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            rows = fetch_page_rows(session, filters)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return build_page(
        rows, filters, now=NOW, timing=AlertTiming.from_policy(), ui_url="http://airflow.example"
    )


def test_the_seed_has_what_the_page_needs(metadata_db: tuple[Any, SyntheticCases]) -> None:
    _, seeded = metadata_db
    assert seeded.runs == 10_000
    assert seeded.finished == 2000
    assert seeded.stalled_human_steps > 0 and seeded.legal_waits > 0


def test_the_first_page_is_exactly_one_select(metadata_db: tuple[Any, SyntheticCases]) -> None:
    engine, _ = metadata_db
    statements: list[str] = []
    result = page(engine, CaseFilters(limit=50), statements)

    assert len(statements) == 1
    assert statements[0].lstrip().upper().startswith(("WITH", "SELECT"))
    assert len(result.cases) == 50
    assert result.total == 10_000
    assert result.next_offset == 50


def test_every_filter_is_still_one_select(metadata_db: tuple[Any, SyntheticCases]) -> None:
    engine, _ = metadata_db
    statements: list[str] = []
    page(
        engine, CaseFilters(kind="company", state="running", stalled=True, limit=200, offset=400), statements
    )
    assert len(statements) == 1


def test_a_case_shows_phase_step_deadline_owner_and_audit(metadata_db: tuple[Any, SyntheticCases]) -> None:
    engine, _ = metadata_db
    result = page(engine, CaseFilters(kind="person", stalled=True, limit=20))
    case = result.cases[0]

    assert case.kind == "person" and case.stalled
    assert case.phase == "statutory_steps"
    [step] = case.steps
    assert step.step == "stop_social_insurance" and step.kind == "human step"
    assert step.waiting_until_local and step.waiting_until_local.endswith("(Asia/Shanghai)")
    assert step.stalled_for == "5 d"
    assert step.owners == ["hr_wang"]
    assert step.answer_url and step.answer_url.endswith("/required_actions?map_index=-1")
    assert case.triggered_by == "ops_li"
    assert [(a.task_id, a.by, a.chosen) for a in case.answers] == [
        ("approve_deletion", "approver", ["Approve"])
    ]
    assert case.run_url.startswith("http://airflow.example/dags/offboard_employee/runs/synthetic-")
    assert case.report_url == f"/offboarding/cases/offboard_employee/{case.run_id}/report"
    assert case.backup_folder.endswith(f"/{case.case_id}/")


def test_the_stalled_filter_keeps_only_stalled_cases(metadata_db: tuple[Any, SyntheticCases]) -> None:
    engine, _ = metadata_db
    stalled = page(engine, CaseFilters(stalled=True, limit=200))
    calm = page(engine, CaseFilters(stalled=False, limit=200))
    assert stalled.cases and all(c.stalled for c in stalled.cases)
    assert calm.cases and not any(c.stalled for c in calm.cases)


def test_legal_waits_show_their_deadline_and_are_not_stalled_before_it(
    metadata_db: tuple[Any, SyntheticCases],
) -> None:
    engine, _ = metadata_db
    result = page(engine, CaseFilters(kind="company", state="running", limit=50))
    waits = [s for c in result.cases for s in c.steps if s.kind == "legal wait"]
    assert waits
    assert all(s.waiting_until_local and not s.stalled for s in waits)


def test_kind_state_and_paging(metadata_db: tuple[Any, SyntheticCases]) -> None:
    engine, _ = metadata_db
    companies = page(engine, CaseFilters(kind="company", limit=10))
    assert {c.kind for c in companies.cases} == {"company"}
    assert companies.total == 5000
    finished = page(engine, CaseFilters(state="success", limit=10))
    assert finished.total == 2000 and all(c.phase == "done" and not c.steps for c in finished.cases)
    last = page(engine, CaseFilters(limit=50, offset=9_990))
    assert len(last.cases) == 10 and last.next_offset is None


def test_one_case_by_run_id(metadata_db: tuple[Any, SyntheticCases]) -> None:
    engine, _ = metadata_db
    result = page(engine, CaseFilters(dag_id="dissolve_company", run_id="synthetic-000002"))
    assert [c.run_id for c in result.cases] == ["synthetic-000002"]
    assert result.cases[0].who == "公司2 (91350100M000100Y43)"


def test_the_run_tab_of_another_dag_shows_no_case(metadata_db: tuple[Any, SyntheticCases]) -> None:
    from offboarding.cases_page.render import render_page

    engine, _ = metadata_db
    statements: list[str] = []
    result = page(engine, CaseFilters(dag_id="some_etl", run_id="manual__1"), statements)
    assert result.cases == [] and statements == []
    assert "some_etl is not an offboarding case DAG" in render_page(result)


def test_the_html_escapes_what_people_typed(metadata_db: tuple[Any, SyntheticCases]) -> None:
    from offboarding.cases_page.render import render_page

    engine, _ = metadata_db
    result = page(engine, CaseFilters(limit=2))
    result.cases[0].who = "<script>alert(1)</script>"
    html = render_page(result)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert "cases 1–2 of 10000" in html and "next →" in html


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (CaseFilters(kind="robot"), "kind must be one of person, company, layoff"),
        (CaseFilters(state="paused"), "state must be one of"),
        (CaseFilters(limit=0), "limit must be a whole number from 1 to 200"),
        (CaseFilters(offset=-1), "offset must be a whole number"),
    ],
)
def test_bad_filters_name_the_field(filters: CaseFilters, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        filters.checked()


def test_a_layoff_list_is_a_case_of_its_own_kind(tmp_path: Path) -> None:
    """A run of ``offboard_layoff`` is listed under kind ``layoff``, named by its list, with its waiting
    approval; the person and company filters leave it out."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    from offboarding.cases_page.render import render_page
    from offboarding_dev.synthetic import _task_row

    engine = create_engine(f"sqlite:///{tmp_path / 'airflow.db'}")
    create_metadata_tables(engine)
    seed_synthetic_cases(engine, 4, now=NOW)
    persons = [{"userid": f"u{n}", "successor_userid": "lead"} for n in range(250)]
    queued = NOW - dt.timedelta(days=2)
    with engine.begin() as conn:
        conn.execute(
            DagRun.__table__.insert(),
            {
                "id": 100,
                "dag_id": "offboard_layoff",
                "run_id": "layoff-2026q4-east",
                "run_type": "manual",
                "state": "running",
                "conf": {"list_id": "2026q4-east", "list_name": "华东优化", "persons": persons},
                "run_after": queued,
                "queued_at": queued,
                "start_date": queued,
                "triggering_user_name": "hr",
            },
        )
        conn.execute(
            TaskInstance.__table__.insert(),
            _task_row(
                "offboard_layoff",
                "layoff-2026q4-east",
                "approve_member_deletion",
                "awaiting_input",
                "ApproveDeletionOperator",
                queued,
            ),
        )
    layoffs = page(engine, CaseFilters(kind="layoff", limit=10))
    assert [(c.case_id, c.kind, c.who) for c in layoffs.cases] == [
        ("layoff-2026q4-east", "layoff", "华东优化 (250 persons)")
    ]
    assert [s.task_id for s in layoffs.cases[0].steps] == ["approve_member_deletion"]
    assert "Layoff list 批量优化" in render_page(layoffs)
    others = (
        page(engine, CaseFilters(kind="person", limit=10)).cases
        + page(engine, CaseFilters(kind="company", limit=10)).cases
    )
    assert "layoff-2026q4-east" not in {c.run_id for c in others}
    engine.dispose()
