"""A small client for Airflow's REST API v2: trigger cases, watch runs, answer human steps.

Used by the bulk CLI, the rehearsal responder and the end-to-end tests. It talks to the api-server
over HTTP only (no Airflow import), so it works from any machine that can reach the server.

Authentication (SimpleAuthManager or any auth manager that serves ``POST /auth/token``): give a
``username``/``password`` and the client fetches a JWT on first use and once more when the server
answers 401 (expired token) or 403 "Invalid JWT token"; or give a ready ``token``. Passwords and tokens never appear in reprs,
logs or exception messages.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import requests

#: How many times a read (GET) is sent when the api-server does not answer.
READ_ATTEMPTS = 3
log = logging.getLogger(__name__)

#: Run states after which a DAG run never changes again on its own.
FINAL_RUN_STATES = frozenset({"success", "failed"})

_PAGE_LIMIT = 100
_SECRET_QUERY = re.compile(r"(?i)\b(access_token|corpsecret|key|token|password)=[^&#\s]*")


def redact_url(url: str) -> str:
    """The URL with secret query values (``access_token=``, ``corpsecret=``, ``key=``...) replaced by ``***``."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", url)


class AirflowApiError(Exception):
    """The api-server refused a request or could not be reached; ``status_code`` is None when unreachable."""

    def __init__(self, message: str, *, status_code: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail


class AirflowAuthError(AirflowApiError):
    """The credentials were rejected (401) or the user may not do this (403)."""


class NotFound(AirflowApiError):
    """The DAG, run, task instance or human step does not exist (404)."""


class RunAlreadyExists(AirflowApiError):
    """A run with this run id (= case id) was already triggered (409): the case is not started twice."""


class InvalidConf(AirflowApiError):
    """Airflow refused the run's conf (400), usually a trigger-form field that fails its schema."""


class CaseActionRefused(AirflowApiError):
    """The case action does not apply now (409): ``reason``, ``since`` and ``can_still`` in ``detail``."""


class CaseActionInvalid(AirflowApiError):
    """The case action's body is wrong (422); ``detail["field"]`` names the field."""


class HumanStepRefused(AirflowApiError):
    """Airflow refused an answer to a human step (bad option, not a respondent, already answered)."""


class DagRunWaitTimeout(AirflowApiError, TimeoutError):
    """A DAG run did not reach the awaited state within the timeout."""


class DagRunEndedElsewhere(AirflowApiError):
    """A DAG run finished in a state other than the awaited ones (e.g. ``failed`` while waiting for success)."""


def _segment(value: str) -> str:
    """One URL path segment, with ``/``, ``@``, ``+`` and friends percent-encoded."""
    return quote(str(value), safe="")


def _detail_text(detail: Any) -> str:
    """Airflow's error detail as one readable line (FastAPI gives a string or a list of field errors)."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, Mapping):
                where = ".".join(str(p) for p in item.get("loc", ()) if p != "body")
                parts.append(f"{where}: {item.get('msg', item)}" if where else str(item.get("msg", item)))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    if isinstance(detail, Mapping) and "reason" in detail:
        return str(detail["reason"])
    return str(detail)


def _token_rejected(response: requests.Response) -> bool:
    """401 (expired/missing token) or 403 "Invalid JWT token" (e.g. the server's JWT secret changed)."""
    if response.status_code == 401:
        return True
    return response.status_code == 403 and "Invalid JWT token" in response.text


class AirflowApi:
    """Client for one Airflow api-server (``api_url`` is its root, e.g. ``http://127.0.0.1:8080``)."""

    def __init__(
        self,
        api_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not api_url or not api_url.startswith(("http://", "https://")):
            raise ValueError(f"api_url: must be an http(s) URL of the Airflow api-server, got {api_url!r}")
        if "@" in api_url.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("api_url: put credentials in username/password (or token), not in the URL")
        if (username is None) != (password is None):
            raise ValueError("username/password: give both or neither")
        if token is None and username is None:
            raise ValueError("credentials: give username and password, or a token")
        if timeout <= 0:
            raise ValueError(f"timeout: must be a positive number of seconds, got {timeout!r}")
        root = api_url.rstrip("/")
        root = root.removesuffix("/api/v2")
        self.api_url = root
        self.username = username
        self.timeout = timeout
        self._password = password
        self._token = token
        self._session = requests.Session()
        #: HTTP requests sent so far (logins and retries included): what a round of the watchdog costs.
        self.requests_sent = 0

    def __repr__(self) -> str:
        who = self.username if self.username is not None else "<token>"
        return f"AirflowApi({self.api_url!r}, user={who!r})"

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()

    def __enter__(self) -> AirflowApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ auth and transport

    def login(self) -> None:
        """Fetch a fresh JWT with the username and password (``POST /auth/token``, 201)."""
        if self.username is None or self._password is None:
            raise AirflowAuthError(
                "token rejected and no username/password to get a new one", status_code=401
            )
        url = f"{self.api_url}/auth/token"
        self.requests_sent += 1
        try:
            response = self._session.post(
                url, json={"username": self.username, "password": self._password}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise AirflowApiError(
                f"cannot reach the Airflow api-server at {self.api_url}: {type(exc).__name__}"
            ) from None
        if response.status_code not in (200, 201):
            raise AirflowAuthError(
                f"Airflow refused the login of user {self.username!r} (HTTP {response.status_code}): "
                "check the username and password",
                status_code=response.status_code,
            )
        token = response.json().get("access_token")
        if not token:
            raise AirflowAuthError("Airflow answered the login without an access_token", status_code=201)
        self._token = token

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        expected: Iterable[int] = (200,),
    ) -> requests.Response:
        if self._token is None:
            self.login()
        response = self._send(method, path, json=json, params=params)
        if self._password is not None and _token_rejected(response):
            log.info(
                "Airflow token rejected (HTTP %s); logging in again as %s",
                response.status_code,
                self.username,
            )
            self.login()
            response = self._send(method, path, json=json, params=params)
        if response.status_code in tuple(expected):
            return response
        raise self._error(method, path, response)

    def _send(
        self, method: str, path: str, *, json: Any, params: Mapping[str, Any] | None
    ) -> requests.Response:
        url = f"{self.api_url}{path}"
        # A read is repeated when the api-server is briefly unreachable or slow (a busy metadata
        # database); a write is not, so a trigger that did arrive is never sent twice.
        attempts = READ_ATTEMPTS if method == "GET" else 1
        for attempt in range(1, attempts + 1):
            self.requests_sent += 1
            try:
                return self._session.request(
                    method,
                    url,
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
                    timeout=self.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                failure: requests.RequestException = exc
                if attempt < attempts:
                    log.info("GET %s: %s, trying again", redact_url(url), type(exc).__name__)
                    time.sleep(attempt)
            except requests.RequestException as exc:
                failure = exc
                break
        raise AirflowApiError(
            f"{method} {redact_url(url)}: cannot reach the Airflow api-server ({type(failure).__name__})"
        ) from None

    def _error(self, method: str, path: str, response: requests.Response) -> AirflowApiError:
        try:
            detail: Any = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text[:500]
        text = _detail_text(detail)
        where = f"{method} {redact_url(path)}"
        code = response.status_code
        if code in (401, 403):
            return AirflowAuthError(
                f"{where}: not allowed (HTTP {code}): {text}", status_code=code, detail=detail
            )
        if code == 404:
            return NotFound(f"{where}: not found: {text}", status_code=code, detail=detail)
        return AirflowApiError(f"{where}: HTTP {code}: {text}", status_code=code, detail=detail)

    def _paged(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            page_params = {**(params or {}), "limit": _PAGE_LIMIT, "offset": offset}
            body = self._request("GET", path, params=page_params).json()
            page = list(body.get(key, []))
            items.extend(page)
            offset += len(page)
            if not page or offset >= int(body.get("total_entries", 0)):
                return items

    # ------------------------------------------------------------------ server and DAGs

    def health(self) -> dict[str, Any]:
        """The components' health (``GET /api/v2/monitor/health``; no login needed)."""
        try:
            response = self._session.get(f"{self.api_url}/api/v2/monitor/health", timeout=self.timeout)
        except requests.RequestException as exc:
            raise AirflowApiError(
                f"cannot reach the Airflow api-server at {self.api_url}: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise AirflowApiError(
                f"health check answered HTTP {response.status_code}", status_code=response.status_code
            )
        return response.json()

    def get_dag(self, dag_id: str) -> dict[str, Any]:
        """One DAG's details (paused or not, file, tags)."""
        return self._request("GET", f"/api/v2/dags/{_segment(dag_id)}").json()

    def list_dags(self) -> list[dict[str, Any]]:
        """Every DAG the api-server knows (paused and active)."""
        return self._paged("/api/v2/dags", "dags")

    def list_import_errors(self) -> list[dict[str, Any]]:
        """DAG files that failed to parse, with Airflow's traceback (``stack_trace``)."""
        return self._paged("/api/v2/importErrors", "import_errors")

    def unpause(self, dag_id: str) -> dict[str, Any]:
        """Unpause a DAG so its queued runs start (``PATCH /api/v2/dags/{dag_id}``)."""
        return self._set_paused(dag_id, False)

    def pause(self, dag_id: str) -> dict[str, Any]:
        """Pause a DAG: new runs stay queued, running tasks finish."""
        return self._set_paused(dag_id, True)

    def _set_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        return self._request(
            "PATCH",
            f"/api/v2/dags/{_segment(dag_id)}",
            json={"is_paused": paused},
            params={"update_mask": "is_paused"},
        ).json()

    # ------------------------------------------------------------------ DAG runs

    def trigger_dag_run(
        self, dag_id: str, run_id: str, conf: Mapping[str, Any], note: str | None = None
    ) -> dict[str, Any]:
        """Start one run (one case) with ``run_id`` as its idempotency key.

        Raises ``RunAlreadyExists`` when a run with this id exists (409) and ``InvalidConf`` with
        Airflow's validation message when the conf does not pass the DAG's params (400).
        """
        if not run_id:
            raise ValueError("run_id: must not be empty (use the case id)")
        body: dict[str, Any] = {"dag_run_id": run_id, "logical_date": None, "conf": dict(conf)}
        if note is not None:
            body["note"] = note
        path = f"/api/v2/dags/{_segment(dag_id)}/dagRuns"
        try:
            return self._request("POST", path, json=body).json()
        except AirflowApiError as exc:
            if exc.status_code == 409:
                raise RunAlreadyExists(
                    f"run {run_id!r} of DAG {dag_id!r} was already triggered",
                    status_code=409,
                    detail=exc.detail,
                ) from None
            if exc.status_code == 400:
                raise InvalidConf(
                    f"Airflow refused the conf of run {run_id!r} of DAG {dag_id!r}: {_detail_text(exc.detail)}",
                    status_code=400,
                    detail=exc.detail,
                ) from None
            raise

    def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """One run's details (``state``, ``conf``, ``note``, dates)."""
        return self._request("GET", f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}").json()

    def list_dag_runs(self, dag_id: str, *, states: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Every run of one DAG (``~`` for all DAGs), or only those in ``states``."""
        params = {"state": list(states)} if states else None
        return self._paged(f"/api/v2/dags/{_segment(dag_id)}/dagRuns", "dag_runs", params)

    def wait_for_dag_run(
        self,
        dag_id: str,
        run_id: str,
        states: Iterable[str] = ("success",),
        timeout: float = 120.0,
        *,
        poll_interval: float = 1.0,
    ) -> dict[str, Any]:
        """Poll a run until its state is one of ``states``; return the run.

        Raises ``DagRunEndedElsewhere`` as soon as the run is final in another state (naming the
        failed tasks) and ``DagRunWaitTimeout`` after ``timeout`` seconds.
        """
        wanted = {str(s) for s in ([states] if isinstance(states, str) else states)}
        if not wanted:
            raise ValueError("states: name at least one run state to wait for")
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_dag_run(dag_id, run_id)
            state = run.get("state")
            if state in wanted:
                return run
            if state in FINAL_RUN_STATES:
                failed = [
                    ti["task_id"]
                    for ti in self.list_task_instances(dag_id, run_id)
                    if ti.get("state") in ("failed", "upstream_failed")
                ]
                raise DagRunEndedElsewhere(
                    f"run {run_id!r} of DAG {dag_id!r} ended {state!r}, not {sorted(wanted)}"
                    + (f"; failed tasks: {', '.join(failed)}" if failed else ""),
                    detail=run,
                )
            if time.monotonic() >= deadline:
                raise DagRunWaitTimeout(
                    f"run {run_id!r} of DAG {dag_id!r} still {state!r} after {timeout:g}s "
                    f"(waiting for {sorted(wanted)})",
                    detail=run,
                )
            time.sleep(poll_interval)

    def list_task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of one run, with ``task_id``, ``map_index`` and ``state``."""
        return self._paged(
            f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}/taskInstances", "task_instances"
        )

    def get_xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        """One task's XCom value, deserialized (e.g. the legal deadlines a planning task computed)."""
        path = (
            f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}/taskInstances/"
            f"{_segment(task_id)}/xcomEntries/{_segment(key)}"
        )
        response = self._request("GET", path, params={"map_index": map_index, "deserialize": "true"})
        return response.json().get("value")

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        """A connection stored in Airflow's database (``conn_type``, ``host``, ``login``, ``port``, ``schema``;
        passwords are masked). NotFound for one that only exists in ``AIRFLOW_CONN_*`` or a secrets backend."""
        return self._request("GET", f"/api/v2/connections/{_segment(conn_id)}").json()

    # ------------------------------------------------------------------ human steps (HITL)

    def pending_human_steps(self, dag_id: str = "~", run_id: str = "~") -> list[dict[str, Any]]:
        """Human steps still waiting for an answer (``hitlDetails?response_received=false``).

        Each item has ``subject``, ``options``, ``params``, ``assigned_users`` and the
        ``task_instance`` (``dag_id``, ``dag_run_id``, ``task_id``, ``map_index``, ``state``).
        """
        return self._paged(
            f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}/hitlDetails",
            "hitl_details",
            {"response_received": "false"},
        )

    def get_human_step(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """Airflow's record of one human step (``GET .../hitlDetails``): ``assigned_users``,
        ``response_received``, ``responded_by_user``, ``responded_at``, ``chosen_options`` and the
        ``task_instance`` (``id``, ``dag_run_id``, ``try_number``...). ``NotFound`` when there is none."""
        path = (
            f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}/taskInstances/"
            f"{_segment(task_id)}/{int(map_index)}/hitlDetails"
        )
        return self._request("GET", path).json()

    def answer_human_step(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        chosen_options: Iterable[str],
        params_input: Mapping[str, Any] | None = None,
        map_index: int = -1,
    ) -> dict[str, Any]:
        """Answer one human step as the logged-in user (``PATCH .../hitlDetails``).

        Raises ``HumanStepRefused`` with Airflow's reason when the option is not offered (400), the
        user is not a respondent (403) or the step was already answered (409).
        """
        options = list(chosen_options)
        if not options:
            raise ValueError("chosen_options: choose at least one option")
        path = (
            f"/api/v2/dags/{_segment(dag_id)}/dagRuns/{_segment(run_id)}/taskInstances/"
            f"{_segment(task_id)}/{int(map_index)}/hitlDetails"
        )
        try:
            return self._request(
                "PATCH", path, json={"chosen_options": options, "params_input": dict(params_input or {})}
            ).json()
        except AirflowApiError as exc:
            if exc.status_code in (400, 403, 409, 422):
                raise HumanStepRefused(str(exc), status_code=exc.status_code, detail=exc.detail) from None
            raise

    # ------------------------------------------------------------------ case lifecycle (the plugin's API)

    def list_cases(self, **filters: Any) -> dict[str, Any]:
        """A page of the cases page as JSON (``GET /offboarding/api/cases``; filters: kind, state,
        stalled, dag_id, run_id, limit, offset)."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._request("GET", "/offboarding/api/cases", params=params).json()

    def get_case(self, case_id: str) -> dict[str, Any]:
        """One case's controls: ``state``, ``phase``, ``hold``, ``rescind``, ``last_working_day``,
        ``corrections``, ``history`` (``GET /offboarding/api/cases/{case_id}``)."""
        return self._request("GET", f"/offboarding/api/cases/{_segment(case_id)}").json()

    def case_series(self, case_id: str, *, exclude_run_id: str | None = None) -> dict[str, Any]:
        """Every case of the member of ``case_id``, the open ones and the next case id."""
        params = {"exclude_run_id": exclude_run_id} if exclude_run_id else None
        return self._request(
            "GET", f"/offboarding/api/cases/{_segment(case_id)}/series", params=params
        ).json()

    def case_action(self, case_id: str, action: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Rescind, reschedule, hold, release or correct a case (``POST .../{case_id}/{action}``, 202).

        Raises ``CaseActionRefused`` (409: not applicable now, with why and since when),
        ``CaseActionInvalid`` (422: names the field), ``NotFound`` (404) and ``AirflowAuthError`` (401/403).
        """
        path = f"/offboarding/api/cases/{_segment(case_id)}/{_segment(action)}"
        try:
            return self._request("POST", path, json=dict(body or {}), expected=(202,)).json()
        except AirflowApiError as exc:
            if exc.status_code == 409:
                raise CaseActionRefused(
                    f"{action} {case_id}: refused: {_detail_text(exc.detail)}",
                    status_code=409,
                    detail=exc.detail,
                ) from None
            if exc.status_code == 422:
                raise CaseActionInvalid(
                    f"{action} {case_id}: bad request: {_detail_text(exc.detail)}",
                    status_code=422,
                    detail=exc.detail,
                ) from None
            raise
