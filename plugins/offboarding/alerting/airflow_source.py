"""Read the steps to judge from Airflow's REST API, with the credentials of a Connection.

The connection ``offboarding_airflow_api`` (any conn type, e.g. ``http``) holds the api-server's URL
(host, e.g. ``http://airflow-apiserver:8080``) and a user allowed to read DAG runs, task instances,
XComs, logs and human-step details (login/password; the SimpleAuthManager role ``viewer`` is
enough). Its extra ``ui_url`` sets the address people open in alert links when it differs from the
host (default: the host). Each alert also links the case on the cases page, under Airflow's own
``[api] base_url`` (the address people use; the connection's ``ui_url`` or host when it is not set).

Which DAGs: those tagged ``offboarding`` (the case DAGs), or the comma-separated ids in
``OFFBOARDING_WATCHDOG_DAG_IDS``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from offboarding.airflow_api import AirflowApi, AirflowApiError, NotFound
from offboarding.alerting.expected import human_step_expected_by, legal_wait_expected_by, task_expected_by
from offboarding.alerting.steps import (
    FAILED_STATE,
    HUMAN_STEP,
    LEGAL_WAIT,
    TASK,
    WATCHED_STATES,
    CaseInfo,
    WatchedStep,
)
from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.links import case_page_url

if TYPE_CHECKING:
    from offboarding.alerting.decide import Alert

API_CONN_ID = "offboarding_airflow_api"
DAG_IDS_ENV = "OFFBOARDING_WATCHDOG_DAG_IDS"
CASE_DAG_TAG = "offboarding"
LEGAL_WAIT_OPERATORS = frozenset(
    {"LegalDeadlineSensor", "WaitForLastWorkingDaySensor", "WaitForLegalDeadlineOperator"}
)
_PAGE = 100
_ERROR_LINES = 6


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def task_link(
    ui_url: str, dag_id: str, run_id: str, task_id: str, map_index: int = -1, *, human: bool = False
) -> str:
    """The task in the Airflow UI; for a pending human step, its *Required Actions* tab."""
    base = f"{ui_url.rstrip('/')}/dags/{_segment(dag_id)}/runs/{_segment(run_id)}/tasks/{_segment(task_id)}"
    if human:
        return f"{base}/required_actions?map_index={map_index}"
    return base if map_index < 0 else f"{base}/mapped/{map_index}"


def airflow_base_url() -> str | None:
    """Airflow's ``[api] base_url`` (the address people open), or None when the deployment left it unset."""
    from airflow.sdk.configuration import conf

    value = (conf.get("api", "base_url", fallback="") or "").strip()
    return value or None


def _instant(text: Any) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class WatchdogApi(AirflowApi):
    """:class:`AirflowApi` plus the listings the watchdog needs."""

    def __init__(
        self, api_url: str, *, ui_url: str | None = None, cases_base_url: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(api_url, **kwargs)
        self.ui_url = (ui_url or self.api_url).rstrip("/")
        self.cases_base_url = (cases_base_url or self.ui_url).rstrip("/")

    @classmethod
    def from_connection(cls, conn_id: str = API_CONN_ID) -> WatchdogApi:
        """Built from an Airflow Connection; ValueError naming the connection when it is incomplete."""
        from airflow.sdk import BaseHook

        try:
            conn = BaseHook.get_connection(conn_id)
        except Exception as exc:
            raise ValueError(
                f"connection {conn_id} is missing: create it with host = the Airflow API URL "
                f"(e.g. http://airflow-apiserver:8080) and login/password of a user who can read DAG runs "
                f"({type(exc).__name__})"
            ) from None
        host = (conn.host or "").strip()
        if not host:
            raise ValueError(f"connection {conn_id}: host is empty; set it to the Airflow API URL")
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "http"
            host = f"{scheme}://{host}"
        if conn.port:
            host = f"{host.rstrip('/')}:{conn.port}"
        if not conn.login or not conn.password:
            raise ValueError(f"connection {conn_id}: login and password are required")
        extra = conn.extra_dejson or {}
        return cls(
            host,
            username=conn.login,
            password=conn.password,
            ui_url=extra.get("ui_url"),
            cases_base_url=airflow_base_url(),
        )

    def case_dag_ids(self) -> list[str]:
        """The DAGs whose runs are cases: ``$OFFBOARDING_WATCHDOG_DAG_IDS`` or those tagged ``offboarding``."""
        configured = [d.strip() for d in os.environ.get(DAG_IDS_ENV, "").split(",") if d.strip()]
        if configured:
            return configured
        return sorted({d["dag_id"] for d in self._paged("/api/v2/dags", "dags", {"tags": CASE_DAG_TAG})})

    def notify_correction(self, case_id: str, run_id: str) -> tuple[bool, Any]:
        """``(True, notify)`` when the case has an accepted ``correct`` of ``notify``, else ``(False, None)``.

        Read from the case endpoint (``GET /offboarding/api/cases/{case_id}``); when that cannot answer
        for this run (plugin not served, not a case DAG, another run of the id), there is no correction
        and the form's recipients stand: an alert to them beats no alert.
        """
        try:
            controls = self.get_case(case_id)
        except (AirflowApiError, ValueError):
            return False, None
        if not isinstance(controls, Mapping) or controls.get("run_id") != run_id:
            return False, None
        corrections = controls.get("corrections")
        if isinstance(corrections, Mapping) and "notify" in corrections:
            return True, corrections["notify"]
        return False, None

    def open_case_runs(self, dag_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """The queued and running runs of ``dag_ids`` by ``(dag_id, run_id)``, in one paged listing."""
        runs: dict[tuple[str, str], dict[str, Any]] = {}
        if not dag_ids:
            return runs
        offset = 0
        while True:
            body = {
                "dag_ids": dag_ids,
                "states": ["queued", "running"],
                "page_offset": offset,
                "page_limit": _PAGE,
            }
            page = self._request("POST", "/api/v2/dags/~/dagRuns/list", json=body).json()
            items = list(page.get("dag_runs", []))
            runs.update(((run["dag_id"], run["dag_run_id"]), run) for run in items)
            offset += len(items)
            if not items or offset >= int(page.get("total_entries") or 0):
                return runs

    def watched_task_instances(self, dag_ids: list[str]) -> list[dict[str, Any]]:
        """Task instances of ``dag_ids`` that are waiting or failed (one paged batch listing)."""
        if not dag_ids:
            return []
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = {
                "dag_ids": dag_ids,
                "state": list(WATCHED_STATES),
                "page_offset": offset,
                "page_limit": _PAGE,
            }
            page = self._request("POST", "/api/v2/dags/~/dagRuns/~/taskInstances/list", json=body).json()
            items = list(page.get("task_instances", []))
            found.extend(items)
            offset += len(items)
            if not items or offset >= int(page.get("total_entries") or 0):
                return found

    def xcom_value(self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1) -> Any:
        """One XCom value (None when there is none)."""
        path = (
            f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}/taskInstances/"
            f"{_segment(task_id)}/xcomEntries/{_segment(key)}"
        )
        try:
            return self._request("GET", path, params={"map_index": map_index}).json().get("value")
        except NotFound:
            return None

    def error_lines(
        self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1
    ) -> list[str]:
        """The last error lines of one try's log (exception type and message when present)."""
        path = (
            f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}/taskInstances/"
            f"{_segment(task_id)}/logs/{int(try_number)}"
        )
        try:
            body = self._request("GET", path, params={"map_index": map_index, "full_content": "true"}).json()
        except AirflowApiError:
            return []
        return error_lines_from_log(body.get("content"))


def error_lines_from_log(content: Any) -> list[str]:
    """Error lines of a structured task log (``content`` of the logs endpoint), the last few only."""
    if isinstance(content, str):
        lines = [line for line in content.splitlines() if "ERROR" in line or "Error" in line]
        return lines[-_ERROR_LINES:]
    found: list[str] = []
    for entry in content or []:
        if not isinstance(entry, Mapping):
            continue
        level = str(entry.get("level", "")).lower()
        details = entry.get("error_detail") or []
        if level not in ("error", "critical") and not details:
            continue
        text = str(entry.get("event", "")).strip()
        for detail in details if isinstance(details, list) else []:
            if isinstance(detail, Mapping) and detail.get("exc_type"):
                text = f"{detail.get('exc_type')}: {detail.get('exc_value', '')}".strip()
        if text and text not in found:
            found.append(text)
    return found[-_ERROR_LINES:]


def _owners(detail: Mapping[str, Any]) -> tuple[str, ...]:
    users = detail.get("assigned_users") or []
    return tuple(str(u.get("name") or u.get("id")) for u in users if isinstance(u, Mapping))


def with_corrected_recipients(alerts: list[Alert], api: WatchdogApi) -> list[Alert]:
    """``alerts`` with each case's corrected ``notify`` (one read per alerted case, none for the others)."""
    corrected: dict[tuple[str, str], CaseInfo] = {}
    out = []
    for alert in alerts:
        step = alert.step
        key = (step.case.case_id, step.run_id)
        if key not in corrected:
            found, notify = api.notify_correction(*key)
            corrected[key] = step.case.notifying(notify) if found else step.case
        out.append(replace(alert, step=replace(step, case=corrected[key])))
    return out


def collect_steps(
    api: WatchdogApi,
    timing: AlertTiming,
    *,
    known_failed: Iterable[str] = (),
) -> list[WatchedStep]:
    """Every waiting or failed step of the case DAGs, with its expected-by instant and owner.

    A human step already answered (no longer among the pending human steps) but not yet resumed is
    left out: nobody has to act, so no reminder follows the answer. ``known_failed`` are keys already
    alerted as failed: their logs are not fetched again.
    """
    skip_logs = set(known_failed)
    dag_ids = api.case_dag_ids()
    instances = api.watched_task_instances(dag_ids)
    runs = api.open_case_runs(dag_ids) if instances else {}
    cases: dict[tuple[str, str], CaseInfo] = {}
    for ti in instances:
        run_key = (ti["dag_id"], ti["dag_run_id"])
        if run_key not in cases:
            run = runs.get(run_key) or api.get_dag_run(*run_key)  # a failed run is not listed as open
            cases[run_key] = CaseInfo.from_conf(run_key[0], run_key[1], run.get("conf"))
    owners: dict[tuple[str, str, str, int], tuple[str, ...]] = {}
    if any(ti.get("state") == "awaiting_input" for ti in instances):
        for detail in api.pending_human_steps():
            ti = detail.get("task_instance") or {}
            owners[
                (ti.get("dag_id"), ti.get("dag_run_id"), ti.get("task_id"), int(ti.get("map_index", -1)))
            ] = _owners(detail)
    steps = []
    for ti in instances:
        key = (ti["dag_id"], ti["dag_run_id"], ti["task_id"], int(ti.get("map_index", -1)))
        if ti.get("state") == "awaiting_input" and key not in owners:
            continue  # answered: the task waits for the triggerer to resume it, nobody has to act
        step = _step(api, timing, ti, cases[(ti["dag_id"], ti["dag_run_id"])], owners, skip_logs)
        steps.append(step)
    return steps


def _step(
    api: WatchdogApi,
    timing: AlertTiming,
    ti: Mapping[str, Any],
    case: CaseInfo,
    owners: Mapping[tuple[str, str, str, int], tuple[str, ...]],
    skip_logs: set[str],
) -> WatchedStep:
    dag_id, run_id, task_id = ti["dag_id"], ti["dag_run_id"], ti["task_id"]
    map_index = int(ti.get("map_index", -1))
    state = str(ti.get("state"))
    started = (
        _instant(ti.get("start_date")) or _instant(ti.get("queued_when")) or _instant(ti.get("run_after"))
    )
    rendered = ti.get("rendered_fields") or {}
    human = state == "awaiting_input"
    legal = ti.get("operator") in LEGAL_WAIT_OPERATORS or (state == "deferred" and "deadline" in rendered)
    step_id = task_id.rpartition(".")[2]
    base = WatchedStep(
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=map_index,
        try_number=int(ti.get("try_number") or 0),
        state=state,
        case=case,
        started_at=started,
        link=task_link(api.ui_url, dag_id, run_id, task_id, map_index, human=human),
        case_link=case_page_url(getattr(api, "cases_base_url", api.ui_url), dag_id, run_id),
    )
    if state == FAILED_STATE:
        error = None
        if base.key not in skip_logs:
            lines = api.error_lines(dag_id, run_id, task_id, base.try_number, map_index)
            note = (ti.get("note") or "").strip()
            error = "\n".join([*([note] if note else []), *lines]) or None
        return replace(
            base, kind=HUMAN_STEP if ti.get("operator", "").startswith("Human") else TASK, error=error
        )
    if human:
        # The due time rendered with the step; a step asked by an earlier version has it in XCom only.
        due = rendered.get("expected_by") or api.xcom_value(dag_id, run_id, task_id, "expected_by", map_index)
        expected = human_step_expected_by(due, started, case.time_scale)
        return replace(
            base,
            kind=HUMAN_STEP,
            expected_by=expected,
            owners=owners.get((dag_id, run_id, task_id, map_index), ()),
        )
    if legal:
        expected = legal_wait_expected_by(
            rendered.get("deadline"),
            anchor=rendered.get("anchor"),
            started_at=started,
            time_scale=case.time_scale,
            grace=timing.legal_wait_grace,
        )
        return replace(base, kind=LEGAL_WAIT, expected_by=expected)
    return replace(base, kind=TASK, expected_by=task_expected_by(step_id, started, timing, case.time_scale))
