"""A case held behind a limit says why on the cases page: the DAG's max_active_runs, or a full pool."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.cases import build_page
from offboarding.cases_page.query import CaseFilters, fetch_page_rows
from offboarding.cases_page.render import render_page
from offboarding_dev.synthetic import create_metadata_tables, seed_synthetic_cases

NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)


def test_queued_cases_name_the_limit_they_wait_for(tmp_path: Path) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    engine = create_engine(f"sqlite:///{tmp_path / 'airflow.db'}")
    create_metadata_tables(engine)
    seed_synthetic_cases(engine, 20, now=NOW)
    dr, ti = DagRun.__table__, TaskInstance.__table__
    with engine.begin() as conn:
        conn.execute(update(dr).where(dr.c.run_id == "synthetic-000001").values(state="queued"))
        # synthetic-000007 is a person case running hand_over_customers: now it waits for its pool.
        conn.execute(
            update(ti)
            .where(ti.c.run_id == "synthetic-000007", ti.c.task_id == "handover.hand_over_customers")
            .values(state="scheduled", pool="offboarding_wecom_writes")
        )
    with Session(engine) as session:
        rows = fetch_page_rows(session, CaseFilters(limit=50))
    page = build_page(rows, CaseFilters(limit=50), now=NOW, timing=AlertTiming.from_policy())
    reasons = {c.run_id: c.queued_reason for c in page.cases}

    assert (
        reasons["synthetic-000001"] == "queued: max_active_runs (the DAG's limit of cases in flight) reached"
    )
    assert reasons["synthetic-000007"] == "queued: waiting for a free slot in pool offboarding_wecom_writes"
    assert sum(r is not None for r in reasons.values()) == 2
    assert page.to_json()["cases"][0].keys() >= {"queued_reason"}
    assert "waiting for a free slot in pool offboarding_wecom_writes" in render_page(page)
    engine.dispose()
