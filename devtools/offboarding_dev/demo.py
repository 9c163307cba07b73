"""``make demo``: the product on one machine, with sample cases running in rehearsal time.

``python -m offboarding_dev.demo [--auto-answer] [--exit-when-done] [--port 8080]`` starts

* the WeCom sandbox for the persons (seed ``default``, port 8900, connection ``wecom_default``) and,
  when ``dags/dissolve_company.py`` exists, a second one for the company (seed ``members:200``, port
  8901, connection ``wecom_company``) — both a day per second (time scale 86400);
* ``airflow standalone`` (SQLite, LocalExecutor, bound to 127.0.0.1) with ``AIRFLOW_HOME=<repo>/.airflow``,
  the connections as ``AIRFLOW_CONN_*`` variables and the users admin, hr, approver, legal_rep,
  finance and the sample persons (passwords printed once and kept in the passwords file there);

then unpauses the DAGs, triggers the sample cases (two persons, one company), prints the UI address
and every few seconds where each case is. With ``--auto-answer`` the rehearsal responder answers the
human steps through the REST API as the assigned people; without it, log in as them and answer in
*Browse › Required Actions*. Ctrl-C (or SIGTERM) stops the responder, Airflow and the sandboxes.

The stalled-step watchdog (``offboarding_watchdog``) runs every ``--watchdog-seconds`` (30) and alerts
the ops group's robot in the persons' sandbox (connection ``wecom_robot_demo``) and, for 孙七's case, 张三
by app message. With ``--auto-answer`` one sample step — 孙七's 社保减员 (``stop_social_insurance``) — is
left to stall: the responder answers it only once the robot has posted the alert and one reminder, and
the watchdog is silent about it afterwards. Watch them at ``<sandbox>/sandbox/inbox``.

Each start is a fresh rehearsal: the previous metadata database and logs are removed (the sandboxes
start from their seeds), the passwords are kept, and the backups and evidence go to a new folder
``.airflow/rehearsals/<start time>/``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from offboarding.airflow_api import AirflowApi, AirflowApiError, RunAlreadyExists, redact_url
from offboarding.alerting.schedule import INTERVAL_ENV as WATCHDOG_INTERVAL_ENV
from offboarding.alerting.targets import ALERT_WEBHOOK_ENV
from offboarding.cases import COMPANY_DAG_ID, PERSON_DAG_ID
from offboarding_dev.rehearsal.progress import CaseProgress, case_progress, waiting_for
from offboarding_dev.rehearsal.responder import Responder
from offboarding_dev.rehearsal.samples import (
    COMPANY_CONN_ID,
    COMPANY_CORPID,
    COMPANY_SEED,
    DEMO_APPROVERS,
    DEMO_HR_OWNERS,
    DEMO_ROBOT_CONN_ID,
    LEAVERS_DEPARTMENT_ID,
    PERSONS_APP_CHAT_IDS,
    PERSONS_CONN_ID,
    PERSONS_SEED,
    REHEARSAL_TIME_SCALE,
    SAMPLE_PERSONS,
    SampleCase,
    company_case,
    demo_roles,
    person_case,
    robot_connection,
    today_in_shanghai,
    wecom_connection,
)
from offboarding_dev.rehearsal.stall import DEMO_STALL, StallUntilReminded
from offboarding_dev.sandbox.testing import RunningSandbox, running_sandbox
from offboarding_dev.testing.airflow import RunningAirflow, free_port, running_airflow
from offboarding_dev.testing.keeper import describe_health, keep_running

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
DEFAULT_HOME = REPO / ".airflow"
PASSWORDS_FILE = "simple_auth_manager_passwords.json"
EVIDENCE_KEY_FILE = "evidence.key"
DEFAULT_UI_PORT = 8080
DEFAULT_PERSONS_SANDBOX_PORT = 8900
DEFAULT_COMPANY_SANDBOX_PORT = 8901
EXIT_BAD_INPUT = 2
DEFAULT_WATCHDOG_SECONDS = 30.0  # a round is a task and a few REST calls: cheap enough for one machine
WATCHDOG_DAG_ID = "offboarding_watchdog"
API_TIMEOUT = 90.0


class DemoStopped(BaseException):
    """Ctrl-C or SIGTERM: unwind and stop everything (a BaseException so nothing swallows it)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offboarding_dev.demo",
        description="Start the WeCom sandbox and Airflow, and run sample offboarding cases in rehearsal time.",
    )
    parser.add_argument(
        "--auto-answer",
        action="store_true",
        help="answer the human steps automatically (as the assigned people) so the cases finish unattended",
    )
    parser.add_argument(
        "--exit-when-done",
        action="store_true",
        help="exit when every sample case is finished: 0 if all succeeded, 1 otherwise",
    )
    parser.add_argument(
        "--port", type=int, help=f"Airflow UI/API port (default {DEFAULT_UI_PORT}, or a free one if busy)"
    )
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME, help="AIRFLOW_HOME (default: %(default)s)")
    parser.add_argument(
        "--sandbox-port",
        type=int,
        default=DEFAULT_PERSONS_SANDBOX_PORT,
        help="port of the persons' WeCom sandbox; 0 or busy: a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--company-sandbox-port",
        type=int,
        default=DEFAULT_COMPANY_SANDBOX_PORT,
        help="port of the company's WeCom sandbox; 0 or busy: a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=REHEARSAL_TIME_SCALE,
        help="rehearsal time: legal and WeCom waits divided by this (default: %(default)g, a day per second)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="with --exit-when-done: give up (exit 1) after this many seconds (default: %(default)g)",
    )
    parser.add_argument(
        "--watchdog-seconds",
        type=float,
        default=DEFAULT_WATCHDOG_SECONDS,
        help="seconds between the stalled-step watchdog's rounds (default: %(default)g)",
    )
    parser.add_argument(
        "--progress-seconds", type=float, default=5.0, help="seconds between progress reports (default: 5)"
    )
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=300.0,
        help="seconds Airflow may take to start (default: 300)",
    )
    return parser


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_ui_port(requested: int | None) -> tuple[int, str]:
    """The UI port and a note: an explicit busy port is an error, the default falls back to a free one."""
    if requested is not None:
        if not 1 <= requested <= 65535:
            raise ValueError(f"--port: must be a TCP port (1-65535), got {requested}")
        if not _port_is_free(requested):
            raise ValueError(f"--port: {requested} is busy on 127.0.0.1; choose another port")
        return requested, ""
    if _port_is_free(DEFAULT_UI_PORT):
        return DEFAULT_UI_PORT, ""
    port = free_port()
    return port, f"port {DEFAULT_UI_PORT} is busy, using {port}"


def _sandbox_port_args(port: int) -> tuple[str, ...]:
    """``--port N`` when N is free (``running_sandbox`` otherwise picks a free port itself)."""
    return ("--port", str(port)) if port and _port_is_free(port) else ()


def load_passwords(home: Path, users: Sequence[str]) -> dict[str, str]:
    """Each user's password: kept from the passwords file of an earlier demo, else a new random one."""
    known: dict[str, Any] = {}
    path = home / PASSWORDS_FILE
    if path.is_file():
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            known = loaded if isinstance(loaded, dict) else {}
    return {
        user: known[user] if isinstance(known.get(user), str) and known[user] else secrets.token_urlsafe(12)
        for user in users
    }


def fresh_rehearsal(home: Path) -> Path:
    """Remove the previous run's metadata DB and logs; return a new folder for backups and evidence."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name in ("airflow.db", "airflow.db-journal", "airflow.db-wal", "airflow.db-shm", "standalone.log"):
        (home / name).unlink(missing_ok=True)
    for folder in ("logs", "offboarding"):
        shutil.rmtree(home / folder, ignore_errors=True)
    session = home / "rehearsals" / time.strftime("%Y%m%d-%H%M%S")
    session.mkdir(parents=True, exist_ok=True, mode=0o700)
    return session


def sample_cases(with_company: bool, time_scale: float) -> list[SampleCase]:
    """The demo's cases (validated against the case schemas before anything starts)."""
    day = today_in_shanghai()
    cases = [person_case(p, last_working_day=day, time_scale=time_scale) for p in SAMPLE_PERSONS]
    if with_company:
        cases.append(company_case(time_scale=time_scale))
    return cases


def evidence_key(session: Path) -> str:
    """The demo deployment's evidence key: made once per session in ``evidence.key`` (mode 0600)."""
    path = session / EVIDENCE_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text(encoding="utf-8").strip()


def airflow_env(
    persons: RunningSandbox,
    company: RunningSandbox | None,
    session: Path,
    watchdog_seconds: float = DEFAULT_WATCHDOG_SECONDS,
) -> dict[str, str]:
    """Connections and data folders of the demo's Airflow (every component gets the same)."""
    env = {
        # The stalled-step watchdog: the ops group's robot for every case (孙七's case names it in its
        # notify too, with 张三 for app messages), a round every few seconds of rehearsal.
        f"AIRFLOW_CONN_{DEMO_ROBOT_CONN_ID.upper()}": json.dumps(robot_connection(persons)),
        ALERT_WEBHOOK_ENV: DEMO_ROBOT_CONN_ID,
        WATCHDOG_INTERVAL_ENV: f"{watchdog_seconds / 60:g}",
        f"AIRFLOW_CONN_{PERSONS_CONN_ID.upper()}": json.dumps(
            wecom_connection(
                persons, app_chat_ids=PERSONS_APP_CHAT_IDS, leavers_department_id=LEAVERS_DEPARTMENT_ID
            )
        ),
        "OFFBOARDING_DATA_DIR": str(session / "data"),
        "OFFBOARDING_TOKEN_CACHE_URL": (session / "token-cache").as_uri(),
        # Every ledger entry is authenticated with it; kept in the session (0600) for `evidence verify`.
        "AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY": json.dumps(
            {"conn_type": "generic", "password": evidence_key(session)}
        ),
        # One machine runs every component: under load the api-server answers workers slowly, and the
        # default 5 s timeout fails tasks that would have succeeded (Airflow's own advice: raise it).
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
    }
    if company is not None:
        env[f"AIRFLOW_CONN_{COMPANY_CONN_ID.upper()}"] = json.dumps(
            wecom_connection(company, leavers_department_id=LEAVERS_DEPARTMENT_ID)
        )
    return env


class Demo:
    """One demo session: what runs, what was triggered, and the progress loop."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args = args
        self.out = out
        self.stop = threading.Event()
        self.started = time.monotonic()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def run(self) -> int:
        args = self.args
        try:
            ui_port, port_note = choose_ui_port(args.port)
            if args.time_scale < 1:
                raise ValueError(f"--time-scale: must be >= 1, got {args.time_scale:g}")
            if not args.watchdog_seconds >= 1:
                raise ValueError(f"--watchdog-seconds: must be >= 1, got {args.watchdog_seconds:g}")
            with_company = (DAGS_FOLDER / f"{COMPANY_DAG_ID}.py").is_file()
            cases = sample_cases(with_company, args.time_scale)
        except ValueError as exc:
            self.say(f"offboarding demo: {exc}")
            return EXIT_BAD_INPUT
        home = args.home.resolve()
        roles = demo_roles()
        passwords = load_passwords(home, list(roles))
        session = fresh_rehearsal(home)
        with contextlib.ExitStack() as stack:
            persons = stack.enter_context(self._sandbox(PERSONS_SEED, args.sandbox_port))
            self.say(f"started the WeCom sandbox for the persons at {persons.base_url} (seed {PERSONS_SEED})")
            company = None
            if with_company:
                company = stack.enter_context(
                    self._sandbox(COMPANY_SEED, args.company_sandbox_port, corpid=COMPANY_CORPID)
                )
                self.say(
                    f"started the WeCom sandbox for the company at {company.base_url} (seed {COMPANY_SEED})"
                )
            if port_note:
                self.say(port_note)
            self.say(
                f"starting Airflow on http://127.0.0.1:{ui_port} (AIRFLOW_HOME={home}); this takes a minute ..."
            )
            airflow = stack.enter_context(
                running_airflow(
                    DAGS_FOLDER,
                    users=",".join(f"{user}:{role}" for user, role in roles.items()),
                    passwords=passwords,
                    port=ui_port,
                    home=home,
                    extra_env=airflow_env(persons, company, session, args.watchdog_seconds),
                    approvers=DEMO_APPROVERS,  # the deployment's lists: who may approve, own a case
                    hr_owners=DEMO_HR_OWNERS,
                    dag_ids=[PERSON_DAG_ID, WATCHDOG_DAG_ID],
                    startup_timeout=args.startup_timeout,
                    allow_import_errors=True,
                )
            )
            # As the deployment's restart: always: a component that exits or hangs is started again, said here.
            stack.enter_context(keep_running(airflow, self.say))
            admin = self._api(airflow, "admin")
            stack.callback(admin.close)
            cases = retrying(lambda: self._runnable(admin, cases), "read the DAGs", self.say)
            self._banner(airflow, persons, company, session)
            started = self._trigger(airflow, cases)
            if args.auto_answer:
                self._start_responder(stack, airflow, persons, company)
            return self._watch(admin, started, session, airflow)

    @contextlib.contextmanager
    def _sandbox(self, seed: str, port: int, **kwargs: Any) -> Iterator[RunningSandbox]:
        with running_sandbox(
            seed=seed, time_scale=self.args.time_scale, extra_args=_sandbox_port_args(port), **kwargs
        ) as sandbox:
            yield sandbox

    def _runnable(self, api: AirflowApi, cases: list[SampleCase]) -> list[SampleCase]:
        """Keep the cases whose DAG parsed; a broken company DAG must not stop the persons' demo."""
        dags = {d["dag_id"] for d in api.list_dags()}
        errors = {e.get("filename"): e.get("stack_trace", "") for e in api.list_import_errors()}
        for filename, trace in errors.items():
            last = (trace or "").strip().splitlines()[-1:] or ["?"]
            self.say(f"warning: {filename} failed to import: {last[0]}")
        if PERSON_DAG_ID not in dags:
            raise RuntimeError(f"the DAG {PERSON_DAG_ID} did not load; see the import error above")
        for case in cases:
            if case.dag_id not in dags:
                self.say(f"warning: skipping the case {case.run_id}: DAG {case.dag_id} did not load")
        return [case for case in cases if case.dag_id in dags]

    def _banner(
        self, airflow: RunningAirflow, persons: RunningSandbox, company: RunningSandbox | None, session: Path
    ) -> None:
        rule = "=" * 78
        self.say(rule)
        self.say(f"Airflow UI        {airflow.api_url}   (log in as admin / {airflow.passwords['admin']})")
        others = ", ".join(f"{u} / {p}" for u, p in airflow.passwords.items() if u != "admin")
        self.say(f"Other logins      {others}")
        self.say(f"Passwords file    {airflow.home / PASSWORDS_FILE}")
        self.say(f"WeCom sandbox     {persons.base_url}  (persons; connection {PERSONS_CONN_ID})")
        if company is not None:
            self.say(f"WeCom sandbox     {company.base_url}  (company; connection {COMPANY_CONN_ID})")
        self.say(f"Rehearsal time    time_scale {self.args.time_scale:g} (86400 = a day per second)")
        self.say(
            f"Alerts            {persons.base_url}/sandbox/inbox  (the WeCom inbox: the ops group's robot "
            f"{DEMO_ROBOT_CONN_ID} and app messages; watchdog round every {self.args.watchdog_seconds:g}s)"
        )
        if self.args.auto_answer:
            self.say(
                f"Stalled on purpose {DEMO_STALL.label()}: answered only after the robot posted its alert "
                "and one reminder; nothing more after the answer"
            )
        self.say(f"Backups/evidence  {session / 'data'}")
        self.say(
            f"Verify evidence   offboarding evidence verify {session / 'data' / 'cases'}/<case id> "
            f"--key-file {session / EVIDENCE_KEY_FILE}"
        )
        if self.args.auto_answer:
            self.say("Human steps       answered automatically by the rehearsal responder")
        else:
            self.say("Human steps       log in as the assigned user and answer in Browse > Required Actions")
        self.say("Ctrl-C stops everything.")
        self.say(rule)

    def _trigger(self, airflow: RunningAirflow, cases: list[SampleCase]) -> list[SampleCase]:
        """Unpause every DAG and start each case as its owner (the run id keeps a retry from doubling it)."""
        with self._api(airflow, "admin") as admin:
            dags = retrying(admin.list_dags, "list the DAGs", self.say)
            for dag_id in sorted(d["dag_id"] for d in dags if d.get("is_paused")):
                retrying(lambda dag_id=dag_id: admin.unpause(dag_id), f"unpause {dag_id}", self.say)
                self.say(f"unpaused {dag_id}")
        for case in cases:
            with self._api(airflow, case.triggered_by) as api:

                def trigger(api: AirflowApi = api, case: SampleCase = case) -> None:
                    with contextlib.suppress(RunAlreadyExists):  # an earlier attempt got through
                        api.trigger_dag_run(case.dag_id, case.run_id, case.conf, note="make demo (rehearsal)")

                retrying(trigger, f"trigger {case.run_id}", self.say)
            self.say(f"triggered {case.run_id:<30} {case.title} (by {case.triggered_by})")
        return cases

    @staticmethod
    def _api(airflow: RunningAirflow, user: str) -> AirflowApi:
        """A client with a patient timeout: every component shares this machine."""
        return AirflowApi(
            airflow.api_url, username=user, password=airflow.passwords[user], timeout=API_TIMEOUT
        )

    def _start_responder(
        self,
        stack: contextlib.ExitStack,
        airflow: RunningAirflow,
        persons: RunningSandbox,
        company: RunningSandbox | None,
    ) -> None:
        sandboxes = {PERSONS_CONN_ID: persons.base_url}
        if company is not None:
            sandboxes[COMPANY_CONN_ID] = company.base_url
        responder = Responder(
            airflow.api_url,
            airflow.passwords,
            sandboxes=sandboxes,
            timeout=API_TIMEOUT,
            hold=StallUntilReminded(DEMO_STALL, persons.control),
        )
        handler = logging.StreamHandler(self.out)
        handler.setFormatter(logging.Formatter("  responder: %(message)s"))
        logger = logging.getLogger("offboarding_dev.rehearsal.responder")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        stack.callback(logger.removeHandler, handler)
        thread = threading.Thread(target=responder.run, args=(self.stop, 1.0), name="responder", daemon=True)
        stack.callback(thread.join, 30)
        stack.callback(self.stop.set)
        thread.start()

    def _watch(self, api: AirflowApi, cases: list[SampleCase], session: Path, airflow: RunningAirflow) -> int:
        last_lines: list[str] = []
        last_print = 0.0
        announced_done = False
        while True:
            try:
                assigned = waiting_for(api.pending_human_steps())
                progress = [case_progress(api, c.dag_id, c.run_id, assigned) for c in cases]
            except AirflowApiError as exc:
                self.say(f"warning: cannot read the progress: {exc}")
                progress = []
            now = time.monotonic()
            lines = [p.line() for p in progress]
            due = now - last_print >= self.args.progress_seconds
            if progress and due and (lines != last_lines or now - last_print >= 30):
                elapsed = int(now - self.started)
                self.say(f"[{elapsed // 60:02d}:{elapsed % 60:02d}]")
                for line in lines:
                    self.say(f"  {line}")
                last_lines, last_print = lines, now
            if progress and all(p.finished for p in progress):
                if not announced_done:
                    self._summary(progress)
                    announced_done = True
                if self.args.exit_when_done:
                    if self.args.auto_answer:
                        self._await_watchdog_round(session, after=dt.datetime.now(dt.UTC))
                    return 0 if all(p.state == "success" for p in progress) else 1
            if self.args.exit_when_done and now - self.started > self.args.timeout:
                self.say(f"the sample cases did not finish within {self.args.timeout:g}s")
                self._explain_stuck(api, airflow, cases)
                return 1
            time.sleep(1.0)

    def _explain_stuck(self, api: AirflowApi, airflow: RunningAirflow, cases: list[SampleCase]) -> None:
        """What a person looks at first when cases do not move: the components, the DAGs' flags (a paused
        or stale DAG's runs stay queued), and the last errors in Airflow's own log."""
        with contextlib.suppress(AirflowApiError):
            self.say(f"Airflow's components: {describe_health(api.health())}")
        for dag_id in sorted({c.dag_id for c in cases}):
            with contextlib.suppress(AirflowApiError):
                dag = api.get_dag(dag_id)
                flags = ", ".join(f"{k} {dag.get(k)}" for k in ("is_paused", "is_stale", "has_import_errors"))
                self.say(f"DAG {dag_id}: {flags}")
        errors = last_errors(airflow.log_tail(5000))
        if errors:
            self.say(f"the last errors in {airflow.standalone_log}:")
            for line in errors:
                self.say(f"  {line}")

    def _await_watchdog_round(self, session: Path, after: dt.datetime) -> None:
        """Before exiting, one watchdog round that read Airflow after every case finished (so after the
        stalled step's answer): the demo's promise is the silence after the answer, not only the alerts."""
        patience = 3 * self.args.watchdog_seconds + 30
        deadline = time.monotonic() + min(
            patience, max(0.0, self.args.timeout - (time.monotonic() - self.started))
        )
        while (round_ := last_watchdog_round(session)) is None or round_[0] <= after:
            if time.monotonic() >= deadline:
                self.say(f"warning: no watchdog round within {patience:g}s after the cases finished")
                return
            time.sleep(1.0)
        checked_at, stalled = round_
        self.say(
            f"watchdog round at {checked_at:%H:%M:%S} UTC, after the cases finished: "
            f"{len(stalled)} stalled step(s) remembered{': ' + ', '.join(stalled) if stalled else ''}"
        )

    def _summary(self, progress: list[CaseProgress]) -> None:
        elapsed = time.monotonic() - self.started
        self.say(f"all sample cases finished after {elapsed:.0f}s:")
        for p in progress:
            self.say(f"  {p.run_id:<30} {p.state}")
            for task_id in p.failed:
                hint = failure_hint(self.args.home.resolve(), p.dag_id, p.run_id, task_id)
                self.say(f"    failed: {task_id}: {hint}")
        if not self.args.exit_when_done:
            self.say("Airflow keeps running so you can look around; Ctrl-C stops everything.")


def retrying(
    call: Callable[[], Any], what: str, say: Callable[[str], None], attempts: int = 4, delay: float = 2.0
) -> Any:
    """``call()``, again after 2, 4, 8 s (``delay`` doubling) while the api-server is unreachable, slow or 5xx."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except AirflowApiError as exc:
            transient = exc.status_code is None or exc.status_code >= 500
            if not transient or attempt == attempts:
                raise
            say(f"{what}: {exc}; trying again")
            time.sleep(delay * 2 ** (attempt - 1))
    return None


def last_errors(log: str, count: int = 15, width: int = 300) -> list[str]:
    """The last ``count`` error lines of Airflow's log (its ``[error`` records and Python's ``...Error``s),
    each cut to ``width`` characters."""
    errors = [line for line in log.splitlines() if "[error" in line or "Error" in line]
    return [line[:width] for line in errors[-count:]]


def last_watchdog_round(session: Path) -> tuple[dt.datetime, list[str]] | None:
    """When the watchdog last read Airflow and the steps it then remembered as stalled (its state file),
    None before its first round."""
    state = session / "data" / "alerts" / "state.json"
    try:
        document = json.loads(state.read_text(encoding="utf-8"))
        return dt.datetime.fromisoformat(document["checked_at"]), sorted(document.get("steps") or {})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def failure_hint(home: Path, dag_id: str, run_id: str, task_id: str) -> str:
    """The error of a failed task's last try, read from its log file (else where the log is)."""
    folder = home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    attempts = sorted(folder.glob("attempt=*.log"), key=lambda p: int(p.stem.split("=")[-1] or 0))
    if not attempts:
        return f"see the task log in the UI ({folder})"
    for line in reversed(attempts[-1].read_text(encoding="utf-8", errors="replace").splitlines()):
        if "error_detail" not in line:
            continue
        with contextlib.suppress(ValueError, AttributeError, IndexError, TypeError, KeyError):
            detail = json.loads(line)["error_detail"][-1]
            return f"{detail['exc_type']}: {redact_url(str(detail['exc_value']))[:300]} ({attempts[-1]})"
    return f"see {attempts[-1]}"


def _stop_on_signal(signum: int, frame: object) -> None:
    # Further signals are ignored so the cleanup (Airflow's process group, the sandboxes) completes.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise DemoStopped(signal.Signals(signum).name)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the demo; returns the exit code (see ``--exit-when-done``)."""
    args = build_parser().parse_args(argv)
    previous = {sig: signal.signal(sig, _stop_on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    demo = Demo(args, out)
    try:
        return demo.run()
    except DemoStopped as stop:
        print(f"{stop}: stopped the responder, Airflow and the WeCom sandboxes", file=out, flush=True)
        return 1 if args.exit_when_done else 0
    except (RuntimeError, AirflowApiError) as exc:
        print(f"offboarding demo: {exc}", file=out, flush=True)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    raise SystemExit(main())
