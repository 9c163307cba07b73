"""The distributed deployment as plain processes: PostgreSQL + Redis + Celery, no Docker engine needed.

``running_topology(dags_folder, users=..., extra_env=..., workers=2)`` mirrors ``docker-compose.yaml``
on one machine: it creates a fresh PostgreSQL database (dropped afterwards), claims two empty Redis
databases (the Celery broker and the WeCom token cache; flushed afterwards), runs ``airflow db migrate``
once, then starts ``airflow api-server``, ``scheduler``, ``dag-processor``, ``triggerer`` and N ×
``airflow celery worker`` as separate processes with ONE shared environment (Fernet key, JWT secret,
API secret key, Execution API address — trap 12 of the Airflow notes), SimpleAuthManager users and a
passwords file, and a shared ``OFFBOARDING_DATA_DIR``. Each component gets what a container would get
on its own: a hostname (so a task instance's ``hostname`` names the worker it ran on) and, for workers,
its own log-server port.

The yielded ``Topology`` disturbs the deployment the way an outage does — ``kill(component, index)``
is a SIGKILL of the component's whole process tree (a crashed container), ``restart(component, index)``
starts it again and waits until it is back — and stops everything on exit. Each start of a component
runs in a working directory of its own, which every process below it inherits, so a kill or the final
stop finds them all (also the task processes Airflow puts in process groups of their own, and orphans)
and nothing is left behind.

Nothing here imports Airflow: the components run in their own processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from offboarding.airflow_api import AirflowApi, AirflowApiError
from offboarding_dev.testing.airflow import (
    REPO_PLUGINS_FOLDER,
    airflow_executable,
    approval_env,
    build_env,
    dag_files,
    free_port,
    made_up_passwords,
    parse_users,
)

#: The PostgreSQL server and maintenance database the harness creates its databases from.
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
#: The Redis server whose empty databases the harness claims (the database number is chosen here).
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
#: ``1`` turns "PostgreSQL/Redis not reachable" from a skip into a failure (``.ci/run`` sets it).
REQUIRE_SERVICES_ENV = "OFFBOARDING_REQUIRE_SERVICES"

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "worker")
#: ``airflow <argv...>`` per component.
_COMMANDS: dict[str, tuple[str, ...]] = {
    "api-server": ("api-server",),
    "scheduler": ("scheduler",),
    "dag-processor": ("dag-processor",),
    "triggerer": ("triggerer",),
    "worker": ("celery", "worker"),
}
#: Components that report a heartbeat in ``/api/v2/monitor/health`` (name there, heartbeat key).
_HEARTBEATS: dict[str, tuple[str, str]] = {
    "scheduler": ("scheduler", "latest_scheduler_heartbeat"),
    "dag-processor": ("dag_processor", "latest_dag_processor_heartbeat"),
    "triggerer": ("triggerer", "latest_triggerer_heartbeat"),
}
#: Celery logs ``celery@<hostname> ready.`` once the worker consumes from the broker.
_WORKER_READY = " ready."
#: Environment variable read by ``component_hostname`` (Airflow's ``[core] hostname_callable``).
HOSTNAME_ENV = "OFFBOARDING_TOPOLOGY_HOSTNAME"
#: Comma-separated modules the Celery workers import before forking (``preload_modules``).
PRELOAD_ENV = "OFFBOARDING_TOPOLOGY_PRELOAD"
_CLAIM_KEY = "offboarding:topology:claimed-by"

DEFAULT_STARTUP_TIMEOUT = 420.0
DEFAULT_RESTART_TIMEOUT = 180.0
STOP_GRACE_SECONDS = 20.0
_POLL = 0.5


class TopologyStartError(RuntimeError):
    """The deployment (or a restarted component) did not become ready; the message has the log tails."""


def __getattr__(name: str) -> Any:
    """``CELERY_CONFIG``: Airflow's default Celery config, after importing ``OFFBOARDING_TOPOLOGY_PRELOAD``.

    Set as ``[celery] celery_config_options`` when ``running_topology(preload_modules=...)`` is given:
    the Celery worker resolves it before it forks its pool, so every task process starts with the DAGs'
    modules already imported instead of importing them again per task.
    """
    if name != "CELERY_CONFIG":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    for module in filter(None, os.environ.get(PRELOAD_ENV, "").split(",")):
        importlib.import_module(module.strip())
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

    return DEFAULT_CELERY_CONFIG


def component_hostname() -> str:
    """The host name of this Airflow process: its component's name in a topology, else the FQDN.

    Airflow's ``[core] hostname_callable``: a task instance's ``hostname`` then names the worker it runs
    on, as it would with one container per worker.
    """
    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()


# ---------------------------------------------------------------------- services


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


def unreachable_services(
    postgres_url: str = DEFAULT_POSTGRES_URL, redis_url: str = DEFAULT_REDIS_URL, timeout: float = 3.0
) -> list[str]:
    """Why PostgreSQL or Redis cannot be used (one line each); empty when both answer."""
    import psycopg2
    import redis

    problems: list[str] = []
    try:
        psycopg2.connect(postgres_url, connect_timeout=max(1, int(timeout))).close()
    except psycopg2.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        problems.append(f"PostgreSQL at {_where(postgres_url)} is not reachable: {first_line}")
    client = redis.Redis.from_url(
        _with_path(redis_url, "/0"), socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at {_where(redis_url)} is not reachable: {type(exc).__name__}: {exc}")
    finally:
        client.close()
    return problems


def services_verdict(problems: list[str], env: Mapping[str, str] | None = None) -> tuple[bool, str] | None:
    """``None`` when nothing is missing, else ``(must_fail, reason)``.

    ``must_fail`` is True when ``OFFBOARDING_REQUIRE_SERVICES=1`` (CI): a missing service is then a
    failure, not a skip.
    """
    if not problems:
        return None
    required = (os.environ if env is None else env).get(REQUIRE_SERVICES_ENV, "").strip() == "1"
    reason = "; ".join(problems)
    if required:
        return True, f"{reason} ({REQUIRE_SERVICES_ENV}=1: PostgreSQL and Redis are required)"
    return False, f"{reason} (set {REQUIRE_SERVICES_ENV}=1 to make this a failure)"


def _create_database(postgres_url: str, name: str) -> None:
    _database_ddl(postgres_url, "CREATE DATABASE {}", name)


def _drop_database(postgres_url: str, name: str) -> None:
    _database_ddl(postgres_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def _database_ddl(postgres_url: str, statement: str, name: str) -> None:
    """Run ``statement`` with the quoted database ``name`` (CREATE/DROP DATABASE need autocommit)."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(postgres_url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql.SQL(statement).format(sql.Identifier(name)))
    finally:
        conn.close()


@contextlib.contextmanager
def scratch_database(postgres_url: str = DEFAULT_POSTGRES_URL, prefix: str = "offboarding") -> Iterator[str]:
    """A new PostgreSQL database ``<prefix>_<id>`` for one deployment, dropped afterwards; yields its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _create_database(postgres_url, name)
    try:
        yield name
    finally:
        _drop_database(postgres_url, name)


def sqlalchemy_url(postgres_url: str, database: str) -> str:
    """Airflow's ``sql_alchemy_conn`` for ``database`` on the server of ``postgres_url`` (psycopg2)."""
    return urlunsplit(("postgresql+psycopg2", urlsplit(postgres_url).netloc, f"/{database}", "", ""))


def database_exists(postgres_url: str, name: str) -> bool:
    """True when the PostgreSQL server at ``postgres_url`` has a database called ``name``."""
    import psycopg2

    conn = psycopg2.connect(postgres_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cur.fetchone() is not None
    finally:
        conn.close()


def _claim_redis_db(redis_url: str, owner: str, taken: set[int]) -> int:
    """Claim an empty Redis database (highest number first: low ones are what deployments use)."""
    import redis

    first = redis.Redis.from_url(_with_path(redis_url, "/0"))
    try:
        try:
            count = int(first.config_get("databases").get("databases", 16))
        except redis.RedisError:  # CONFIG may be disabled; 16 is Redis's default
            count = 16
    finally:
        first.close()
    for number in range(count - 1, 0, -1):
        if number in taken:
            continue
        client = redis.Redis.from_url(_with_path(redis_url, f"/{number}"))
        try:
            if client.dbsize() == 0 and client.set(_CLAIM_KEY, owner, nx=True):
                if client.dbsize() == 1:
                    return number
                client.delete(_CLAIM_KEY)  # someone else wrote here at the same moment: not free
        finally:
            client.close()
    raise TopologyStartError(f"no empty Redis database left at {_where(redis_url)} (checked {count - 1})")


def _flush_redis_db(redis_url: str, number: int) -> None:
    import redis

    client = redis.Redis.from_url(_with_path(redis_url, f"/{number}"))
    try:
        client.flushdb()
    finally:
        client.close()


# ---------------------------------------------------------------------- processes (/proc)


def _processes_under(folder: Path) -> list[int]:
    """Live (not zombie) processes whose working directory is ``folder`` or below it.

    Every component runs in a working directory of its own and its children (Celery's pool, task
    supervisors, task processes in their own process groups, orphans of a killed parent) inherit it,
    so this finds a component's processes whatever their parent, group or process title.
    """
    root = str(folder)
    found = []
    own = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == own:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if stat[stat.rfind(")") + 2 :].split(" ", 1)[0] == "Z":
            continue
        cwd = cwd.removesuffix(" (deleted)")
        if cwd == root or cwd.startswith(root + os.sep):
            found.append(int(entry))
    return found


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _kill_under(folder: Path, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process working under ``folder``: freeze them all first, so none forks a new one."""
    frozen: set[int] = set()
    while fresh := [pid for pid in _processes_under(folder) if pid not in frozen]:
        for pid in fresh:
            _signal(pid, signal.SIGSTOP)
        frozen.update(fresh)
    for pid in frozen:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while _processes_under(folder) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sorted(frozen)


# ---------------------------------------------------------------------- the deployment


@dataclass
class _Component:
    """One started component process (a generation: a restart starts a new one)."""

    name: str
    index: int
    generation: int
    process: subprocess.Popen[bytes]
    log: Path
    workdir: Path  # every process of this start works here (how they are found, whatever their parent)
    started_at: datetime


@dataclass
class Topology:
    """A started process topology: where it is, how to talk to it, and how to disturb it."""

    api_url: str
    home: Path
    env: dict[str, str]
    database: str
    postgres_url: str
    broker_url: str
    token_cache_url: str
    data_dir: Path
    logs_dir: Path
    passwords: dict[str, str]
    workers: int
    topology_id: str
    startup_seconds: float = 0.0
    _worker_log_ports: list[int] = field(default_factory=list, repr=False)
    _current: dict[tuple[str, int], _Component] = field(default_factory=dict, repr=False)
    _generations: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)
    _started: list[_Component] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:  # never the passwords or the shared secrets in env
        return f"Topology(api_url={self.api_url!r}, database={self.database!r}, workers={self.workers})"

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one SQL statement on the deployment's metadata database (autocommit)."""
        import psycopg2

        conn = psycopg2.connect(_with_path(self.postgres_url, f"/{self.database}"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, tuple(args))
                return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    # -- talking to it ---------------------------------------------------------------------------
    def api(self, user: str = "admin") -> AirflowApi:
        """A REST client logged in as one of the configured users."""
        if user not in self.passwords:
            raise ValueError(f"user: {user!r} is not one of the configured users {sorted(self.passwords)}")
        return AirflowApi(self.api_url, username=user, password=self.passwords[user])

    def worker_hostname(self, index: int) -> str:
        """The ``hostname`` Airflow records for task instances run by worker ``index``."""
        self._check(("worker", index))
        return f"topology-{self.topology_id[:8]}-worker-{index}"

    def worker_index(self, hostname: str) -> int:
        """Which worker a task instance's ``hostname`` names; ValueError when none of them."""
        for index in range(self.workers):
            if self.worker_hostname(index) == hostname:
                return index
        raise ValueError(f"hostname: {hostname!r} is not one of this topology's {self.workers} workers")

    # -- logs ------------------------------------------------------------------------------------
    def log_path(self, component: str, index: int = 0) -> Path:
        """The log file of the component's current (latest) process."""
        return self._get(component, index).log

    def log_tail(self, component: str, index: int = 0, lines: int = 60) -> str:
        """The last ``lines`` lines of the component's current log."""
        try:
            text = self.log_path(component, index).read_text(errors="replace")
        except FileNotFoundError:
            return "(no log yet)"
        return "\n".join(text.splitlines()[-lines:])

    def logs(self, lines: int = 30) -> str:
        """The tail of every component's current log, for a failure message."""
        return "\n".join(
            f"===== {name}-{index} ({comp.log.name})\n{self.log_tail(name, index, lines)}"
            for (name, index), comp in sorted(self._current.items())
        )

    # -- processes -------------------------------------------------------------------------------
    def pids(self, component: str, index: int = 0) -> list[int]:
        """Live processes of the component's current generation (its whole tree, task processes too)."""
        return _processes_under(self._get(component, index).workdir)

    def is_running(self, component: str, index: int = 0) -> bool:
        """True while the component's current main process is alive."""
        return self._get(component, index).process.poll() is None

    def leftover_processes(self) -> list[int]:
        """Every live process started by this topology (any component, any generation)."""
        return _processes_under(self.run_dir)

    def kill(self, component: str, index: int = 0) -> list[int]:
        """SIGKILL the component's whole process tree, as a crashed container; returns the killed pids."""
        comp = self._get(component, index)
        killed = _kill_under(comp.workdir)
        with contextlib.suppress(subprocess.TimeoutExpired):
            comp.process.wait(timeout=5)
        return killed

    def restart(self, component: str, index: int = 0, *, timeout: float = DEFAULT_RESTART_TIMEOUT) -> None:
        """Start the component again (stopping it first if it still runs); return once it is ready.

        Ready means: the api-server answers; the scheduler, DAG processor or triggerer heartbeats
        after the restart; a Celery worker logged that it consumes from the broker.
        """
        key = (component, index)
        self._check(key)
        if key in self._current and self.is_running(component, index):
            self._stop_one(self._current[key])
        comp = self._start(component, index)
        with self.api(next(iter(self.passwords))) as api:
            self._wait_ready([comp], api, timeout)

    def stop(self) -> None:
        """SIGTERM every component, SIGKILL whatever is left after a grace period, reap everything."""
        current = list(self._current.values())
        for comp in current:
            if comp.process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(comp.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and any(c.process.poll() is None for c in current):
            time.sleep(0.2)
        _kill_under(self.run_dir)
        for comp in self._started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                comp.process.wait(timeout=5)

    # -- internals -------------------------------------------------------------------------------
    def _check(self, key: tuple[str, int]) -> None:
        name, index = key
        if name not in COMPONENTS:
            raise ValueError(f"component: {name!r} is not one of {list(COMPONENTS)}")
        count = self.workers if name == "worker" else 1
        if not 0 <= index < count:
            raise ValueError(f"index: {name} has indexes 0..{count - 1}, got {index}")

    def _get(self, component: str, index: int) -> _Component:
        self._check((component, index))
        if (component, index) not in self._current:
            raise ValueError(f"{component}-{index} was never started")
        return self._current[(component, index)]

    @property
    def run_dir(self) -> Path:
        """Parent of every component's working directory (one per start of a component)."""
        return self.home / "run"

    def _start(self, component: str, index: int) -> _Component:
        key = (component, index)
        generation = self._generations.get(key, 0) + 1
        self._generations[key] = generation
        env = dict(self.env)
        argv = [str(airflow_executable()), *_COMMANDS[component]]
        if component == "worker":
            env[HOSTNAME_ENV] = self.worker_hostname(index)
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self._worker_log_ports[index])
            argv += ["--celery-hostname", f"worker-{index}@topology-{self.topology_id[:8]}"]
        else:
            env[HOSTNAME_ENV] = f"topology-{self.topology_id[:8]}-{component}"
        log = self.logs_dir / f"{component}-{index}.{generation}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        workdir = self.run_dir / f"{component}-{index}.{generation}"
        workdir.mkdir(parents=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0,  # its own group: a signal to it never reaches the test process
            )
        comp = _Component(component, index, generation, process, log, workdir, datetime.now(UTC))
        self._current[key] = comp
        self._started.append(comp)
        return comp

    def _stop_one(self, comp: _Component) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(comp.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            comp.process.wait(timeout=STOP_GRACE_SECONDS)
        _kill_under(comp.workdir)

    def _component_ready(self, comp: _Component, health: Mapping[str, Any] | None) -> bool:
        if comp.name == "api-server":
            return health is not None
        if comp.name == "worker":
            with contextlib.suppress(FileNotFoundError):
                return _WORKER_READY in comp.log.read_text(errors="replace")
            return False
        if health is None:
            return False
        section, key = _HEARTBEATS[comp.name]
        status = health.get(section) or {}
        beat = status.get(key)
        return (
            status.get("status") == "healthy"
            and bool(beat)
            and datetime.fromisoformat(str(beat).replace("Z", "+00:00")) > comp.started_at
        )

    def _wait_ready(self, comps: list[_Component], api: AirflowApi, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(comps)
        while waiting:
            for comp in waiting:
                if comp.process.poll() is not None:
                    raise TopologyStartError(
                        f"{comp.name}-{comp.index} exited with {comp.process.returncode}:\n"
                        f"{self.log_tail(comp.name, comp.index)}"
                    )
            health: dict[str, Any] | None = None
            with contextlib.suppress(AirflowApiError):
                health = api.health()
            waiting = [c for c in waiting if not self._component_ready(c, health)]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{c.name}-{c.index}" for c in waiting)
                tails = "\n".join(
                    f"===== {c.name}-{c.index}\n{self.log_tail(c.name, c.index, 30)}" for c in waiting
                )
                raise TopologyStartError(f"not ready after {timeout:g}s: {names}\n{tails}")
            if waiting:
                time.sleep(_POLL)


def _wait_for_dags(
    topology: Topology,
    api: AirflowApi,
    dags_folder: Path,
    dag_ids: list[str] | None,
    timeout: float,
    allow_import_errors: bool,
) -> None:
    """Wait until every DAG file (or every DAG id asked for) is parsed; fail on import errors."""
    deadline = time.monotonic() + timeout
    expected_files = set() if dag_ids else set(dag_files(dags_folder))
    wanted = set(dag_ids or [])
    last = "the api-server did not list the DAGs yet"
    while time.monotonic() < deadline:
        try:
            dags = api.list_dags()
            failed = {e.get("filename"): e.get("stack_trace", "") for e in api.list_import_errors()}
        except AirflowApiError as exc:
            last = str(exc)
        else:
            if failed and not allow_import_errors:
                text = "\n".join(f"--- {name}\n{trace}" for name, trace in failed.items())
                raise TopologyStartError(f"DAG files failed to import:\n{text}")
            missing = (expected_files - {d.get("relative_fileloc") for d in dags} - set(failed)) | (
                wanted - {d.get("dag_id") for d in dags}
            )
            if not missing:
                return
            last = f"not parsed yet: {sorted(missing)}"
        time.sleep(_POLL)
    raise TopologyStartError(f"DAGs not ready after {timeout:g}s ({last}):\n{topology.logs()}")


def _migrate(env: Mapping[str, str], home: Path, log: Path, timeout: float) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        try:
            result = subprocess.run(
                [str(airflow_executable()), "db", "migrate"],
                env=dict(env),
                cwd=home,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TopologyStartError(
                f"airflow db migrate took longer than {timeout:g}s (log: {log})"
            ) from None
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise TopologyStartError(f"airflow db migrate failed with {result.returncode}:\n{tail}")


def topology_env(
    *,
    base: Mapping[str, str],
    sql_alchemy_conn: str,
    result_backend: str,
    broker_url: str,
    token_cache_url: str,
    data_dir: Path,
    workers: int,
    worker_concurrency: int,
    preload_modules: Sequence[str] = (),
) -> dict[str, str]:
    """``base`` (``build_env``'s shared secrets and addresses) turned into the Celery topology's env."""
    env = dict(base)
    if preload_modules:
        env[PRELOAD_ENV] = ",".join(preload_modules)
        env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] = f"{__name__}.CELERY_CONFIG"
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn,
            # Many processes share one small PostgreSQL: keep each pool modest.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "4",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "6",
            "AIRFLOW__CELERY__BROKER_URL": broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
            # Twice the workers' slots: the scheduler learns that a task finished a loop or two late, and
            # the next tasks should already wait in the broker meanwhile.
            "AIRFLOW__CORE__PARALLELISM": str(2 * workers * worker_concurrency),
            # The DAG files do not change during a test: parse them once, not every 10 s.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "500",
            # As docker-compose.yaml: short scheduler loops, the nudged (active) cases first.
            "AIRFLOW__SCHEDULER__MAX_DAGRUNS_PER_LOOP_TO_SCHEDULE": "5",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.component_hostname",
            # A crashed worker's running tasks are noticed within a minute (default 5 minutes) ...
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "45",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            # ... and the tasks it had received but not started are queued again (default 10 minutes).
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "15",
            "OFFBOARDING_TOKEN_CACHE_URL": token_cache_url,
            "OFFBOARDING_DATA_DIR": str(data_dir),
        }
    )
    return env


@contextlib.contextmanager
def running_topology(
    dags_folder: str | os.PathLike[str],
    *,
    users: str = "admin:admin",
    extra_env: Mapping[str, str] | None = None,
    workers: int = 2,
    worker_concurrency: int = 4,
    preload_modules: Sequence[str] = (),
    plugins_folder: str | os.PathLike[str] = REPO_PLUGINS_FOLDER,
    passwords: Mapping[str, str] | None = None,
    dag_ids: list[str] | None = None,
    allow_import_errors: bool = False,
    postgres_url: str = DEFAULT_POSTGRES_URL,
    redis_url: str = DEFAULT_REDIS_URL,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    approvers: Sequence[str] | None = None,
    hr_owners: Sequence[str] | None = None,
    database_prefix: str = "offboarding_topology",
) -> Iterator[Topology]:
    """Start the Celery topology for a test and tear all of it down afterwards.

    ``users`` is SimpleAuthManager's ``name:role,...``; each password is made up unless
    ``passwords`` says otherwise. ``workers`` Celery workers run ``worker_concurrency`` tasks each;
    ``preload_modules`` (e.g. the DAGs' workflow modules) are imported by each worker before it
    forks, which saves every task process importing them (about 0.5 s of CPU per task here). ``extra_env`` goes to every component, last (connections, data
    folders, overrides). Startup waits for every component and for the DAG files (or ``dag_ids``)
    to be parsed. The home folder is removed afterwards unless ``OFFBOARDING_KEEP_AIRFLOW_HOME=1``.

    The approval settings are those of ``running_airflow`` (see ``approval_env``): the approver and
    HR-owner lists (``approvers``/``hr_owners``, default every user whose role is not ``viewer``) and the
    connection the deletion tasks read Airflow's record of the approval through; ``extra_env`` overrides.
    ``database_prefix`` names the scratch PostgreSQL database (``<prefix>_<id>``; e.g. a bench's own).
    """
    dags = Path(dags_folder).resolve()
    if not dags.is_dir():
        raise ValueError(f"dags_folder: {dags} is not a directory")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: must be a whole number >= 1, got {workers!r}")
    if (
        isinstance(worker_concurrency, bool)
        or not isinstance(worker_concurrency, int)
        or worker_concurrency < 1
    ):
        raise ValueError(f"worker_concurrency: must be a whole number >= 1, got {worker_concurrency!r}")
    roles = parse_users(users)
    user_passwords = made_up_passwords(roles) | dict(passwords or {})
    topology_id = uuid.uuid4().hex
    home = Path(tempfile.mkdtemp(prefix="offboarding-topology-"))
    redis_dbs: list[int] = []
    topology: Topology | None = None
    started = time.monotonic()
    database_scope = contextlib.ExitStack()
    try:
        passwords_file = home / "simple_auth_manager_passwords.json"
        passwords_file.write_text(json.dumps({name: user_passwords[name] for name in roles}))
        passwords_file.chmod(0o600)
        database = database_scope.enter_context(scratch_database(postgres_url, database_prefix))
        redis_dbs.append(_claim_redis_db(redis_url, topology_id, set()))
        redis_dbs.append(_claim_redis_db(redis_url, topology_id, set(redis_dbs)))
        pg = urlsplit(postgres_url)
        port = free_port()
        approval = approval_env(
            f"http://127.0.0.1:{port}",
            roles,
            {name: user_passwords[name] for name in roles},
            approvers=approvers,
            hr_owners=hr_owners,
        )
        base = build_env(
            home=home,
            dags_folder=dags,
            plugins_folder=Path(plugins_folder).resolve(),
            port=port,
            users=roles,
            passwords_file=passwords_file,
            extra_env=approval,
        )
        env = topology_env(
            base=base,
            sql_alchemy_conn=sqlalchemy_url(postgres_url, database),
            result_backend=urlunsplit(("db+postgresql", pg.netloc, f"/{database}", "", "")),
            broker_url=_with_path(redis_url, f"/{redis_dbs[0]}"),
            token_cache_url=_with_path(redis_url, f"/{redis_dbs[1]}"),
            data_dir=home / "offboarding-data",
            workers=workers,
            worker_concurrency=worker_concurrency,
            preload_modules=preload_modules,
        )
        env.update(extra_env or {})
        topology = Topology(
            api_url=f"http://127.0.0.1:{port}",
            home=home,
            env=env,
            database=database,
            postgres_url=postgres_url,
            broker_url=env["AIRFLOW__CELERY__BROKER_URL"],
            token_cache_url=env["OFFBOARDING_TOKEN_CACHE_URL"],
            data_dir=Path(env["OFFBOARDING_DATA_DIR"]),
            logs_dir=home / "component-logs",
            passwords={name: user_passwords[name] for name in roles},
            workers=workers,
            topology_id=topology_id,
            _worker_log_ports=[free_port() for _ in range(workers)],
        )
        _migrate(env, home, topology.logs_dir / "db-migrate.log", startup_timeout)
        comps = [topology._start(name, 0) for name in COMPONENTS if name != "worker"]
        comps += [topology._start("worker", index) for index in range(workers)]
        with topology.api(next(iter(roles))) as api:
            remaining = startup_timeout - (time.monotonic() - started)
            topology._wait_ready(comps, api, max(remaining, 30.0))
            remaining = startup_timeout - (time.monotonic() - started)
            _wait_for_dags(topology, api, dags, dag_ids, max(remaining, 30.0), allow_import_errors)
        topology.startup_seconds = time.monotonic() - started
        yield topology
    finally:
        if topology is not None:
            topology.stop()
        _kill_under(home / "run")
        for number in redis_dbs:
            with contextlib.suppress(Exception):
                _flush_redis_db(redis_url, number)
        database_scope.close()
        if os.environ.get("OFFBOARDING_KEEP_AIRFLOW_HOME") != "1":
            shutil.rmtree(home, ignore_errors=True)


__all__ = [
    "COMPONENTS",
    "DEFAULT_POSTGRES_URL",
    "DEFAULT_REDIS_URL",
    "REQUIRE_SERVICES_ENV",
    "Topology",
    "TopologyStartError",
    "component_hostname",
    "database_exists",
    "running_topology",
    "scratch_database",
    "services_verdict",
    "sqlalchemy_url",
    "topology_env",
    "unreachable_services",
]
