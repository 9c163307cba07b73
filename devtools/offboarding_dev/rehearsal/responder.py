"""The rehearsal responder: plays the people of a rehearsal by answering human steps over Airflow's REST API.

It reads the pending human steps (``hitlDetails``), decides each answer with the ``AnswerPolicy``
(approve, fill in the statutory forms, follow the sandbox's simulated person and reviewer for the
account deregistration) and answers as one of the step's **assigned** users, logging in with that
user's password. The DAG is never bypassed: every answer goes through the same endpoint the UI uses,
with the same checks (assigned users, options).

Trap 11 of the Airflow notes: an answer that arrives before the scheduler has processed the executor's
"success" event of the process that parked the task fails the task. The responder therefore answers a
step only when both

* it has itself seen the task instance in ``awaiting_input`` for at least ``settle_seconds`` (default
  3 s; its first sighting is never earlier than the real transition), and
* the scheduler has heartbeated at least ``settle_seconds`` after that first sighting. The scheduler
  heartbeats at the end of a loop that has already processed the executor's events, so the parking
  process's event is behind us even when a loaded machine delays the scheduler by seconds (seen: a
  4.4 s wait was not enough while several Airflows shared two cores). Clocks are assumed in sync.

**The person stays.** An override whose option is :data:`PERSON_STAYS` (``{"offboard-lisi":
{"approve_deletion": "rescind: the person stays"}}``) makes the responder, when that step of that run is
ready to be answered, rescind the case instead (``POST /offboarding/api/cases/{case_id}/rescind`` through
the REST client, as ``rescind_as``, default the reader): the chosen step is the point at which the person
withdraws. The plugin then skips the pending steps and starts ``offboarding_rescind``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from offboarding.airflow_api import (
    AirflowApi,
    AirflowApiError,
    AirflowAuthError,
    HumanStepRefused,
    NotFound,
)
from offboarding_dev.rehearsal.answers import Answer, AnswerPolicy, CannotAnswer, HumanStep, Wait
from offboarding_dev.rehearsal.guards import (
    DEFAULT_CONN_ID,
    check_api_url,
    rehearsal_time_problem,
    sandbox_connection_problem,
)
from offboarding_dev.sandbox.config import SANDBOX_IDENTITY
from offboarding_dev.sandbox.control import SandboxControl, SandboxControlError

log = logging.getLogger(__name__)

DEFAULT_SETTLE_SECONDS = 3.0
#: The override option that plays "the person stays": rescind the case at that step.
PERSON_STAYS = "rescind: the person stays"
AWAITING_INPUT = "awaiting_input"

#: Report statuses that need a person's attention (logged as warnings).
PROBLEMS = frozenset({"cannot_answer", "no_user", "refused", "login_failed", "error", "not_rehearsal"})


@dataclass(frozen=True)
class StepReport:
    """What the responder did (or could not do) about one pending human step in one pass."""

    dag_id: str
    run_id: str
    task_id: str
    status: str  # answered | already_answered | settling | not_parked | waiting | rescinded | <PROBLEMS>
    # not_rehearsal: the run is not in rehearsal time or its WeCom connection is not the sandbox
    detail: str
    user: str | None = None
    chosen_options: tuple[str, ...] = ()
    awaited_seconds: float | None = None
    map_index: int = -1

    @property
    def label(self) -> str:
        return f"{self.run_id} {self.task_id}"


def _sandbox_map(sandboxes: str | Mapping[str, str] | None) -> dict[str, str]:
    if sandboxes is None:
        return {}
    if isinstance(sandboxes, str):
        sandboxes = {"*": sandboxes}
    mapped: dict[str, str] = {}
    for conn_id, url in sandboxes.items():
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"sandboxes[{conn_id}]: must be the sandbox's http(s) URL, got {url!r}")
        mapped[str(conn_id)] = url.rstrip("/")
    return mapped


class Responder:
    """Answers the human steps of a rehearsal as the people assigned to them.

    ``users`` maps Airflow user names to passwords; ``reader`` (default ``admin`` when known, else the
    first user) lists the pending steps. ``sandboxes`` is the sandbox URL (for every WeCom connection)
    or ``{conn_id: url}`` (``"*"``: every other connection), read for the account deregistration.
    ``overrides`` are per run and task (see ``offboarding_dev.rehearsal.answers``). ``dag_ids`` and
    ``run_ids`` limit which DAGs and runs are answered (default: all). ``hold`` may keep a parked step
    unanswered: it returns why the step still waits, or None to answer it (the demo lets one step stall
    until the watchdog reminded once: ``offboarding_dev.rehearsal.stall``).

    Only rehearsals are answered (``offboarding_dev.rehearsal.guards``): a run whose conf ``time_scale``
    is not > 1, or whose WeCom connection is not verifiably the sandbox, gets no answer (status
    ``not_rehearsal``); ``api_url`` must be on loopback unless ``allow_remote_airflow``.
    """

    def __init__(
        self,
        api_url: str,
        users: Mapping[str, str],
        *,
        sandboxes: str | Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        policy: AnswerPolicy | None = None,
        settle_seconds: float = DEFAULT_SETTLE_SECONDS,
        reader: str | None = None,
        dag_ids: Iterable[str] | None = None,
        run_ids: Iterable[str] | None = None,
        timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        allow_remote_airflow: bool = False,
        hold: Callable[[HumanStep], str | None] | None = None,
        rescind_as: str | None = None,
    ) -> None:
        if not users:
            raise ValueError("users: give at least one Airflow user name and password")
        for name, password in users.items():
            if not name or not isinstance(password, str) or not password:
                raise ValueError(f"users: user {name!r} needs a non-empty password")
        if (
            isinstance(settle_seconds, bool)
            or not isinstance(settle_seconds, int | float)
            or settle_seconds < 0
        ):
            raise ValueError(f"settle_seconds: must be a number of seconds >= 0, got {settle_seconds!r}")
        if policy is not None and overrides is not None:
            raise ValueError("overrides: give them to the AnswerPolicy, or pass no policy")
        reader = reader or ("admin" if "admin" in users else next(iter(users)))
        if reader not in users:
            raise ValueError(f"reader: {reader!r} is not one of the users {sorted(users)}")
        if rescind_as is not None and rescind_as not in users:
            raise ValueError(f"rescind_as: {rescind_as!r} is not one of the users {sorted(users)}")
        self.rescind_as = rescind_as or reader
        if not api_url or not api_url.startswith(("http://", "https://")):
            raise ValueError(f"api_url: must be the http(s) URL of the Airflow api-server, got {api_url!r}")
        check_api_url(api_url, allow_remote_airflow=allow_remote_airflow)
        self.api_url = api_url
        self.reader = reader
        self.settle_seconds = float(settle_seconds)
        self.policy = policy or AnswerPolicy(overrides)
        self.dag_ids = frozenset(dag_ids) if dag_ids is not None else None
        self.run_ids = frozenset(run_ids) if run_ids is not None else None
        self.timeout = timeout
        self.hold = hold
        self._users = dict(users)
        self._sandboxes = _sandbox_map(sandboxes)
        self._clock = clock
        self._wall_clock = wall_clock
        self._heartbeat: float | None = None  # the scheduler's latest heartbeat, read once per pass
        self._heartbeat_read = False
        self._apis: dict[str, AirflowApi] = {}
        self._controls: dict[str, SandboxControl] = {}
        self._confs: dict[tuple[str, str], Mapping[str, Any]] = {}
        self._rehearsals: set[tuple[str, str]] = set()  # runs verified as rehearsals against the sandbox
        # first sighting in awaiting_input: (monotonic, wall-clock epoch seconds)
        self._first_seen: dict[tuple[str, str, str, int, int], tuple[float, float]] = {}
        self._done: set[tuple[str, str, str, int, int]] = set()
        self._last_logged: dict[tuple[str, str, str, int, int], tuple[str, str]] = {}
        self._lock = threading.Lock()
        #: Every answer sent (and every step found already answered), oldest first.
        self.answered: list[StepReport] = []

    def __repr__(self) -> str:  # never the passwords
        return f"Responder({self.api_url!r}, users={sorted(self._users)}, settle={self.settle_seconds:g}s)"

    # -- clients ---------------------------------------------------------------------------------
    def api(self, user: str) -> AirflowApi:
        """A REST client logged in as ``user`` (one per user, reused)."""
        if user not in self._apis:
            self._apis[user] = AirflowApi(
                self.api_url, username=user, password=self._users[user], timeout=self.timeout
            )
        return self._apis[user]

    def _control(self, url: str) -> SandboxControl:
        if url not in self._controls:
            self._controls[url] = SandboxControl(url, timeout=self.timeout)
        return self._controls[url]

    def close(self) -> None:
        """Release the HTTP connections."""
        for api in self._apis.values():
            api.close()
        for control in self._controls.values():
            control.session.close()
        self._apis.clear()
        self._controls.clear()

    # -- one pass --------------------------------------------------------------------------------
    def run_once(self) -> list[StepReport]:
        """Answer every pending step that is ready; report on every pending step."""
        with self._lock:
            self._heartbeat_read = False
            items = self.api(self.reader).pending_human_steps()
            items = sorted(items, key=lambda item: str(item.get("created_at") or ""))
            reports: list[StepReport] = []
            pending: set[tuple[str, str, str, int, int]] = set()
            for item in items:
                step = HumanStep.from_api(item)
                if self.dag_ids is not None and step.dag_id not in self.dag_ids:
                    continue
                if self.run_ids is not None and step.run_id not in self.run_ids:
                    continue
                pending.add(step.key)
                report = self._handle(step)
                self._log(step, report)
                reports.append(report)
            for key in list(self._first_seen):
                if key not in pending:
                    del self._first_seen[key]
            return reports

    def run(self, stop_event: threading.Event, poll_seconds: float = 1.0) -> None:
        """Answer what is ready every ``poll_seconds`` until ``stop_event`` is set."""
        if poll_seconds <= 0:
            raise ValueError(f"poll_seconds: must be > 0, got {poll_seconds!r}")
        try:
            while not stop_event.is_set():
                try:
                    self.run_once()
                except AirflowApiError as exc:
                    log.warning("responder: cannot read the pending human steps: %s", exc)
                except Exception:  # keep the rehearsal's people answering; the error is logged in full
                    log.exception("responder: a pass failed; trying again in %gs", poll_seconds)
                stop_event.wait(poll_seconds)
        finally:
            self.close()

    # -- one step --------------------------------------------------------------------------------
    def _report(self, step: HumanStep, status: str, detail: str, **extra: Any) -> StepReport:
        return StepReport(
            dag_id=step.dag_id,
            run_id=step.run_id,
            task_id=step.task_id,
            map_index=step.map_index,
            status=status,
            detail=detail,
            **extra,
        )

    def _handle(self, step: HumanStep) -> StepReport:
        if step.key in self._done:
            return self._report(step, "answered", "answer sent; Airflow has not resumed the task yet")
        if step.state != AWAITING_INPUT:
            self._first_seen.pop(step.key, None)
            return self._report(step, "not_parked", f"the task is {step.state}, not awaiting input yet")
        now = self._clock()
        first, first_wall = self._first_seen.setdefault(step.key, (now, self._wall_clock()))
        awaited = now - first
        if awaited < self.settle_seconds:
            return self._report(
                step,
                "settling",
                f"awaiting input for {awaited:.1f}s; answering after {self.settle_seconds:g}s",
                awaited_seconds=awaited,
            )
        beat = self._scheduler_heartbeat()
        if not scheduler_settled(first_wall, beat, self.settle_seconds):
            seen = (
                "no scheduler heartbeat"
                if beat is None
                else f"last heartbeat {dt.datetime.fromtimestamp(beat, dt.UTC):%H:%M:%S}"
            )
            return self._report(
                step,
                "settling",
                f"awaiting input for {awaited:.1f}s; waiting for the scheduler to loop once more ({seen})",
                awaited_seconds=awaited,
            )
        held = self.hold(step) if self.hold is not None else None
        if held is not None:
            return self._report(step, "waiting", held)
        try:
            conf = self._conf(step)
        except AirflowApiError as exc:
            return self._report(step, "error", f"cannot read the run's conf: {exc}")
        problem = self._not_a_rehearsal(step, conf)
        if problem is not None:
            return self._report(step, "not_rehearsal", problem)
        override = self.policy.override_for(step)
        if override is not None and override.option == PERSON_STAYS:
            return self._rescind(step)
        account: Mapping[str, Any] | None = None
        if self.policy.needs_account(step):
            account_or_problem = self._account(step, conf)
            if isinstance(account_or_problem, str):
                return self._report(step, "cannot_answer", account_or_problem)
            account = account_or_problem
        decision = self.policy.answer(step, conf=conf, account=account)
        if isinstance(decision, Wait):
            return self._report(step, "waiting", decision.reason)
        if isinstance(decision, CannotAnswer):
            return self._report(step, "cannot_answer", decision.reason)
        return self._send(step, decision, awaited)

    def _rescind(self, step: HumanStep) -> StepReport:
        """The person stays: rescind the case at this step instead of answering it."""
        reason = f"rehearsal: the person stays (withdrew at {step.task_id})"
        try:
            answer = self.api(self.rescind_as).case_action(step.run_id, "rescind", {"reason": reason})
        except AirflowApiError as exc:
            return self._report(step, "error", f"the rescind of {step.run_id} was not accepted: {exc}")
        self._done.add(step.key)
        report = self._report(
            step,
            "rescinded",
            f"the person stays: {step.run_id} rescinded as {self.rescind_as} "
            f"(undo run {answer.get('rescind_run_id')})",
            user=self.rescind_as,
        )
        self.answered.append(report)
        return report

    def _send(self, step: HumanStep, answer: Answer, awaited: float) -> StepReport:
        """Answer as the first assigned user who may; the next one when a login or the answer is refused."""
        users = self._respondents(step)
        if not users:
            return self._report(
                step,
                "no_user",
                f"assigned to {', '.join(step.assigned_users)}; the responder knows no password for them",
            )
        failure: StepReport | None = None
        for user in users:
            try:
                self.api(user).answer_human_step(
                    step.dag_id,
                    step.run_id,
                    step.task_id,
                    answer.chosen_options,
                    answer.params_input,
                    map_index=step.map_index,
                )
            except HumanStepRefused as exc:
                if exc.status_code == 409:
                    self._done.add(step.key)
                    report = self._report(step, "already_answered", "someone answered it first", user=user)
                    self.answered.append(report)
                    return report
                failure = self._report(step, "refused", str(exc), user=user)
                if exc.status_code != 403:
                    return failure  # a bad option or form: another user would be refused the same way
                continue
            except AirflowAuthError as exc:
                failure = self._report(step, "login_failed", str(exc), user=user)
                continue
            except AirflowApiError as exc:
                return self._report(step, "error", str(exc), user=user)
            self._done.add(step.key)
            report = self._report(
                step,
                "answered",
                answer.why,
                user=user,
                chosen_options=tuple(answer.chosen_options),
                awaited_seconds=awaited,
            )
            self.answered.append(report)
            return report
        assert failure is not None
        return failure

    def _scheduler_heartbeat(self) -> float | None:
        """The scheduler's latest heartbeat (epoch seconds), read at most once per pass; None if unknown."""
        if not self._heartbeat_read:
            self._heartbeat_read = True
            self._heartbeat = scheduler_heartbeat(self.api(self.reader))
        return self._heartbeat

    def _respondents(self, step: HumanStep) -> list[str]:
        """The assigned users whose passwords are known, in order; the reader when nobody is assigned."""
        if not step.assigned_users:
            return [self.reader]
        return [u for u in dict.fromkeys(step.assigned_users) if u in self._users]

    def _conf(self, step: HumanStep) -> Mapping[str, Any]:
        key = (step.dag_id, step.run_id)
        if key not in self._confs:
            run = self.api(self.reader).get_dag_run(step.dag_id, step.run_id)
            self._confs[key] = dict(run.get("conf") or {})
        return self._confs[key]

    def _not_a_rehearsal(self, step: HumanStep, conf: Mapping[str, Any]) -> str | None:
        """Why the step's run must not be answered (real time, not the sandbox), or None.

        A verified run is remembered; a refused one is checked again on the next pass.
        """
        key = (step.dag_id, step.run_id)
        if key in self._rehearsals:
            return None
        label = f"{step.run_id} of {step.dag_id}"
        problem = rehearsal_time_problem(label, conf)
        if problem is None:
            conn_id = str(conf.get("wecom_conn_id") or DEFAULT_CONN_ID)
            problem = sandbox_connection_problem(
                label,
                conn_id,
                self._sandboxes.get(conn_id) or self._sandboxes.get("*"),
                identity=self._sandbox_identity,
                stored_connection=self._stored_connection(conn_id),
            )
        if problem is None:
            self._rehearsals.add(key)
        return problem

    def _sandbox_identity(self, url: str) -> Mapping[str, Any] | None:
        """``GET url/sandbox/identity`` when it answers the sandbox's marker, else None."""
        try:
            body = self._control(url).identity()
        except (SandboxControlError, requests.RequestException):
            return None
        return body if isinstance(body, dict) and body.get("sandbox") == SANDBOX_IDENTITY else None

    def _stored_connection(self, conn_id: str) -> Mapping[str, Any] | None:
        """The connection as Airflow's REST API shows it; None when Airflow does not show it."""
        try:
            return self.api(self.reader).get_connection(conn_id)
        except (NotFound, AirflowAuthError):
            return None  # an AIRFLOW_CONN_* / secrets-backend connection, or no right to read it

    def _account(self, step: HumanStep, conf: Mapping[str, Any]) -> Mapping[str, Any] | str:
        """The sandbox's account of the step's person, or why it cannot be read."""
        userid = self.policy.account_userid(conf)
        if userid is None:
            return f"{step.label}: the run's conf names no userid/admin_userid"
        conn_id = str(conf.get("wecom_conn_id") or "wecom_default")
        url = self._sandboxes.get(conn_id) or self._sandboxes.get("*")
        if url is None:
            return (
                f"{step.label}: no sandbox URL for connection {conn_id}; "
                f"give --sandbox-url {conn_id}=http://127.0.0.1:PORT"
            )
        try:
            return self._control(url).account(userid)
        except SandboxControlError as exc:
            return f"{step.label}: the sandbox at {url} refused to show the account of {userid}: {exc}"
        except requests.RequestException as exc:
            return f"{step.label}: cannot reach the sandbox at {url} ({type(exc).__name__})"

    def _log(self, step: HumanStep, report: StepReport) -> None:
        """Log a step's report when its status (or, for problems, its reason) changed."""
        shown = (report.status, report.detail if report.status in PROBLEMS | {"waiting"} else "")
        if self._last_logged.get(step.key) == shown:
            return
        self._last_logged[step.key] = shown
        if report.status == "answered" and report.user:
            log.info(
                "answered %s as %s: %s (%s; after %.1fs awaiting input)",
                report.label,
                report.user,
                ", ".join(report.chosen_options),
                report.detail,
                report.awaited_seconds or 0.0,
            )
        elif report.status in PROBLEMS:
            log.warning("cannot answer %s: %s: %s", report.label, report.status, report.detail)
        elif report.status in ("settling", "not_parked"):
            log.debug("%s: %s: %s", report.label, report.status, report.detail)
        else:
            log.info("%s: %s: %s", report.label, report.status, report.detail)


def scheduler_heartbeat(api: AirflowApi) -> float | None:
    """The scheduler's latest heartbeat (epoch seconds) from the health endpoint; None if unknown."""
    try:
        text = (api.health().get("scheduler") or {}).get("latest_scheduler_heartbeat")
        if not text:
            return None
        beat = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return (beat if beat.tzinfo else beat.replace(tzinfo=dt.UTC)).timestamp()
    except (AirflowApiError, ValueError) as exc:
        log.warning("responder: cannot read the scheduler's heartbeat: %s", exc)
        return None


def scheduler_settled(first_seen: float, heartbeat: float | None, settle_seconds: float) -> bool:
    """Whether the scheduler heartbeated ``settle_seconds`` after a step was first seen parked (epoch s)."""
    return heartbeat is not None and heartbeat >= first_seen + settle_seconds


def wait_until_answerable(
    api: AirflowApi,
    dag_id: str,
    run_id: str,
    task_id: str,
    *,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    timeout: float = 300.0,
) -> float:
    """Return once a parked human step may be answered by anyone (trap 11, the responder's own rule).

    The step has been ``awaiting_input`` for ``settle_seconds`` as seen here, and the scheduler has
    heartbeated ``settle_seconds`` after that first sighting (so it has processed the event of the process
    that parked it, even when a loaded machine delays it). Returns the seconds waited; raises
    ``TimeoutError`` naming the step's last state.
    """
    started = time.monotonic()
    first_wall: float | None = None
    state: str | None = None
    while True:
        states = {ti["task_id"]: ti.get("state") for ti in api.list_task_instances(dag_id, run_id)}
        state = states.get(task_id)
        if state != AWAITING_INPUT:
            first_wall = None
        elif first_wall is None:
            first_wall = time.time()
        elif time.time() - first_wall >= settle_seconds and scheduler_settled(
            first_wall, scheduler_heartbeat(api), settle_seconds
        ):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{run_id} {task_id}: not answerable within {timeout:g}s (state {state})")
        time.sleep(0.5)


__all__ = [
    "DEFAULT_SETTLE_SECONDS",
    "PROBLEMS",
    "Responder",
    "StepReport",
    "scheduler_heartbeat",
    "wait_until_answerable",
]
