"""A real, throw-away ``airflow standalone`` for end-to-end tests.

``running_airflow(dags_folder)`` starts Airflow 3.3 from this virtualenv with its own
``AIRFLOW_HOME`` in a temp dir: SQLite, LocalExecutor, SimpleAuthManager with known users, the
api-server on a free loopback port (and the Execution API address set to match — trap 12 of the
Airflow notes), fast scheduler / DAG-processor settings, examples off and DAGs unpaused at creation.
It waits until every component is healthy and every DAG file in the folder is parsed, then yields a
``RunningAirflow`` with a ready REST client (``api()``), and stops the whole process group on exit.

Nothing here imports Airflow: the components run in their own processes, so the calling process
never reads or creates a user's ``~/airflow``. Inherited ``AIRFLOW_*`` environment variables are
dropped so the outer environment cannot leak settings into the test Airflow; pass ``extra_env``.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import fnmatch
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from offboarding.airflow_api import AirflowApi, AirflowApiError

#: The repository's ``plugins/`` folder (this file is ``devtools/offboarding_dev/testing/airflow.py``).
REPO_PLUGINS_FOLDER = Path(__file__).resolve().parents[3] / "plugins"

DEFAULT_STARTUP_TIMEOUT = 240.0
STOP_GRACE_SECONDS = 20.0
_POLL = 0.5


#: Seconds the tests' REST clients wait for one answer of the api-server.
API_TIMEOUT = 120.0
#: What every deployment of the product sets, as docker-compose.yaml does (tests/deploy checks they agree):
#:
#: * ``AIRFLOW_DISABLE_GREENBACK_PORTAL``: read by the triggerer only. Airflow gives every trigger a
#:   greenback portal (about 7 KB each) so that a trigger may call a sync SDK method (``get_connection``)
#:   from its event loop; the product's triggers look connections up with ``aget_connection`` and call
#:   WeCom in threads.
#: * ``AIRFLOW__CORE__NUM_DAG_RUNS_TO_RETAIN_RENDERED_FIELDS=0``: keep every run's rendered fields.
#:   Airflow keeps them for the 30 newest runs of a DAG by default, and the cases page and the watchdog
#:   read a wait's deadline and a human step's due time there: with more than 30 cases in flight, the
#:   older cases lost theirs (the capacity bench: 1,212 of 2,169 human steps at 10,000 in flight).
DEPLOYMENT_ENV = {
    "AIRFLOW_DISABLE_GREENBACK_PORTAL": "true",
    "AIRFLOW__CORE__NUM_DAG_RUNS_TO_RETAIN_RENDERED_FIELDS": "0",
}


#: The components a test may restart: ``airflow <command>`` → (its entry in ``/monitor/health``, the
#: heartbeat field there).
HEARTBEATS: dict[str, tuple[str, str]] = {
    "scheduler": ("scheduler", "latest_scheduler_heartbeat"),
    "triggerer": ("triggerer", "latest_triggerer_heartbeat"),
    "dag-processor": ("dag_processor", "latest_dag_processor_heartbeat"),
}


def last_heartbeat(health: Mapping[str, Any], command: str) -> datetime | None:
    """When ``airflow <command>`` last heartbeat, per a ``/monitor/health`` answer (None: never)."""
    component, field_name = HEARTBEATS[command]
    beat = (health.get(component) or {}).get(field_name)
    return datetime.fromisoformat(beat) if beat else None


class AirflowStartError(RuntimeError):
    """``airflow standalone`` did not become ready; the message carries the tail of its log."""


# ---------------------------------------------------------------------- process tree (/proc)


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    pgid: int
    state: str
    argv: tuple[str, ...]


def _read_proc(pid: int) -> _Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw_argv = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # Field 2 (comm) is in parentheses and may contain spaces: split after the last ')'.
    rest = stat[stat.rfind(")") + 2 :].split()
    argv = tuple(a.decode(errors="replace") for a in raw_argv.split(b"\0") if a)
    return _Proc(pid=pid, state=rest[0], ppid=int(rest[1]), pgid=int(rest[2]), argv=argv)


def _all_procs() -> list[_Proc]:
    procs = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (proc := _read_proc(int(entry))) is not None:
            procs.append(proc)
    return procs


def _descendants(pid: int) -> list[_Proc]:
    """Every live process below ``pid`` in the process tree (children first)."""
    procs = _all_procs()
    children: dict[int, list[_Proc]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    found: list[_Proc] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


def _group_members(pgid: int) -> list[_Proc]:
    """Live (not zombie) processes of one process group."""
    return [p for p in _all_procs() if p.pgid == pgid and p.state != "Z"]


def _is_airflow_command(proc: _Proc, command: str) -> bool:
    """True for ``.../python .../bin/airflow <command>`` (or ``airflow <command>``)."""
    argv = proc.argv
    return any(Path(arg).name == "airflow" and argv[i + 1] == command for i, arg in enumerate(argv[:-1]))


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def sqlite_in_wal_mode(sql_alchemy_conn: str) -> None:
    """Put a SQLite metadata database in write-ahead-log mode before Airflow creates its tables.

    In SQLite's default (rollback journal) mode a writer cannot commit while any reader holds the file,
    so the api-server, scheduler, triggerer and dag-processor polling it on a loaded 2-core machine can
    keep a writer waiting past its busy timeout (HTTP 500 "Database error" on a trigger). In WAL mode
    readers never block the writer; writers still take turns. The mode is stored in the file, so every
    Airflow process opening it uses it. Other databases (PostgreSQL) are left alone.
    """
    if not sql_alchemy_conn.startswith("sqlite:///"):
        return
    path = sql_alchemy_conn.removeprefix("sqlite:///").split("?", 1)[0]
    with contextlib.closing(sqlite3.connect(path, timeout=60)) as db:
        db.execute("PRAGMA journal_mode=WAL")


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if (p := _read_proc(pid)) is not None and p.state != "Z"]
        if not alive:
            return True
        time.sleep(0.2)
    return False


# ---------------------------------------------------------------------- configuration


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parse_users(users: str) -> dict[str, str]:
    """``"admin:admin,hr:user"`` → ``{"admin": "admin", "hr": "user"}`` (user name → role)."""
    roles = {"viewer", "user", "op", "admin"}
    parsed: dict[str, str] = {}
    for item in users.split(","):
        name, sep, role = item.strip().partition(":")
        if not sep or not name or role not in roles:
            raise ValueError(f"users: {item.strip()!r} must be 'name:role' with role one of {sorted(roles)}")
        parsed[name] = role
    return parsed


def airflow_executable() -> Path:
    """The ``airflow`` script of the running virtualenv (next to ``sys.executable``)."""
    path = Path(sys.executable).parent / "airflow"
    if not path.exists():
        raise AirflowStartError(
            f"no 'airflow' executable next to {sys.executable}: is apache-airflow installed?"
        )
    return path


def build_env(
    *,
    home: Path,
    dags_folder: Path,
    plugins_folder: Path,
    port: int,
    users: Mapping[str, str],
    passwords_file: Path,
    extra_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment every Airflow process of the test deployment runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    bin_dir = str(airflow_executable().parent)
    env["PATH"] = os.pathsep.join([bin_dir, *[p for p in env.get("PATH", "").split(os.pathsep) if p]])
    api_url = f"http://127.0.0.1:{port}"
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "NO_COLOR": "1",
            "PYTHONUNBUFFERED": "1",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(plugins_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "1",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in users.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            # SQLite serialises writers; a generous busy timeout turns lock contention into waiting.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": api_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "2",
            **DEPLOYMENT_ENV,
        }
    )
    # Every ledger entry is authenticated with the deployment's evidence key (no evidence without it):
    # the tests' own key when they set one (so they can verify what the deployment recorded), else a
    # fresh key for this deployment.
    evidence_key = os.environ.get("OFFBOARDING_EVIDENCE_KEY") or secrets.token_urlsafe(32)
    env["AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY"] = json.dumps(
        {"conn_type": "generic", "password": evidence_key}
    )
    env.update(extra_env or {})
    return env


APPROVERS_VARIABLE_ENV = "AIRFLOW_VAR_OFFBOARDING_APPROVERS"
HR_OWNERS_VARIABLE_ENV = "AIRFLOW_VAR_OFFBOARDING_HR_OWNERS"
APPROVAL_READER_CONN_ENV = "AIRFLOW_CONN_OFFBOARDING_AIRFLOW_API"


def approval_env(
    api_url: str,
    roles: Mapping[str, str],
    passwords: Mapping[str, str],
    *,
    approvers: Sequence[str] | None = None,
    hr_owners: Sequence[str] | None = None,
) -> dict[str, str]:
    """The approval settings of a test deployment, as environment variables.

    * the Airflow Variables ``offboarding_approvers`` / ``offboarding_hr_owners`` (default: every user
      whose role is not ``viewer``; a case still refuses its trigger user, the person and the successor);
    * the Connection ``offboarding_airflow_api`` the deletion tasks read the approval through: the
      api-server, as the first ``viewer`` user (read-only), else the first ``admin``.
    """
    actors = [name for name, role in roles.items() if role != "viewer"]
    env = {
        APPROVERS_VARIABLE_ENV: json.dumps(list(approvers if approvers is not None else actors)),
        HR_OWNERS_VARIABLE_ENV: json.dumps(list(hr_owners if hr_owners is not None else actors)),
    }
    reader = next((n for n, r in roles.items() if r == "viewer"), None) or next(
        (n for n, r in roles.items() if r == "admin"), None
    )
    if reader is not None:
        env[APPROVAL_READER_CONN_ENV] = json.dumps(
            {"conn_type": "http", "host": api_url, "login": reader, "password": passwords[reader]}
        )
    return env


def made_up_passwords(roles: Mapping[str, str]) -> dict[str, str]:
    """A password per user that is not the user's name.

    The tasks read Airflow through a connection holding one user's password, and Airflow masks every
    connection password in task logs and errors: a password equal to a user name (``admin``) would turn
    that name into ``***`` wherever a task names the user.
    """
    return {name: f"{name}-{secrets.token_hex(6)}" for name in roles}


# ---------------------------------------------------------------------- which files hold DAGs


def _ignore_patterns(folder: Path) -> list[str]:
    ignore = folder / ".airflowignore"
    if not ignore.exists():
        return []
    lines = (line.split("#", 1)[0].strip() for line in ignore.read_text().splitlines())
    return [line for line in lines if line]


_DEFINES_A_DAG = re.compile(rb"\bDAG\s*\(|@dag\b")


def dag_files(folder: Path) -> list[str]:
    """Relative paths of the files that should each yield a DAG (or an import error) once parsed.

    Airflow's safe-mode heuristic (the file mentions both "airflow" and "dag") narrowed to files
    that construct a DAG (``DAG(`` or ``@dag``), so helper modules are not waited for; hidden
    paths, ``__pycache__`` and ``.airflowignore`` glob patterns are skipped.
    """
    patterns = _ignore_patterns(folder)
    found = []
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(folder).parts):
            continue
        if any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, f"{pat.rstrip('/')}/*") for pat in patterns):
            continue
        text = path.read_bytes()
        if b"airflow" in text.lower() and _DEFINES_A_DAG.search(text):
            found.append(rel)
    return found


# ---------------------------------------------------------------------- the running deployment


@dataclass
class RunningAirflow:
    """A started test Airflow: where it is, how to talk to it, and how to disturb it."""

    api_url: str
    home: Path
    env: dict[str, str]
    logs_dir: Path
    standalone_log: Path
    passwords: dict[str, str]
    startup_seconds: float = 0.0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _restarted: list[subprocess.Popen[bytes]] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        return f"RunningAirflow(api_url={self.api_url!r}, home={str(self.home)!r})"

    @property
    def pid(self) -> int:
        """Pid of the ``airflow standalone`` process (also its process-group id)."""
        assert self._process is not None
        return self._process.pid

    def api(self, user: str = "admin") -> AirflowApi:
        """A REST client logged in as one of the configured users."""
        if user not in self.passwords:
            raise ValueError(f"user: {user!r} is not one of the configured users {sorted(self.passwords)}")
        # SQLite under a dozen concurrent cases can hold the api-server for over a minute: the tests
        # wait for it (each read is also asked up to three times) instead of failing on a slow answer.
        return AirflowApi(self.api_url, username=user, password=self.passwords[user], timeout=API_TIMEOUT)

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the standalone log (all components' output)."""
        try:
            text = self.standalone_log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no standalone log)"
        return "\n".join(text.splitlines()[-lines:])

    def component_pids(self, command: str) -> list[int]:
        """Pids of the live ``airflow <command>`` processes of this deployment (e.g. ``triggerer``)."""
        return [p.pid for p in _group_members(self.pid) if _is_airflow_command(p, command)]

    def component_roots(self, command: str) -> list[int]:
        """Pids of the running ``airflow <command>`` main processes: started by ``airflow standalone`` or
        by :meth:`restart` (not the children they fork, nor orphans a dead one left behind)."""
        started_here = {proc.pid for proc in self._restarted}
        return [
            p.pid
            for p in _group_members(self.pid)
            if _is_airflow_command(p, command) and (p.ppid == self.pid or p.pid in started_here)
        ]

    def restart(self, command: str, *, hard: bool = False, timeout: float = 90.0) -> Path:
        """Stop ``airflow <command>`` (``scheduler``, ``triggerer`` or ``dag-processor``) if it runs, start
        it again with the same environment, and return when it heartbeats; returns its log file.

        ``hard=False`` sends SIGTERM (an orderly restart, e.g. a deployment); ``hard=True`` sends
        SIGKILL (a crash: a new triggerer claims the orphaned triggers once the old one's heartbeat is
        older than ``[triggerer] triggerer_health_check_threshold``).
        """
        if command not in HEARTBEATS:
            raise ValueError(f"command: {command!r} is not one of {sorted(HEARTBEATS)}")
        old = [p for p in _group_members(self.pid) if _is_airflow_command(p, command)]
        roots = [p for p in old if p.ppid not in {o.pid for o in old}]
        doomed = {p.pid for p in old}
        for root in roots:
            doomed.update(d.pid for d in _descendants(root.pid))
        stopped_at = datetime.now(UTC)
        for root in roots:
            _signal(root.pid, signal.SIGKILL if hard else signal.SIGTERM)
        if not _wait_gone(sorted(doomed), STOP_GRACE_SECONDS):
            for pid in doomed:
                _signal(pid, signal.SIGKILL)
            _wait_gone(sorted(doomed), 5.0)
        for proc in self._restarted:
            proc.poll()
        log = self.logs_dir / f"{command}-restart-{len(self._restarted) + 1}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(airflow_executable()), command],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=self.pid,
            )
        self._restarted.append(proc)
        self._wait_for_heartbeat(command, stopped_at, proc, log, timeout)
        return log

    def _wait_for_heartbeat(
        self, command: str, stopped_at: datetime, proc: subprocess.Popen[bytes], log: Path, timeout: float
    ) -> None:
        deadline = time.monotonic() + timeout
        with self.api() as api:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
                    raise RuntimeError(f"the restarted {command} exited with {proc.returncode}:\n{tail}")
                with contextlib.suppress(AirflowApiError):
                    beat = last_heartbeat(api.health(), command)
                    if beat is not None and beat > stopped_at:
                        return
                time.sleep(_POLL)
        raise RuntimeError(f"the restarted {command} did not heartbeat within {timeout:g}s (log: {log})")

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL to what is left after a grace period."""
        if self._process is None:
            return
        pgid = self._process.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            self._process.poll()
            for proc in self._restarted:
                proc.poll()
            if not _group_members(pgid):
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            _wait_gone([p.pid for p in _group_members(pgid)], 5.0)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        for proc in self._restarted:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        self._process = None


def _wait_until_ready(
    airflow: RunningAirflow,
    dags_folder: Path,
    dag_ids: list[str] | None,
    timeout: float,
    allow_import_errors: bool,
) -> None:
    """Wait for a healthy scheduler, DAG processor and triggerer, then for the DAG files to be parsed."""
    deadline = time.monotonic() + timeout
    # With explicit dag_ids, wait for exactly those; otherwise for every file that builds a DAG.
    expected_files = set() if dag_ids else set(dag_files(dags_folder))
    wanted_dags = set(dag_ids or [])
    api = airflow.api(next(iter(airflow.passwords)))
    last = "the api-server did not answer yet"
    try:
        while time.monotonic() < deadline:
            assert airflow._process is not None
            if airflow._process.poll() is not None:
                raise AirflowStartError(
                    f"airflow standalone exited with {airflow._process.returncode} during startup:\n"
                    f"{airflow.log_tail()}"
                )
            try:
                health = api.health()
                unhealthy = [
                    name
                    for name in ("metadatabase", "scheduler", "triggerer", "dag_processor")
                    if (health.get(name) or {}).get("status") != "healthy"
                ]
                if unhealthy:
                    last = f"components not healthy yet: {', '.join(unhealthy)}"
                else:
                    dags = api.list_dags()
                    errors = api.list_import_errors()
                    parsed = {d.get("relative_fileloc") for d in dags}
                    failed = {e.get("filename"): e.get("stack_trace", "") for e in errors}
                    if failed and not allow_import_errors:
                        text = "\n".join(f"--- {name}\n{trace}" for name, trace in failed.items())
                        raise AirflowStartError(f"DAG files failed to import:\n{text}")
                    missing_files = expected_files - parsed - set(failed)
                    missing_dags = wanted_dags - {d.get("dag_id") for d in dags}
                    if not missing_files and not missing_dags:
                        return
                    last = (
                        f"not parsed yet: {sorted(missing_files) + sorted(missing_dags)}; "
                        "if a file builds no DAG itself, pass dag_ids=[...] to wait for DAG ids instead"
                    )
            except AirflowApiError as exc:
                last = str(exc)
            time.sleep(_POLL)
    finally:
        api.close()
    raise AirflowStartError(f"Airflow not ready after {timeout:g}s ({last}):\n{airflow.log_tail()}")


@contextlib.contextmanager
def running_airflow(
    dags_folder: str | os.PathLike[str],
    *,
    plugins_folder: str | os.PathLike[str] = REPO_PLUGINS_FOLDER,
    users: str = "admin:admin",
    extra_env: Mapping[str, str] | None = None,
    port: int | None = None,
    home: str | os.PathLike[str] | None = None,
    dag_ids: list[str] | None = None,
    passwords: Mapping[str, str] | None = None,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    allow_import_errors: bool = False,
    approvers: Sequence[str] | None = None,
    hr_owners: Sequence[str] | None = None,
) -> Iterator[RunningAirflow]:
    """Start ``airflow standalone`` for a test and stop it afterwards.

    ``users`` is SimpleAuthManager's ``name:role,...``; each user's password is made up (see
    :func:`made_up_passwords`) unless ``passwords`` says otherwise. ``home`` defaults to a temp dir that is removed afterwards (set
    ``OFFBOARDING_KEEP_AIRFLOW_HOME=1`` to keep it for debugging). Startup waits for the DAG ids in
    ``dag_ids`` or, without them, for every file in ``dags_folder`` that builds a DAG (see
    ``dag_files``) to be parsed, and fails on import errors unless ``allow_import_errors``. Raises ``AirflowStartError`` with the log tail when startup fails.

    The deployment's approval settings are configured as a real deployment must (see
    :func:`approval_env`): the approver and HR-owner lists (``approvers``/``hr_owners``, default every
    user whose role is not ``viewer``) and the connection through which the deletion tasks read
    Airflow's record of the approval. ``extra_env`` overrides them.
    """
    dags = Path(dags_folder).resolve()
    if not dags.is_dir():
        raise ValueError(f"dags_folder: {dags} is not a directory")
    plugins = Path(plugins_folder).resolve()
    roles = parse_users(users)
    user_passwords = made_up_passwords(roles) | dict(passwords or {})
    own_home = home is None
    home_path = Path(tempfile.mkdtemp(prefix="offboarding-airflow-")) if own_home else Path(home).resolve()  # type: ignore[arg-type]
    home_path.mkdir(parents=True, exist_ok=True)
    passwords_file = home_path / "simple_auth_manager_passwords.json"
    passwords_file.write_text(json.dumps({name: user_passwords[name] for name in roles}))
    passwords_file.chmod(0o600)
    api_port = port or free_port()
    approval = approval_env(
        f"http://127.0.0.1:{api_port}",
        roles,
        {name: user_passwords[name] for name in roles},
        approvers=approvers,
        hr_owners=hr_owners,
    )
    env = build_env(
        home=home_path,
        dags_folder=dags,
        plugins_folder=plugins,
        port=api_port,
        users=roles,
        passwords_file=passwords_file,
        extra_env={**approval, **(extra_env or {})},
    )
    sqlite_in_wal_mode(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    standalone_log = home_path / "standalone.log"
    airflow = RunningAirflow(
        api_url=f"http://127.0.0.1:{api_port}",
        home=home_path,
        env=env,
        logs_dir=home_path / "logs",
        standalone_log=standalone_log,
        passwords={name: user_passwords[name] for name in roles},
    )
    started = time.monotonic()
    try:
        with standalone_log.open("ab") as out:
            airflow._process = subprocess.Popen(
                [str(airflow_executable()), "standalone"],
                env=env,
                cwd=home_path,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0,  # its own group in our session: restarted parts can join it
            )
        _wait_until_ready(airflow, dags, dag_ids, startup_timeout, allow_import_errors)
        airflow.startup_seconds = time.monotonic() - started
        yield airflow
    finally:
        airflow.stop()
        if own_home and os.environ.get("OFFBOARDING_KEEP_AIRFLOW_HOME") != "1":
            shutil.rmtree(home_path, ignore_errors=True)


# ---------------------------------------------------------------------- shared instances and stub DAGs


@contextlib.contextmanager
def recorded_paths(api: AirflowApi) -> Iterator[list[str]]:
    """The paths of the requests ``api`` sends inside the block, in order (to see what a caller reads)."""
    paths: list[str] = []
    send = api._send

    def recorded(method: str, path: str, **kwargs: Any) -> Any:
        paths.append(path)
        return send(method, path, **kwargs)

    api._send = recorded  # type: ignore[method-assign]
    try:
        yield paths
    finally:
        del api._send  # the class's method again


_SHARED: dict[tuple[Any, ...], tuple[contextlib.ExitStack, RunningAirflow]] = {}


def shared_airflow(dags_folder: str | os.PathLike[str], **kwargs: Any) -> RunningAirflow:
    """One ``running_airflow(dags_folder, **kwargs)`` per test process, stopped when the process exits.

    For session fixtures declared in several ``conftest.py`` files (sibling test folders cannot
    share a fixture): every call with the same arguments returns the same running Airflow.
    """
    key = (str(Path(dags_folder).resolve()), *sorted((k, repr(v)) for k, v in kwargs.items()))
    if key not in _SHARED:
        stack = contextlib.ExitStack()
        airflow = stack.enter_context(running_airflow(dags_folder, **kwargs))
        _SHARED[key] = (stack, airflow)
        if len(_SHARED) == 1:
            atexit.register(stop_shared_airflows)
    return _SHARED[key][1]


def stop_shared_airflows() -> None:
    """Stop every Airflow started by ``shared_airflow`` (also runs at interpreter exit)."""
    while _SHARED:
        _, (stack, _airflow) = _SHARED.popitem()
        stack.close()


STUB_DAGS: dict[str, str] = {
    "offboard_employee_stub.py": '''"""Stub of the person case DAG for client and bulk tests: the real trigger form, one no-op task."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from offboarding.cases import PERSON_DAG_ID, person_params

with DAG(PERSON_DAG_ID, schedule=None, params=person_params(), max_active_runs=64, tags=["stub"]):
    EmptyOperator(task_id="case_received")
''',
    "dissolve_company_stub.py": '''"""Stub of the company case DAG for client and bulk tests: the real trigger form, one no-op task."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from offboarding.cases import COMPANY_DAG_ID, company_params

with DAG(COMPANY_DAG_ID, schedule=None, params=company_params(), max_active_runs=64, tags=["stub"]):
    EmptyOperator(task_id="case_received")
''',
    "harness_check.py": '''"""Harness check: a task on a worker (Execution API reachable) then a deferred wait (triggerer)."""
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import DAG, Param, task

with DAG(
    "harness_check",
    schedule=None,
    params={"wait_seconds": Param(2, type="integer", minimum=0)},
    max_active_runs=8,
    tags=["stub"],
):

    @task
    def worker_ran() -> str:
        return "ok"

    wait = DateTimeSensorAsync(
        task_id="deferred_wait",
        target_time="{{ (dag_run.run_after + macros.timedelta(seconds=params.wait_seconds)).isoformat() }}",
    )
    worker_ran() >> wait
''',
    "harness_human_step.py": '''"""Harness check for human steps: one approval (HITL, awaiting_input) before a no-op task."""
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG

with DAG("harness_human_step", schedule=None, max_active_runs=8, tags=["stub"]):
    ApprovalOperator(task_id="approve", subject="Approve the harness check?") >> EmptyOperator(task_id="approved")
''',
}

#: A plugin file that makes the api-server validate ``format: cn-credit-code`` at run creation.
CASE_PLUGIN = '''"""Test plugin: the product's plugin (the case schemas' formats in every Airflow process, and the case
API that bulk-trigger asks for a member's earlier cases), without the repository's plugins folder."""
from offboarding.plugin import OffboardingPlugin

__all__ = ["OffboardingPlugin"]
'''

#: Users of the stub Airflow: name → SimpleAuthManager role (passwords: ``RunningAirflow.passwords``).
STUB_USERS = "admin:admin,hr_wang:user,auditor:viewer"


def write_stub_dags(root: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write the stub DAGs (``offboard_employee``, ``dissolve_company``, ``harness_check``,
    ``harness_human_step``) and the product's plugin under ``root``.

    Returns ``(dags_folder, plugins_folder)``, for tests of the REST client, the harness and the
    bulk CLI that must not depend on the real DAGs (the bulk CLI needs the plugin's case API).
    """
    dags = Path(root) / "dags"
    plugins = Path(root) / "plugins"
    dags.mkdir(parents=True, exist_ok=True)
    plugins.mkdir(parents=True, exist_ok=True)
    for name, text in STUB_DAGS.items():
        (dags / name).write_text(text)
    (plugins / "offboarding_plugin.py").write_text(CASE_PLUGIN)
    return dags, plugins


_STUB_ROOT: list[Path] = []


def stub_airflow() -> RunningAirflow:
    """The per-process shared Airflow running the stub DAGs with ``STUB_USERS`` (started on first use)."""
    if not _STUB_ROOT:
        root = Path(tempfile.mkdtemp(prefix="offboarding-stub-dags-"))
        atexit.register(shutil.rmtree, root, True)
        _STUB_ROOT.append(root)
    dags, plugins = write_stub_dags(_STUB_ROOT[0])
    return shared_airflow(dags, plugins_folder=plugins, users=STUB_USERS)


__all__ = [
    "AirflowStartError",
    "RunningAirflow",
    "approval_env",
    "dag_files",
    "free_port",
    "running_airflow",
    "shared_airflow",
    "stop_shared_airflows",
    "stub_airflow",
    "write_stub_dags",
]


def _main() -> int:  # pragma: no cover - a manual smoke check: python -m offboarding_dev.testing.airflow DAGS
    folder = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    with running_airflow(folder) as airflow:
        print(f"ready in {airflow.startup_seconds:.1f}s at {airflow.api_url}", flush=True)
        with airflow.api() as api:
            print(json.dumps(api.health(), indent=1))
            dags: Any = [d["dag_id"] for d in api.list_dags()]
            print("dags:", dags)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
