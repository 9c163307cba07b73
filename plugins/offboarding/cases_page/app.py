"""The "Offboarding cases" FastAPI app, mounted by the plugin on the api-server at ``/offboarding``.

* ``GET /offboarding/cases`` — the page (HTML), shown in the Airflow UI's nav and on each DAG run;
* ``GET /offboarding/api/cases`` — the same page as JSON;
* ``GET /offboarding/cases/{dag_id}/{run_id}`` — one case's page: its timeline and its row;
* ``GET /offboarding/cases/{dag_id}/{run_id}/timeline.svg`` — the case's timeline picture alone;
* ``GET /offboarding/calendar`` (HTML, JSON at ``/offboarding/api/calendar``) — the next 30 days of legal
  deadlines and human-step due dates with the working-day calendar, ``owner`` filter;
  ``GET /offboarding/calendar.ics?owner=…`` — the same as an iCalendar feed;
* ``GET /offboarding/cases.csv`` / ``GET /offboarding/cases.xlsx`` — the page's cases (same filters, same
  rows; ``all=true`` for every matching case) as a spreadsheet, every cell made spreadsheet-safe;
* ``GET /offboarding/cases/{dag_id}/{run_id}/report`` — the case's evidence report (HTML), when the
  case's storage root is one of the deployment's local roots (``OFFBOARDING_BACKUP_ROOTS``), served with
  ``Content-Security-Policy: sandbox`` and ``X-Content-Type-Options: nosniff``;
* ``GET /offboarding/cases/{dag_id}/{run_id}/report.pdf`` — the same report as PDF (with the phases
  picture), under the same rules.

Query parameters: ``kind`` (person|company), ``state`` (the run's, or ``open``), ``stalled`` (true|false),
``dag_id``/``run_id`` (one case), ``phase`` (open cases with a current step in it), ``held`` (true|false),
``due_within_days`` (open cases with a legal deadline that soon), ``limit`` (1-200, default 50), ``offset``.
The page opens with the summary strip (:mod:`offboarding.cases_page.summary_svg`); with ``dag_id`` and
``run_id`` (the DAG-run tab) it shows that case's timeline.

Every route is behind Airflow's authentication (``requires_access_dag``; 401 without a token or the
UI's ``_token`` cookie) and lists only the case DAGs the user may read. A page is a small fixed number
of database queries (:mod:`offboarding.cases_page.console`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from sqlalchemy import select

from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.actions_api import router as actions_router
from offboarding.cases_page.cases import CasesPage
from offboarding.cases_page.console import Console, load_console, load_open_cases, load_timeline
from offboarding.cases_page.gc_pause import cyclic_gc_paused
from offboarding.cases_page.query import CASE_DAG_IDS, DEFAULT_LIMIT, MAX_LIMIT, CaseFilters
from offboarding.cases_page.render import STYLE, render_page
from offboarding.cases_page.summary_svg import render_summary
from offboarding.cases_page.timeline_svg import TIMELINE_STYLE, render_timeline, render_timeline_svg

app = FastAPI(
    title="Offboarding cases",
    description="Every offboarding case: phase, step, deadline, stalled steps, owners, evidence.",
)

_READ = [Depends(requires_access_dag(method="GET"))]

app.include_router(actions_router)  # case lifecycle: GET/POST /offboarding/api/cases/{case_id}[/<action>]


def _flag(value: str | None, name: str) -> bool | None:
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise HTTPException(400, f"{name} must be true or false, got {value!r}")


def _filters(
    kind: Annotated[str | None, Query()] = None,
    state: Annotated[str | None, Query()] = None,
    stalled: Annotated[str | None, Query()] = None,
    dag_id: Annotated[str | None, Query()] = None,
    run_id: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query()] = DEFAULT_LIMIT,
    offset: Annotated[int, Query()] = 0,
    phase: Annotated[str | None, Query()] = None,
    held: Annotated[str | None, Query()] = None,
    due_within_days: Annotated[int | None, Query()] = None,
) -> CaseFilters:
    try:
        return CaseFilters(
            kind=kind or None,
            state=state or None,
            stalled=_flag(stalled, "stalled"),
            dag_id=dag_id or None,
            run_id=run_id or None,
            limit=limit,
            offset=offset,
            phase=phase or None,
            held=_flag(held, "held"),
            due_within_days=due_within_days,
        ).checked()
    except ValueError as err:
        raise HTTPException(400, str(err)) from None


FiltersDep = Annotated[CaseFilters, Depends(_filters)]


def readable_case_dags(user: Any) -> list[str]:
    """The case DAGs ``user`` may read (no database query)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    manager = get_auth_manager()
    return [
        d
        for d in CASE_DAG_IDS
        if manager.is_authorized_dag(method="GET", details=DagDetails(id=d), user=user)
    ]


def _console(session: Any, filters: CaseFilters, user: Any) -> Console:
    return load_console(
        session,
        filters,
        readable_case_dags(user),
        now=dt.datetime.now(dt.UTC),
        timing=AlertTiming.from_policy(),
    )


def _page(session: Any, filters: CaseFilters, user: Any) -> CasesPage:
    return _console(session, filters, user).page


def _case_top(session: Any, filters: CaseFilters, user: Any, summary: Any) -> str:
    """Above the table: a case's timeline on its own page / DAG-run tab, else the summary strip."""
    if filters.dag_id and filters.run_id and filters.dag_id in readable_case_dags(user):
        timeline = load_timeline(
            session,
            filters.dag_id,
            filters.run_id,
            now=dt.datetime.now(dt.UTC),
            timing=AlertTiming.from_policy(),
        )
        if timeline is not None:
            return render_timeline(timeline)
    return render_summary(summary)


@app.get("/cases", response_class=HTMLResponse, dependencies=_READ)
def cases_html(filters: FiltersDep, session: SessionDep, user: GetUserDep) -> HTMLResponse:
    """The cases page: the summary strip (or, for one case, its timeline), then the cases."""
    with cyclic_gc_paused():  # every open case is judged: see offboarding.cases_page.gc_pause
        console = _console(session, filters, user)
        top = _case_top(session, filters, user, console.summary)
        html = render_page(console.page, top=top, extra_style=TIMELINE_STYLE)
        del console
    return HTMLResponse(html)


@app.get("/api/cases", dependencies=_READ)
def cases_json(filters: FiltersDep, session: SessionDep, user: GetUserDep) -> JSONResponse:
    """The cases page as JSON (``cases`` — a company's with ``progress`` —, ``total``, ``limit``,
    ``offset``, ``next_offset``, ``summary``)."""
    with cyclic_gc_paused():
        body = _console(session, filters, user).to_json()
    return JSONResponse(body)


@app.get("/cases/{dag_id}/{run_id}/report", response_class=HTMLResponse, dependencies=_READ)
def case_report(dag_id: str, run_id: str, session: SessionDep) -> HTMLResponse:
    """The case's evidence report (``<root>/<case_id>/evidence/report.html``), written when the case closed.

    Served only from a local storage root the deployment declares, with a sandboxing
    Content-Security-Policy (see :mod:`offboarding.cases_page.reports`).
    """
    from offboarding.cases_page.reports import report_response

    case_id, conf = _case_of_run(dag_id, run_id, session)
    return report_response(case_id, conf)


# -- the console: a case's page, its timeline, the deadlines calendar, exports (issue #16) ----------------


def _readable_case(dag_id: str, user: Any) -> None:
    if dag_id not in CASE_DAG_IDS:
        raise HTTPException(404, f"{dag_id} is not an offboarding case DAG")
    if dag_id not in readable_case_dags(user):
        raise HTTPException(403, f"you may not read {dag_id}")


@app.get("/cases/{dag_id}/{run_id}", response_class=HTMLResponse, dependencies=_READ)
def case_html(dag_id: str, run_id: str, session: SessionDep, user: GetUserDep) -> HTMLResponse:
    """One case's own page: its timeline, then its row."""
    _readable_case(dag_id, user)
    filters = CaseFilters(dag_id=dag_id, run_id=run_id).checked()
    timeline = load_timeline(
        session, dag_id, run_id, now=dt.datetime.now(dt.UTC), timing=AlertTiming.from_policy()
    )
    if timeline is None:
        raise HTTPException(404, f"no run {run_id} of {dag_id}")
    page = _page(session, filters, user)
    return HTMLResponse(render_page(page, top=render_timeline(timeline), extra_style=TIMELINE_STYLE))


@app.get("/cases/{dag_id}/{run_id}/timeline.svg", dependencies=_READ)
def case_timeline_svg(dag_id: str, run_id: str, session: SessionDep, user: GetUserDep) -> Response:
    """The case's timeline picture alone (SVG)."""
    _readable_case(dag_id, user)
    timeline = load_timeline(
        session, dag_id, run_id, now=dt.datetime.now(dt.UTC), timing=AlertTiming.from_policy()
    )
    if timeline is None:
        raise HTTPException(404, f"no run {run_id} of {dag_id}")
    return Response(
        render_timeline_svg(timeline),
        media_type="image/svg+xml",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def _owner(owner: str | None) -> str | None:
    if owner is None or owner == "":
        return None
    if len(owner) > 200 or any(ord(c) < 32 for c in owner):
        raise HTTPException(400, "owner must be a user name of at most 200 printable characters")
    return owner


def _calendar(session: Any, user: Any, owner: str | None, days: int) -> Any:
    from offboarding.cases_page.deadlines_calendar import build_calendar

    now = dt.datetime.now(dt.UTC)
    with cyclic_gc_paused():
        opens = load_open_cases(session, readable_case_dags(user), now=now, timing=AlertTiming.from_policy())
        calendar = build_calendar(opens, now=now, owner=_owner(owner), days=days)
        del opens
    return calendar, now


@app.get("/calendar", response_class=HTMLResponse, dependencies=_READ)
def calendar_html(
    session: SessionDep, user: GetUserDep, owner: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    """The deadlines calendar (next 30 days), by day, with holidays and make-up working days."""
    from offboarding.cases_page.deadlines_calendar import render_calendar

    calendar, _ = _calendar(session, user, owner, 30)
    return HTMLResponse(render_calendar(calendar, style=STYLE))


@app.get("/api/calendar", dependencies=_READ)
def calendar_json(
    session: SessionDep, user: GetUserDep, owner: Annotated[str | None, Query()] = None
) -> JSONResponse:
    """The deadlines calendar as JSON."""
    calendar, _ = _calendar(session, user, owner, 30)
    return JSONResponse(calendar.to_json())


@app.get("/calendar.ics", dependencies=_READ)
def calendar_ics(
    session: SessionDep, user: GetUserDep, owner: Annotated[str | None, Query()] = None
) -> Response:
    """The deadlines (overdue ones and the next year's) as an iCalendar feed, for one owner or everyone."""
    from offboarding.cases_page.ics import to_ics

    calendar, now = _calendar(session, user, owner, 366)
    safe = "".join(c for c in owner or "" if c.isascii() and c.isalnum())
    name = f"offboarding-deadlines{'-' + safe if safe else ''}.ics"
    return Response(
        to_ics(calendar.entries, now=now, owner=calendar.owner),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _export_cases(session: Any, filters: CaseFilters, user: Any, every: bool) -> list[Any]:
    if not every:
        return _page(session, filters, user).cases
    cases: list[Any] = []
    offset = 0
    while True:
        page = _page(session, dataclasses.replace(filters, limit=MAX_LIMIT, offset=offset), user)
        cases += page.cases
        if page.next_offset is None:
            return cases
        offset = page.next_offset


@app.get("/cases.csv", dependencies=_READ)
def cases_csv(
    filters: FiltersDep, session: SessionDep, user: GetUserDep, all: Annotated[str | None, Query()] = None
) -> StreamingResponse:
    """The page's cases (or every matching case with ``all=true``) as CSV, spreadsheet-safe."""
    from offboarding.cases_page.exports import csv_export

    cases = _export_cases(session, filters, user, bool(_flag(all, "all")))
    return StreamingResponse(
        csv_export(cases),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="offboarding-cases.csv"'},
    )


@app.get("/cases.xlsx", dependencies=_READ)
def cases_xlsx(
    filters: FiltersDep, session: SessionDep, user: GetUserDep, all: Annotated[str | None, Query()] = None
) -> Response:
    """The page's cases (or every matching case with ``all=true``) as an XLSX workbook, spreadsheet-safe."""
    from offboarding.cases_page.exports import xlsx_export

    cases = _export_cases(session, filters, user, bool(_flag(all, "all")))
    return Response(
        xlsx_export(cases),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="offboarding-cases.xlsx"'},
    )


@app.get("/cases/{dag_id}/{run_id}/report.pdf", dependencies=_READ)
def case_report_pdf(dag_id: str, run_id: str, session: SessionDep) -> Response:
    """The case's evidence report as PDF (``<root>/<case_id>/evidence/report.pdf``), written when the case closed.

    Same authorization, storage roots and checks as :func:`case_report`.
    """
    from offboarding.cases_page.reports import pdf_report_response

    case_id, conf = _case_of_run(dag_id, run_id, session)
    return pdf_report_response(case_id, conf)


def _case_of_run(dag_id: str, run_id: str, session: Any) -> tuple[str, dict[str, Any]]:
    """The case id and conf of a case DAG's run; 404 for another DAG or an unknown run."""
    from airflow.models.dagrun import DagRun

    from offboarding.alerting.steps import CaseInfo

    if dag_id not in CASE_DAG_IDS:
        raise HTTPException(404, f"{dag_id} is not an offboarding case DAG")
    conf = session.scalar(select(DagRun.conf).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if conf is None:
        raise HTTPException(404, f"no run {run_id} of {dag_id}")
    return CaseInfo.from_conf(dag_id, run_id, conf).case_id, dict(conf)
