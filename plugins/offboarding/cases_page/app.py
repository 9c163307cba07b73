"""The "Offboarding cases" FastAPI app, mounted by the plugin on the api-server at ``/offboarding``.

* ``GET /offboarding/cases`` — the page (HTML), shown in the Airflow UI's nav and on each DAG run;
* ``GET /offboarding/api/cases`` — the same page as JSON;
* ``GET /offboarding/cases/{dag_id}/{run_id}/report`` — the case's evidence report (HTML), when the
  case's storage root is one of the deployment's local roots (``OFFBOARDING_BACKUP_ROOTS``), served with
  ``Content-Security-Policy: sandbox`` and ``X-Content-Type-Options: nosniff``.

Query parameters: ``kind`` (person|company), ``state`` (the run's), ``stalled`` (true|false),
``dag_id``/``run_id`` (one case), ``limit`` (1-200, default 50), ``offset``.

Every route is behind Airflow's authentication (``requires_access_dag``; 401 without a token or the
UI's ``_token`` cookie) and lists only the case DAGs the user may read. A page is ONE database query
(:mod:`offboarding.cases_page.query`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import select

from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.cases import CasesPage, build_page
from offboarding.cases_page.query import CASE_DAG_IDS, DEFAULT_LIMIT, CaseFilters, fetch_page_rows
from offboarding.cases_page.render import render_page

app = FastAPI(
    title="Offboarding cases",
    description="Every offboarding case: phase, step, deadline, stalled steps, owners, evidence.",
)

_READ = [Depends(requires_access_dag(method="GET"))]


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


def _page(session: Any, filters: CaseFilters, user: Any) -> CasesPage:
    rows = fetch_page_rows(session, filters, readable_case_dags(user))
    return build_page(rows, filters, now=dt.datetime.now(dt.UTC), timing=AlertTiming.from_policy())


@app.get("/cases", response_class=HTMLResponse, dependencies=_READ)
def cases_html(filters: FiltersDep, session: SessionDep, user: GetUserDep) -> HTMLResponse:
    """The cases page."""
    return HTMLResponse(render_page(_page(session, filters, user)))


@app.get("/api/cases", dependencies=_READ)
def cases_json(filters: FiltersDep, session: SessionDep, user: GetUserDep) -> JSONResponse:
    """The cases page as JSON (``cases``, ``total``, ``limit``, ``offset``, ``next_offset``)."""
    return JSONResponse(_page(session, filters, user).to_json())


@app.get("/cases/{dag_id}/{run_id}/report", response_class=HTMLResponse, dependencies=_READ)
def case_report(dag_id: str, run_id: str, session: SessionDep) -> HTMLResponse:
    """The case's evidence report (``<root>/<case_id>/evidence/report.html``), written when the case closed.

    Served only from a local storage root the deployment declares, with a sandboxing
    Content-Security-Policy (see :mod:`offboarding.cases_page.reports`).
    """
    from airflow.models.dagrun import DagRun

    from offboarding.alerting.steps import CaseInfo
    from offboarding.cases_page.reports import report_response

    if dag_id not in CASE_DAG_IDS:
        raise HTTPException(404, f"{dag_id} is not an offboarding case DAG")
    conf = session.scalar(select(DagRun.conf).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if conf is None:
        raise HTTPException(404, f"no run {run_id} of {dag_id}")
    case = CaseInfo.from_conf(dag_id, run_id, conf)
    return report_response(case.case_id, conf)
