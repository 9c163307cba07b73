"""Put the console together for a request: the summary over every open case, the page's cases (chosen by
the summary's filters when asked), company progress on the page's company cases, a case's timeline.

A cases page is a small fixed number of queries whatever the number of cases: the open cases (two
SELECTs, :mod:`~offboarding.cases_page.overview`), the held cases (one, :mod:`~offboarding.cases_page.actions`),
the page (one, :mod:`~offboarding.cases_page.query`) and, when company cases are on it, their batches
(one, :mod:`~offboarding.cases_page.company_progress`). A case's page adds its timeline (one, plus its actions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from offboarding.alerting.timing import AlertTiming
from offboarding.cases import COMPANY_DAG_ID, LAYOFF_DAG_ID
from offboarding.cases_page.actions import case_actions, held_case_ids
from offboarding.cases_page.cases import CasesPage, build_page
from offboarding.cases_page.company_progress import fetch_progress_rows, progress_by_run
from offboarding.cases_page.overview import (
    OpenCase,
    Summary,
    build_summary,
    fetch_open_case_rows,
    matching_run_pks,
    open_cases,
)
from offboarding.cases_page.query import CaseFilters, fetch_page_rows
from offboarding.cases_page.timeline import Timeline, build_timeline
from offboarding.cases_page.timeline_query import fetch_timeline_rows

BATCHED_DAG_IDS = (COMPANY_DAG_ID, LAYOFF_DAG_ID)
"""The case DAGs whose members go in batches (the progress bar of ``company_progress``)."""


@dataclass
class Console:
    page: CasesPage
    summary: Summary
    open_cases: list[OpenCase]

    def to_json(self) -> dict[str, Any]:
        return {**self.page.to_json(), "summary": self.summary.to_json()}


def load_open_cases(
    session: Session, dag_ids: Sequence[str], *, now: dt.datetime, timing: AlertTiming
) -> list[OpenCase]:
    """Every open case the user may read, with its current steps and deadlines (two SELECTs)."""
    runs, steps = fetch_open_case_rows(session, dag_ids)
    return open_cases(runs, steps, now=now, timing=timing)


def load_console(
    session: Session,
    filters: CaseFilters,
    dag_ids: Sequence[str],
    *,
    now: dt.datetime,
    timing: AlertTiming,
    ui_url: str = "",
) -> Console:
    """The summary and the page of cases for ``filters``."""
    opens = load_open_cases(session, dag_ids, now=now, timing=timing)
    held = held_case_ids(session)
    summary = build_summary(opens, held, now=now)
    run_pks = matching_run_pks(opens, filters, held, now=now) if filters.needs_open_cases else None
    rows = fetch_page_rows(session, filters, dag_ids, run_pks)
    page = build_page(rows, filters, now=now, timing=timing, ui_url=ui_url)
    batched = {  # a company's members and a layoff list's persons go in batches: their progress
        (str(r["dag_id"]), str(r["run_id"])): int(r["run_pk"]) for r in rows if r["dag_id"] in BATCHED_DAG_IDS
    }
    if batched:
        progress = progress_by_run(
            fetch_progress_rows(session, batched.values()),
            ui=ui_url.rstrip("/"),
            runs={pk: key for key, pk in batched.items()},
        )
        for case in page.cases:
            found = progress.get(batched.get((case.dag_id, case.run_id), -1))
            case.progress = found.to_json() if found else None
    return Console(page, summary, opens)


def load_timeline(
    session: Session,
    dag_id: str,
    run_id: str,
    *,
    now: dt.datetime,
    timing: AlertTiming,
    takeover_delay: dt.timedelta | None = None,
) -> Timeline | None:
    """The case's timeline, or None when there is no such case run."""
    run, rows = fetch_timeline_rows(session, dag_id, run_id)
    if run is None:
        return None
    if takeover_delay is None:
        from offboarding.policy import get_policy

        takeover_delay = get_policy().handover.customer_takeover
    return build_timeline(
        run,
        rows,
        case_actions(session, dag_id, run_id),
        now=now,
        timing=timing,
        takeover_delay=takeover_delay,
    )


__all__ = ["Console", "load_console", "load_open_cases", "load_timeline"]
