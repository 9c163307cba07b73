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
from offboarding_dev.synthetic import create_metadata_tables, seed_synthetic_cases

pytestmark = pytest.mark.services

SERVER = os.environ.get("OFFBOARDING_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")
NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    name = f"offboarding_cases_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"{SERVER}/{name}")
    try:
        create_metadata_tables(engine)
        seed_synthetic_cases(engine, 1000, now=NOW)
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
