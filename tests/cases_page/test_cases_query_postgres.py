"""The page's single SELECT is portable: the same query on PostgreSQL (a scratch database, dropped after)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.cases import build_page
from offboarding.cases_page.query import CaseFilters, fetch_page_rows
from offboarding_dev.synthetic import create_metadata_tables, seed_console_showcase, seed_synthetic_cases

pytestmark = pytest.mark.services

SERVER = os.environ.get("OFFBOARDING_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")
NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    name = f"offboarding_cases_console_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"{SERVER}/{name}")
    try:
        create_metadata_tables(engine)
        seed_synthetic_cases(engine, 1000, now=NOW)
        seed_console_showcase(engine, now=NOW)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.mark.parametrize(
    "filters",
    [CaseFilters(), CaseFilters(kind="person", stalled=True), CaseFilters(state="success", offset=10)],
)
def test_one_select_per_page_on_postgres(postgres: Any, filters: CaseFilters) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(postgres, "before_cursor_execute", count)
    try:
        with Session(postgres) as session:
            rows = fetch_page_rows(session, filters)
    finally:
        event.remove(postgres, "before_cursor_execute", count)
    page = build_page(rows, filters, now=NOW, timing=AlertTiming.from_policy())

    assert len(statements) == 1
    assert page.cases
    if filters.stalled:
        assert all(c.stalled for c in page.cases)
    if filters.state:
        assert {c.state for c in page.cases} == {filters.state}


def test_the_console_on_postgres(postgres: Any) -> None:
    """Summary, its exact filters, company progress, the held case and a timeline: same answers as SQLite."""
    from offboarding.cases_page.console import load_console, load_timeline
    from offboarding.cases_page.query import CASE_DAG_IDS

    timing = AlertTiming.from_policy()
    with Session(postgres) as session:
        console = load_console(session, CaseFilters(), list(CASE_DAG_IDS), now=NOW, timing=timing)
        summary = console.summary
        assert summary.open_cases == 800 + 2 and summary.on_hold == 1
        stalled = load_console(session, CaseFilters(stalled=True), list(CASE_DAG_IDS), now=NOW, timing=timing)
        assert stalled.page.total == summary.stalled
        company = load_console(
            session,
            CaseFilters(dag_id="dissolve_company", run_id="showcase-company"),
            list(CASE_DAG_IDS),
            now=NOW,
            timing=timing,
        ).page.cases[0]
        assert company.progress is not None and company.progress["done"] == 4000
        timeline = load_timeline(
            session,
            "offboard_employee",
            "showcase-person",
            now=NOW,
            timing=timing,
            takeover_delay=dt.timedelta(hours=24),
        )
    assert timeline is not None
    assert [e.kind for e in timeline.events] == ["reschedule", "hold"]
    assert "cooling-off ends" in [d.title for d in timeline.deadlines]
