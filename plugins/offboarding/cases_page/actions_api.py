"""Case lifecycle over REST, on the api-server under ``/offboarding`` (issue 14).

* ``GET /offboarding/api/cases/{case_id}`` — the case's controls (:class:`~offboarding.cases.lifecycle.CaseControls`
  as JSON: ``state``, ``phase``, ``hold``, ``rescind``, effective ``last_working_day``, ``corrections``,
  ``history``); what tasks read (with the read-only user of Connection ``offboarding_airflow_api``);
* ``GET /offboarding/api/cases/{case_id}/series`` — every case of the same member, which is open, and
  the id the next case gets (``offboard-lisi+2``...), for ``bulk-trigger`` and ``check_case``;
* ``POST /offboarding/api/cases/{case_id}/{rescind|reschedule|hold|release|correct}`` — one action.

Answers of the actions: **202** accepted (recorded), **409** not applicable now (``detail.reason``,
``detail.since``, ``detail.can_still``), **422** bad body (``detail.field``), **404** unknown case,
**403** the user may not edit the case's DAG (Airflow's own permission, ``is_authorized_dag(PUT)``),
**401** no credentials. Nothing is recorded or changed unless the answer is 202.

Authentication is Airflow's: a bearer token, or the UI's ``_token`` cookie. A POST carrying only the
cookie must also come from the page itself (:mod:`offboarding.cases_page.actions_csrf`): same origin and
the page's per-form token; a bearer token (the CLI, scripts) is not sent by browsers on their own, so it
needs neither.

Rescind: the handler records the action, marks the run's task instances that have not started, wait
(deferred) or wait for a person (awaiting_input) **skipped** — so no human step keeps asking in
*Required Actions* — lets running ones finish, and triggers the DAG ``offboarding_rescind`` with run id
``rescind-<case_id>-<action_id>`` and conf ``{case_id, dag_id, run_id, reason, action_id}``. It does not
use Airflow's "mark run failed": that fails running task instances (a deletion could be cut mid-call)
and marks the run failed, while a rescinded case ends with its steps skipped, not failed.

The evidence ledger: the api-server has no access to the case folder's key, so each accepted action
is appended to the case's ledger (``case.<action>``, idempotent on the action id) by the next task
that reads the controls (see :mod:`offboarding.cases.lifecycle`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse

from offboarding.cases.lifecycle import (
    ACTIONS,
    RESCHEDULE,
    RESCIND,
    Accepted,
    CaseProgress,
    Invalid,
    Refused,
    decide,
)
from offboarding.cases_page.actions_csrf import check_cookie_request
from offboarding.cases_page.case_actions_store import actions_for_case, ensure_table, record_action
from offboarding.cases_page.case_records import (
    RESCIND_DAG_ID,
    CaseRun,
    controls_of,
    dag_of_case,
    find_case,
    rescind_run_id,
    series_of,
)
from offboarding.cases_page.overview import LAST_WORKING_DAY_TASK
from offboarding.scheduling_nudge import examine_run_soon

router = APIRouter()

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
#: Task-instance states a rescind marks skipped: not started, waiting, or waiting for a person.
SKIPPED_BY_RESCIND = (
    None,
    "scheduled",
    "queued",
    "up_for_retry",
    "up_for_reschedule",
    "deferred",
    "awaiting_input",
    "restarting",
)


def _may(user: Any, dag_id: str, method: str) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    return bool(get_auth_manager().is_authorized_dag(method=method, details=DagDetails(id=dag_id), user=user))


def _case_or_404(session: Any, case_id: str, user: Any, method: str, *, lock: bool = False) -> CaseRun:
    dag_id = dag_of_case(case_id)
    if dag_id is None:
        raise HTTPException(
            404, {"reason": f"{case_id} is not a case id (offboard-<userid> or dissolve-<code>)"}
        )
    if not _may(user, dag_id, method):
        what = "edit" if method == "PUT" else "read"
        raise HTTPException(403, {"reason": f"you may not {what} the DAG {dag_id} of case {case_id}"})
    run = find_case(session, case_id, lock=lock)
    if run is None:
        raise HTTPException(404, {"reason": f"no case {case_id} (no run of {dag_id} with this case id)"})
    return run


@router.get("/api/cases/{case_id}")
def case_controls(case_id: str, session: SessionDep, user: GetUserDep) -> JSONResponse:
    """The case's state, phase, hold, rescind, effective last working day, corrections and history."""
    ensure_table(session.get_bind())
    run = _case_or_404(session, case_id, user, "GET")
    controls, _ = controls_of(session, run)
    return JSONResponse(controls.to_json())


@router.get("/api/cases/{case_id}/series")
def case_series(
    case_id: str, session: SessionDep, user: GetUserDep, exclude_run_id: str | None = None
) -> JSONResponse:
    """Every case of the member of ``case_id`` (which need not exist yet), the open ones, the next id."""
    dag_id = dag_of_case(case_id)
    if dag_id is None:
        raise HTTPException(
            404, {"reason": f"{case_id} is not a case id (offboard-<userid> or dissolve-<code>)"}
        )
    if not _may(user, dag_id, "GET"):
        raise HTTPException(403, {"reason": f"you may not read the DAG {dag_id}"})
    ensure_table(session.get_bind())
    series = series_of(session, case_id, exclude_run_id=exclude_run_id)
    assert series is not None
    return JSONResponse(series.to_json())


def correction_validator(run: CaseRun, triggered_by: str | None) -> Any:
    """The trigger form's validation of a corrected conf, with the separation of duties against the
    acting user, the user who triggered the case and the deployment's lists."""
    from offboarding.cases import validate_company_case, validate_layoff_case, validate_person_case
    from offboarding.cases.approvers import separation_problems
    from offboarding.operators.approvers import deployment_roster

    validate = {"company": validate_company_case, "layoff": validate_layoff_case}.get(
        run.kind, validate_person_case
    )

    def check(conf: Mapping[str, Any], acting_user: str) -> Sequence[tuple[str, str]]:
        roster = deployment_roster()
        problems = [(p.field, p.message) for p in validate(dict(conf), allow_unknown=True)]
        for who in (triggered_by, acting_user):
            problems += [
                (p.field, p.message)
                for p in separation_problems(conf, run.kind, triggered_by=who, roster=roster)
            ]
        return problems

    return check


def skip_unfinished(session: Any, run: CaseRun) -> list[str]:
    """Mark the run's not-started, deferred and awaiting-input task instances skipped (running ones
    finish); returns their ``task_id[map_index]``."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import or_, select

    states = [s for s in SKIPPED_BY_RESCIND if s is not None]
    tis = session.scalars(
        select(TaskInstance).where(
            TaskInstance.dag_id == run.dag_id,
            TaskInstance.run_id == run.run_id,
            or_(TaskInstance.state.is_(None), TaskInstance.state.in_(states)),
        )
    ).all()
    skipped = []
    for ti in tis:
        ti.set_state(TaskInstanceState.SKIPPED, session=session)
        skipped.append(ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]")
    return sorted(skipped)


def wake_last_working_day_wait(session: Any, run: CaseRun) -> list[str]:
    """Clear the run's wait for the last working day when it is parked, deferred or running, as Airflow's
    *Clear* does, in the transaction that records the reschedule: it starts again, reads the new day and
    waits for its end (an earlier day takes effect at once; no wait wakes up just to look). Returns what
    was woken."""
    from airflow.models.taskinstance import TaskInstance, clear_task_instances
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    waiting = session.scalars(
        select(TaskInstance).where(
            TaskInstance.dag_id == run.dag_id,
            TaskInstance.run_id == run.run_id,
            TaskInstance.task_id == LAST_WORKING_DAY_TASK,
            TaskInstance.state.in_(
                [TaskInstanceState.UP_FOR_RESCHEDULE, TaskInstanceState.DEFERRED, TaskInstanceState.RUNNING]
            ),
        )
    ).all()
    if waiting:
        clear_task_instances(list(waiting), session, dag_run_state=False)
    return [ti.task_id for ti in waiting]


def _rescind_dag(session: Any) -> Any:
    from airflow.models.dagbag import DBDagBag

    return DBDagBag().get_latest_version_of_dag(RESCIND_DAG_ID, session=session)


def trigger_rescind(session: Any, dag: Any, run: CaseRun, action_id: int, reason: str, user: Any) -> str:
    """Start the ``offboarding_rescind`` run that undoes the case; returns its run id."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import TriggerDAGRunPostBody
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType

    run_id = rescind_run_id(run.case_id, action_id)
    body = TriggerDAGRunPostBody(
        dag_run_id=run_id,
        logical_date=None,
        conf={
            "case_id": run.case_id,
            "dag_id": run.dag_id,
            "run_id": run.run_id,
            "reason": reason,
            "action_id": action_id,
        },
    )
    params = body.validate_context(dag)
    dag.create_dagrun(
        run_id=params["run_id"],
        logical_date=params["logical_date"],
        data_interval=params["data_interval"],
        run_after=params["run_after"],
        conf=params["conf"],
        run_type=DagRunType.MANUAL,
        triggered_by=DagRunTriggeredByType.REST_API,
        triggering_user_name=user.get_name(),
        state=DagRunState.QUEUED,
        partition_key=params.get("partition_key"),
        partition_date=params.get("partition_date"),
        session=session,
    )
    return run_id


def perform(session: Any, user: Any, case_id: str, action: str, body: Any) -> tuple[int, dict[str, Any]]:
    """Decide and, when accepted, record (and for a rescind: stop and undo) one action.

    Returns ``(HTTP status, JSON body)``; raises HTTPException for 403/404. Shared by REST and the page.
    """
    ensure_table(session.get_bind())  # before the request's transaction touches anything
    run = _case_or_404(session, case_id, user, "PUT", lock=True)
    actions = actions_for_case(session.connection(), run.case_id)
    controls, progress = controls_of(session, run, actions)
    by = str(user.get_name())
    decision = decide(
        action,
        body,
        controls,
        progress,
        today=dt.datetime.now(SHANGHAI).date(),
        acting_user=by,
        form=run.conf,
        validate=correction_validator(run, run.triggered_by),
    )
    if isinstance(decision, Invalid):
        return 422, {"detail": {"reason": f"{decision.field}: {decision.message}", "field": decision.field}}
    if isinstance(decision, Refused):
        return 409, {
            "detail": {"reason": decision.reason, "since": decision.since, "can_still": decision.can_still}
        }
    assert isinstance(decision, Accepted)
    rescind_dag = None
    if action == RESCIND:
        rescind_dag = _rescind_dag(session)
        if rescind_dag is None:
            return 409, {
                "detail": {
                    "reason": f"this deployment has no DAG {RESCIND_DAG_ID}, which undoes a rescinded case: "
                    "deploy it, then rescind again (nothing was recorded)",
                    "since": None,
                    "can_still": "hold the case to stop irreversible steps meanwhile",
                }
            }
    recorded = record_action(
        session.connection(),
        case_id=run.case_id,
        dag_id=run.dag_id,
        run_id=run.run_id,
        action=action,
        by_user=by,
        reason=decision.reason,
        fields=decision.fields,
    )
    answer: dict[str, Any] = {"accepted": recorded.to_json()}
    # Whatever the action changed (a cleared wait, skipped steps, a released hold), the scheduler looks at
    # the case in its next loop, not when its rotation through thousands of waiting cases comes back to it.
    examine_run_soon(session, run.dag_id, run.run_id)
    if action == RESCHEDULE:
        answer["woken"] = wake_last_working_day_wait(session, run)
    if action == RESCIND:
        answer["skipped"] = skip_unfinished(session, run)
        answer["rescind_run_id"] = trigger_rescind(
            session, rescind_dag, run, recorded.id, decision.reason or "", user
        )
    controls, _ = controls_of(session, run, [*actions, recorded])
    answer["case"] = controls.to_json()
    return 202, answer


def _action_route(action: str) -> Any:
    def act(
        case_id: str,
        request: Request,
        session: SessionDep,
        user: GetUserDep,
        body: Annotated[Any, Body()] = None,
    ) -> JSONResponse:
        check_cookie_request(request)
        status, answer = perform(session, user, case_id, action, {} if body is None else body)
        return JSONResponse(answer, status_code=status)

    act.__name__ = f"{action}_case"
    act.__doc__ = f"{action.capitalize()} a case (202 accepted, 409 not now, 422 bad body, 404, 403, 401)."
    return act


for _action in ACTIONS:
    router.add_api_route(
        f"/api/cases/{{case_id}}/{_action}", _action_route(_action), methods=["POST"], status_code=202
    )


def progress_summary(progress: CaseProgress) -> dict[str, str | None]:
    """Each step's state (for tests and the CLI's ``show``)."""
    return {task_id: step.state for task_id, step in sorted(progress.steps.items())}


# ---------------------------------------------------------------------- the page's buttons


def _page_html(session: Any, user: Any, request: Request, run: CaseRun, answer: Any = None) -> str:
    from offboarding.cases.lifecycle import available_actions
    from offboarding.cases_page.actions_csrf import COOKIE, form_token
    from offboarding.cases_page.actions_render import render_case_actions

    controls, progress = controls_of(session, run)
    available = available_actions(controls, progress, today=dt.datetime.now(SHANGHAI).date())
    cookie = request.cookies.get(COOKIE)
    tokens = (
        {a: form_token(cookie, run.case_id, a) for a in ACTIONS}
        if cookie and _may(user, run.dag_id, "PUT")
        else None
    )
    return render_case_actions(controls, available, tokens, answer=answer)


@router.get("/cases/{case_id}/actions", response_class=HTMLResponse)
def case_actions_page(case_id: str, request: Request, session: SessionDep, user: GetUserDep) -> HTMLResponse:
    """The case's actions page: state, hold, history and a confirmation form per action that applies."""
    ensure_table(session.get_bind())
    run = _case_or_404(session, case_id, user, "GET")
    return HTMLResponse(_page_html(session, user, request, run))


@router.post("/cases/{case_id}/actions/{action}", response_class=HTMLResponse)
async def case_action_form(
    case_id: str, action: str, request: Request, session: SessionDep, user: GetUserDep
) -> HTMLResponse:
    """A confirmation form's POST: same origin and the form's token, then the REST action; the answer is
    shown at the top of the case's actions page."""
    from urllib.parse import parse_qs

    from fastapi.concurrency import run_in_threadpool

    from offboarding.cases_page.actions_csrf import check_form_request
    from offboarding.cases_page.actions_render import form_body

    if action not in ACTIONS:
        raise HTTPException(404, {"reason": f"no action {action!r}; one of {', '.join(ACTIONS)}"})
    form = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    check_form_request(request, (form.get("form_token") or [None])[0], case_id, action)
    try:
        body = form_body(action, form)
    except ValueError as err:
        status, answer = 422, {"detail": {"reason": str(err)}}
    else:
        status, answer = await run_in_threadpool(perform, session, user, case_id, action, body)

    def page() -> str:
        ensure_table(session.get_bind())
        run = _case_or_404(session, case_id, user, "GET")
        return _page_html(session, user, request, run, answer=(status, answer, action))

    return HTMLResponse(await run_in_threadpool(page), status_code=status)
