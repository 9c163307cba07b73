"""Capacity: N cases in flight on the distributed deployment, against the same deployment with none.

The deployment is the one ``tests/distributed`` runs, as processes (``offboarding_dev.testing.topology``):
PostgreSQL (a scratch database named ``offboarding_capacity_<id>``), Redis (Celery broker, token cache
and the shared WeCom rate limits), two Celery workers, scheduler, triggerer, dag-processor and
api-server; WeCom is a sandbox with ``members:M``.

1. **Empty**: with 0 cases in flight, ``new_cases`` persons are triggered through the REST API; measured
   are the time from the trigger to the first task started and to ``backup.verify_backup_manifest``
   succeeded, the scheduler loop time (StatsD ``scheduler.scheduler_loop_duration``, sent by every loop
   to the bench's UDP listener), the triggerer's RSS and CPU, and the api-server's answer time for the
   cases page's first page (``GET /offboarding/api/cases``) and for the trigger endpoint.
2. **In flight**: N cases are written into the metadata database exactly as Airflow records them
   (``offboarding_dev.inflight``: ``create_dagrun``, task instances, ``trigger`` rows with encrypted
   kwargs, ``task_reschedule`` rows for the legal waits parked until their last hours, ``hitl_detail``
   rows): persons waiting for their last working day, for the customer takeover
   (their customers really handed over in the sandbox first, so the transfer waits really poll WeCom and
   keep waiting), for the end of the cooling-off, human steps awaiting input, and companies in the notice
   wait. The time waits are written last, so the triggerer's growth from them alone is measured. The
   triggerer claims every deferred wait; then the same measurements run again with new cases.
3. **Genuine**: once phase 2 is measured, a sample of the synthesized last-working-day waits (parked,
   their last working day a month away) is woken the way ops would: a case *reschedule* to today through
   the REST API. It is then driven for real, by the scheduler and workers, up to its verified backup (and
   its approval request): the synthesized state is one the deployment runs on. The sample wakes after
   the measurement, so phase 2 measures the same new cases as phase 1 and nothing else.

Also: metadata database size per case in flight (``pg_database_size`` before/after the synthesis),
WeCom reads per hour while the transfer waits poll (sandbox counters over the observation window, at
the compressed poll interval, scaled to the policy's 60-minute interval and to 2,500 waits) and the
TCP sockets the triggerer holds to WeCom.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.environment import REPO
from benchmarks.results import Goal, Row
from benchmarks.sizes import Size

SHIM = Path(__file__).resolve().parent / "statsd_shim"
LOOP_METRIC = "scheduler.scheduler_loop_duration"
WORKERS = 2
WORKER_CONCURRENCY = 4
PRELOADED = (
    "offboarding.workflows.person",
    "offboarding.workflows.deregistration",
    "offboarding.workflows.company",
)
USERS = {"admin": "admin", "hr": "user", "approver": "user", "legal_rep": "user", "finance": "user"}
#: The case time scale of the synthesized transfer waits at the quick size: the policy's 60-minute poll
#: every 30 s, so the short window sees enough polls. The full size's 2,500 waits poll at 12× (every
#: 5 minutes, 8 polls a second in all): at 120× they alone would keep one of the machine's 2 cores busy
#: and the scheduler's loop would measure that, not the cases in flight.
TAKEOVER_TIME_SCALE = 120.0
FULL_TAKEOVER_TIME_SCALE = 12.0
POLICY_POLL_SECONDS = 3600.0
DEPLOYMENT_TRANSFER_WAITS = 2500
#: Shares of the in-flight persons by what they wait for (the rest: human steps awaiting input).
SHARES = {"last_day": 0.3, "takeover": 0.25, "cooling_off": 0.25}

#: A shared 2-core machine may need minutes to start seven Airflow processes.
STARTUP_TIMEOUT = 1200.0

FIRST_TASK_GOAL = Goal.at_most(30.0, "s")
RATIO_GOAL = Goal.ratio_at_most(2.0)
PAGE_GOAL = Goal.at_most(1.0, "s")
#: Issue 15: the triggerer holds every wait with under 5 KB per time wait.
WAIT_MEMORY_GOAL = Goal.at_most(5.0, "KB")
#: A watchdog round must end within the default watchdog interval (15 minutes), or rounds pile up.
WATCHDOG_GOAL = Goal.at_most(900.0, "s")


@dataclass
class Sizes:
    in_flight: int
    companies: int
    new_cases: int
    sample: int
    observe_seconds: float
    takeover_time_scale: float = TAKEOVER_TIME_SCALE

    @classmethod
    def of(cls, size: Size) -> Sizes:
        return cls(
            in_flight=size.pick(200, 10_000),
            companies=size.pick(2, 100),
            new_cases=size.pick(3, 20),
            sample=size.pick(3, 20),
            observe_seconds=size.pick(45.0, 180.0),
            takeover_time_scale=size.pick(TAKEOVER_TIME_SCALE, FULL_TAKEOVER_TIME_SCALE),
        )


# ---------------------------------------------------------------------- StatsD listener


class LoopTimes:
    """Receives StatsD lines on a UDP port and keeps the scheduler loop durations (seconds, with times)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535).decode("utf-8", "replace")
            except OSError:
                continue
            for line in data.splitlines():
                name, _, rest = line.partition(":")
                if name.endswith(LOOP_METRIC) and rest.endswith("|ms"):
                    self.samples.append((time.monotonic(), float(rest[:-3]) / 1000.0))

    def between(self, start: float, end: float) -> list[float]:
        return [v for t, v in self.samples if start <= t <= end]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


# ---------------------------------------------------------------------- numbers


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100.0 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class Phase:
    """What one phase (empty / in flight) measured."""

    name: str
    first_task: list[float] = field(default_factory=list)
    backup_verified: list[float] = field(default_factory=list)
    loops: list[float] = field(default_factory=list)
    trigger_calls: list[float] = field(default_factory=list)
    page_times: list[float] = field(default_factory=list)
    triggerer_rss_mb: float = 0.0
    triggerer_cpu_per_hour: float = 0.0
    triggerer_sockets: int = 0
    triggerer_files: int = 0
    transfer_reads: int = 0
    seconds: float = 0.0
    watchdog_seconds: float = 0.0
    watchdog_requests: int = 0
    watched_steps: int = 0
    watchdog_window: tuple[float, float] = (0.0, 0.0)
    watchdog_detail: str = ""
    loops_outside_watchdog: list[float] = field(default_factory=list)


def _triggerer_pids(topology: Any) -> list[int]:
    return topology.pids("triggerer")


def _process_stats(pids: Sequence[int]) -> tuple[float, float]:
    """(RSS in MB, CPU seconds) summed over the processes."""
    import psutil

    rss = cpu = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            rss += proc.memory_info().rss
            times = proc.cpu_times()
            cpu += times.user + times.system
    return rss / 1e6, cpu


def _open_files(pids: Sequence[int]) -> int:
    """File descriptors the processes hold (the triggerer keeps each waiting trigger's log file open)."""
    import psutil

    count = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            count += psutil.Process(pid).num_fds()
    return count


def _sockets_to(pids: Sequence[int], port: int) -> int:
    import psutil

    count = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            for conn in psutil.Process(pid).net_connections(kind="tcp"):
                if conn.raddr and conn.raddr.port == port and conn.status == "ESTABLISHED":
                    count += 1
    return count


# ---------------------------------------------------------------------- database


def _query(topology: Any, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return topology.query(sql, args)


def _analyze(topology: Any) -> None:
    """Refresh the planner's statistics, as PostgreSQL's autovacuum does within a minute of a bulk change.

    Without them, after 360,000 task instances were written at once, the scheduler's queries are planned
    for the empty tables: its critical section took 35 % of its wall time instead of 9 % (py-spy, 10,000
    cases in flight). A deployment's PostgreSQL runs autovacuum (the default); this machine's may not
    (``_autovacuum_enabled`` says which).
    """
    _query(topology, "ANALYZE")


def _autovacuum_enabled(topology: Any) -> bool:
    return str(_query(topology, "SHOW autovacuum")[0][0]).lower() == "on"


def _database_bytes(topology: Any) -> int:
    return int(_query(topology, "SELECT pg_database_size(current_database())")[0][0])


def _case_progress(topology: Any, run_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per run: queued_at, first task start, backup verified end (None until then)."""
    rows = _query(
        topology,
        """
        SELECT dr.run_id, dr.queued_at, min(ti.start_date),
               max(ti.end_date) FILTER (WHERE ti.task_id = 'backup.verify_backup_manifest'
                                          AND ti.state = 'success'),
               max(ti.state) FILTER (WHERE ti.task_id = 'backup.verify_backup_manifest')
        FROM dag_run dr LEFT JOIN task_instance ti ON ti.dag_id = dr.dag_id AND ti.run_id = dr.run_id
        WHERE dr.run_id = ANY(%s) GROUP BY dr.run_id, dr.queued_at
        """,
        (list(run_ids),),
    )
    return {r[0]: {"queued": r[1], "first": r[2], "verified": r[3], "state": r[4]} for r in rows}


def _failed_tasks(topology: Any, run_ids: Sequence[str]) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in _query(
            topology,
            "SELECT run_id, task_id FROM task_instance WHERE run_id = ANY(%s) AND state = 'failed'",
            (list(run_ids),),
        )
    ]


def _wait_backups(topology: Any, run_ids: Sequence[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        progress = _case_progress(topology, run_ids)
        if all(p["verified"] is not None for p in progress.values()) and len(progress) == len(run_ids):
            return progress
        failed = _failed_tasks(topology, run_ids)
        if failed:
            raise RuntimeError(f"cases failed before their backup was verified: {failed[:5]}")
        if time.monotonic() > deadline:
            missing = [r for r in run_ids if (progress.get(r) or {}).get("verified") is None]
            raise RuntimeError(f"{len(missing)} cases without a verified backup after {timeout:.0f} s")
        time.sleep(1.0)


def _wait_state(topology: Any, run_ids: Sequence[str], task_id: str, state: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        reached = _query(
            topology,
            "SELECT count(*) FROM task_instance WHERE run_id = ANY(%s) AND task_id = %s AND state = %s",
            (list(run_ids), task_id, state),
        )[0][0]
        if reached >= len(run_ids):
            return
        failed = _failed_tasks(topology, run_ids)
        if failed:
            raise RuntimeError(f"cases failed before {task_id} was {state}: {failed[:5]}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{reached} of {len(run_ids)} cases reached {task_id} {state} in {timeout:.0f} s"
            )
        time.sleep(2.0)


# ---------------------------------------------------------------------- the phases


#: New cases leave today (Asia/Shanghai): their last-working-day wait ends at 24:00, a legal day compressed
#: into one wall second, as in the rehearsals; nothing before the verified backup depends on the scale.
NEW_CASE_TIME_SCALE = 86400.0


def _new_person_conf(
    userid: str, successor: str, time_scale: float = NEW_CASE_TIME_SCALE, days_ahead: int = 0
) -> dict[str, Any]:
    from offboarding_dev.rehearsal.samples import SamplePerson, person_case, today_in_shanghai

    person = SamplePerson(userid, f"成员{userid[1:]}", successor_userid=successor)
    day = today_in_shanghai() + dt.timedelta(days=days_ahead)
    return dict(person_case(person, last_working_day=day, time_scale=time_scale).conf)


#: The sample's last working day when synthesized: a month away, so its wait stays parked until woken.
SAMPLE_DAYS_AHEAD = 30


def _wake_sample(api: Any, run_ids: Sequence[str]) -> None:
    """Move each sample case's last working day to today (Asia/Shanghai), as ops would through the cases
    page: the product's reschedule clears the parked wait, which then finds the day ended."""
    from offboarding_dev.rehearsal.samples import today_in_shanghai

    today = today_in_shanghai().isoformat()
    for run_id in run_ids:
        api.case_action(
            run_id, "reschedule", {"last_working_day": today, "reason": "capacity bench: the sample runs"}
        )


def _measure_phase(
    name: str,
    topology: Any,
    api: Any,
    sandbox: Any,
    loops: LoopTimes,
    members: Sequence[str],
    successor: str,
    sizes: Sizes,
    workdir: Path,
) -> Phase:
    import requests

    phase = Phase(name)
    _analyze(topology)
    began = time.monotonic()
    pids = _triggerer_pids(topology)
    rss0, cpu0 = _process_stats(pids)
    stats0 = sandbox.control.stats(include_writes=False)["calls"]
    token = api._token or (api.login() or api._token)
    page = requests.Session()
    for _ in range(5):
        t0 = time.perf_counter()
        response = page.get(
            f"{topology.api_url}/offboarding/api/cases",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        phase.page_times.append(time.perf_counter() - t0)
        response.raise_for_status()
    run_ids = []
    for userid in members:
        run_id = f"offboard-{userid}"
        t0 = time.perf_counter()
        api.trigger_dag_run("offboard_employee", run_id, _new_person_conf(userid, successor))
        phase.trigger_calls.append(time.perf_counter() - t0)
        run_ids.append(run_id)
    progress = _wait_backups(topology, run_ids, timeout=600 + 30 * len(run_ids))
    for p in progress.values():
        phase.first_task.append((p["first"] - p["queued"]).total_seconds())
        phase.backup_verified.append((p["verified"] - p["queued"]).total_seconds())
    watchdog_began = time.monotonic()
    phase.watchdog_seconds, phase.watchdog_requests, phase.watched_steps, phase.watchdog_detail = (
        _watchdog_round(topology, workdir, name)
    )
    phase.watchdog_window = (watchdog_began, time.monotonic())
    # Keep observing (loops, triggerer, WeCom reads) for the rest of the window.
    while time.monotonic() - began < sizes.observe_seconds:
        time.sleep(1.0)
    end = time.monotonic()
    rss1, cpu1 = _process_stats(_triggerer_pids(topology))
    phase.seconds = end - began
    phase.loops = loops.between(began, end)
    phase.loops_outside_watchdog = [
        v
        for t, v in loops.samples
        if began <= t <= end and not phase.watchdog_window[0] <= t <= phase.watchdog_window[1]
    ]
    phase.triggerer_rss_mb = rss1
    phase.triggerer_cpu_per_hour = max(cpu1 - cpu0, 0.0) / phase.seconds * 3600.0
    phase.triggerer_sockets = _sockets_to(_triggerer_pids(topology), sandbox.port)
    phase.triggerer_files = _open_files(_triggerer_pids(topology))
    stats1 = sandbox.control.stats(include_writes=False)["calls"]
    phase.transfer_reads = sum(
        stats1.get(path, 0) - stats0.get(path, 0) for path in stats1 if path.endswith("transfer_result")
    )
    del rss0
    return phase


def _request_kind(path: str) -> str:
    """What a watchdog request reads, for the bench's notes."""
    for marker, kind in (
        ("/xcomEntries/", "XCom"),
        ("/logs/", "log"),
        ("/offboarding/api/cases/", "case correction"),
        ("/list", "listing page"),
        ("/hitlDetails", "listing page"),
        ("/dagRuns/", "DAG run"),
    ):
        if marker in path:
            return kind
    return "other"


def _watchdog_round(topology: Any, workdir: Path, phase: str) -> tuple[float, int, int, str]:
    """One watchdog round, as the ``offboarding_watchdog`` task runs it, through the api-server: (seconds,
    REST requests, steps watched, what the requests read and the alerts decided). Alerts are collected, not
    sent (the bench's cases name no recipient)."""
    from collections import Counter

    from offboarding.alerting.airflow_source import WatchdogApi
    from offboarding.alerting.watchdog import run_watchdog
    from offboarding.wecom.shared_state import FileSharedState
    from offboarding_dev.testing.airflow import recorded_paths

    state = FileSharedState(workdir / f"watchdog-{phase.replace(' ', '-')}", "state")
    with (
        WatchdogApi(topology.api_url, username="admin", password=topology.passwords["admin"]) as client,
        recorded_paths(client) as paths,
    ):
        t0 = time.perf_counter()
        summary = run_watchdog(api=client, state=state, send=lambda recipient, message: None)
        seconds = time.perf_counter() - t0
    kinds = Counter(_request_kind(path) for path in paths)
    what = ", ".join(f"{n:,} {kind}" for kind, n in kinds.most_common())
    detail = f"{what}; {int(summary['alerts']):,} alerts decided"
    return seconds, client.requests_sent, int(summary["watched_steps"]), detail


def _hand_over(sandbox: Any, pairs: Sequence[tuple[str, str]]) -> None:
    """Really hand each member's customers to the successor (on-job), so their transfer waits keep waiting."""
    from offboarding.wecom.client import WeComClient
    from offboarding.wecom.customer_contacts import CustomerContacts

    client = WeComClient(sandbox.corpid, sandbox.secret, base_url=sandbox.base_url)
    contacts = CustomerContacts(client)
    for member, successor in pairs:
        customers = contacts.list_customers(member)
        contacts.transfer_customers(member, successor, customers, resigned=False)


def _inflight_spec(
    persons: Sequence[str],
    successor: str,
    companies: int,
    sample: Sequence[str],
    conn_id: str,
    takeover_time_scale: float = TAKEOVER_TIME_SCALE,
) -> list[dict[str, Any]]:
    from offboarding_dev.rehearsal.samples import company_case

    now = dt.datetime.now(dt.UTC)
    far = now + dt.timedelta(days=40)
    spec: list[dict[str, Any]] = []
    n = len(persons)
    cut_last = int(n * SHARES["last_day"])
    cut_takeover = cut_last + int(n * SHARES["takeover"])
    cut_cooling = cut_takeover + int(n * SHARES["cooling_off"])
    for index, userid in enumerate([*sample, *persons]):
        in_sample = index < len(sample)
        position = index - len(sample)
        # The synthesized waits carry their own wake time; the scale paces the takeover polls, and the
        # sample's, like a new case's, lets the handover's last-working-day guard see the day has ended.
        if in_sample:
            scale = NEW_CASE_TIME_SCALE
        elif cut_last <= position < cut_takeover:
            scale = takeover_time_scale
        else:
            scale = 1.0
        conf = _new_person_conf(
            userid, successor, time_scale=scale, days_ahead=SAMPLE_DAYS_AHEAD if in_sample else 0
        )
        case: dict[str, Any] = {"dag_id": "offboard_employee", "run_id": f"offboard-{userid}", "conf": conf}
        if in_sample or position < cut_last:
            wake = far
            case["wait"] = {
                "task_id": "preflight.wait_for_last_working_day",
                "kind": "legal",
                "deadline": wake.isoformat(),
                "wake_at": wake.isoformat(),
                "label": "last working day",
            }
            case["started_days_ago"] = 0.01
        elif position < cut_takeover:
            case["wait"] = {
                "task_id": "deletion.wait_for_customer_takeover",
                "kind": "takeover",
                "wecom_conn_id": conn_id,
                "member": userid,
                "successor": successor,
                "poll_interval_seconds": POLICY_POLL_SECONDS / takeover_time_scale,
            }
        elif position < cut_cooling:
            case["conf"]["deregister_account"] = True
            case["wait"] = {
                "task_id": "account_deregistration.wait_for_cooling_off_end",
                "kind": "legal",
                "deadline": far.isoformat(),
                "wake_at": far.isoformat(),
                "label": "end of the cooling-off",
            }
        else:
            case["wait"] = {
                "task_id": "statutory_steps.stop_social_insurance",
                "kind": "human",
                "subject": "社保减员: stop the social insurance",
                "options": ["Done"],
                "assignees": ["hr"],
            }
        spec.append(case)
    base = dict(company_case(time_scale=1.0).conf)
    for number in range(companies):
        spec.append(
            {
                "dag_id": "dissolve_company",
                "run_id": f"dissolve-capacity-{number:04d}",
                "conf": base | {"company_name": f"容量测试公司{number:04d}"},
                "wait": {
                    "task_id": "dissolution_notice.wait_for_notice_period_end",
                    "kind": "legal",
                    "deadline": far.isoformat(),
                    "wake_at": far.isoformat(),
                    "label": "end of the notice period",
                },
            }
        )
    return spec


def _synthesize(topology: Any, spec: list[dict[str, Any]], workdir: Path) -> dict[str, Any]:
    path = workdir / "inflight.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), "utf-8")
    python = str(Path(topology.env["PATH"].split(os.pathsep)[0]) / "python")
    done = subprocess.run(
        [python, "-m", "offboarding_dev.inflight", str(path)],
        env=topology.env,
        capture_output=True,
        text=True,
        timeout=7200,
        cwd=workdir,
    )
    if done.returncode != 0:
        raise RuntimeError(f"synthesizing the cases in flight failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


#: Seconds for the triggerer's memory to settle after it claimed new waits (their first sleeps, GC).
SETTLE_SECONDS = 15.0


def _synthesize_and_claim(
    topology: Any, spec: list[dict[str, Any]], workdir: Path
) -> tuple[dict[str, Any], float, float]:
    """Synthesize ``spec``; wait until the triggerer runs every trigger; (counts, seconds to claim them,
    the triggerer's RSS in MB once settled)."""
    made = _synthesize(topology, spec, workdir)
    claimed = _wait_claimed(topology, made["triggers"], timeout=600 + made["triggers"] / 10)
    time.sleep(SETTLE_SECONDS)
    return made, claimed, _process_stats(_triggerer_pids(topology))[0]


def _wait_claimed(topology: Any, triggers: int, timeout: float) -> float:
    """Seconds until the triggerer runs every trigger row (none left without ``triggerer_id``)."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        unclaimed = _query(topology, "SELECT count(*) FROM trigger WHERE triggerer_id IS NULL")[0][0]
        if unclaimed == 0:
            return time.monotonic() - began
        time.sleep(2.0)
    raise RuntimeError(f"the triggerer claimed fewer than {triggers} triggers in {timeout:.0f} s")


# ---------------------------------------------------------------------- the bench


def run(size: Size, workdir: Path) -> list[Row]:
    from offboarding_dev.testing.topology import services_verdict, unreachable_services

    verdict = services_verdict(unreachable_services())
    if verdict is not None:
        return [Row.not_available("capacity.first_task_p95", "s", verdict[1], FIRST_TASK_GOAL)]
    workdir.mkdir(parents=True, exist_ok=True)
    return measure(Sizes.of(size), workdir)


def start_deployment(stack: contextlib.ExitStack, extra_env: dict[str, str], *, database_prefix: str) -> Any:
    """The benches' deployment (the distributed topology as processes), stopped when ``stack`` closes."""
    from offboarding_dev.testing.topology import running_topology

    env = {
        "OFFBOARDING_INCLUDE_DIR": str(REPO / "include"),
        # This shared 2-core machine answers the Execution API slowly under load (default 5 s).
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        **extra_env,
    }
    return stack.enter_context(
        running_topology(
            REPO / "dags",
            users=",".join(f"{u}:{r}" for u, r in USERS.items()),
            extra_env=env,
            workers=WORKERS,
            worker_concurrency=WORKER_CONCURRENCY,
            preload_modules=PRELOADED,
            startup_timeout=STARTUP_TIMEOUT,
            database_prefix=database_prefix,
        )
    )


def measure(sizes: Sizes, workdir: Path) -> list[Row]:
    from offboarding_dev.rehearsal.samples import PERSONS_CONN_ID, wecom_connection
    from offboarding_dev.sandbox.testing import running_sandbox

    persons_in_flight = sizes.in_flight - sizes.companies
    total_members = persons_in_flight + sizes.sample + 2 * sizes.new_cases + 1
    members = [f"u{n:06d}" for n in range(1, total_members + 1)]
    successor = members[-1]
    empty_new = members[: sizes.new_cases]
    loaded_new = members[sizes.new_cases : 2 * sizes.new_cases]
    sample = members[2 * sizes.new_cases : 2 * sizes.new_cases + sizes.sample]
    waiting = members[2 * sizes.new_cases + sizes.sample : -1]
    loops = LoopTimes()
    with contextlib.ExitStack() as stack:
        stack.callback(loops.close)
        sandbox = stack.enter_context(running_sandbox(seed=f"members:{total_members}"))
        env = {
            f"AIRFLOW_CONN_{PERSONS_CONN_ID.upper()}": json.dumps(wecom_connection(sandbox)),
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(loops.port),
            "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
            "PYTHONPATH": str(SHIM),
            # One triggerer holds every wait of the bench (Airflow's default capacity is 1,000).
            "AIRFLOW__TRIGGERER__CAPACITY": str(sizes.in_flight + 1000),
        }
        topology = start_deployment(stack, env, database_prefix="offboarding_capacity")
        api = stack.enter_context(topology.api("hr"))
        pools = {p[0] for p in _query(topology, "SELECT pool FROM slot_pool")}
        autovacuum = _autovacuum_enabled(topology)
        empty = _measure_phase("empty", topology, api, sandbox, loops, empty_new, successor, sizes, workdir)

        size_before = _database_bytes(topology)
        takeover_pairs = [
            (m, successor)
            for m in waiting[
                int(len(waiting) * SHARES["last_day"]) : int(
                    len(waiting) * (SHARES["last_day"] + SHARES["takeover"])
                )
            ]
        ]
        _hand_over(sandbox, takeover_pairs)
        spec = _inflight_spec(
            waiting, successor, sizes.companies, sample, PERSONS_CONN_ID, sizes.takeover_time_scale
        )
        # The time waits last, so the triggerer's growth from them alone is measured (the transfer waits'
        # triggers are held in any case).
        made, claim_seconds, rss_before_time_waits = _synthesize_and_claim(
            topology, [c for c in spec if c["wait"]["kind"] != "legal"], workdir
        )
        time_waits, claim_time_waits, rss_after_time_waits = _synthesize_and_claim(
            topology, [c for c in spec if c["wait"]["kind"] == "legal"], workdir
        )
        made = {key: made[key] + time_waits[key] for key in made}
        claim_seconds += claim_time_waits
        size_after = _database_bytes(topology)
        loaded = _measure_phase(
            "in flight", topology, api, sandbox, loops, loaded_new, successor, sizes, workdir
        )
        sample_runs = [f"offboard-{m}" for m in sample]
        _wake_sample(api, sample_runs)
        sample_progress = _wait_backups(topology, sample_runs, timeout=900)
        # ... and on through the handover to the approval request (the guards of the real tasks pass).
        _wait_state(topology, sample_runs, "approve_deletion", "awaiting_input", timeout=900)
        in_flight_now = _query(
            topology,
            "SELECT count(*) FROM dag_run WHERE state = 'running' AND run_id <> ALL(%s)",
            (sample_runs + [f"offboard-{m}" for m in empty_new + loaded_new],),
        )[0][0]
        waiting_states = dict(
            _query(
                topology,
                "SELECT state, count(*) FROM task_instance "
                "WHERE state IN ('deferred', 'up_for_reschedule', 'awaiting_input') "
                "GROUP BY state",
            )
        )
    return rows(
        sizes,
        empty,
        loaded,
        made=made,
        claim_seconds=claim_seconds,
        db_bytes_per_case=(size_after - size_before) / max(made["runs"], 1),
        takeover_waits=len(takeover_pairs),
        time_waits=time_waits["runs"],
        time_waits_rss_mb=rss_after_time_waits - rss_before_time_waits,
        sample_done=len(sample_progress),
        in_flight_now=int(in_flight_now),
        waiting_states=waiting_states,
        pools=pools,
        autovacuum=autovacuum,
    )


def _lead_hours() -> float:
    from offboarding.settings import time_wait_triggerer_lead

    return time_wait_triggerer_lead().total_seconds() / 3600.0


def rows(sizes: Sizes, empty: Phase, loaded: Phase, **facts: Any) -> list[Row]:
    made = facts["made"]
    n = facts["in_flight_now"]
    how = (
        f"{n:,} cases in flight (created as Airflow records them: {made['runs']:,} runs, "
        f"{made['triggers']:,} trigger rows, {made['parked']:,} parked time waits, {made['human_steps']:,} "
        "human steps awaiting input, in "
        f"{made['seconds']:.0f} s; the triggerer claimed every wait in {facts['claim_seconds']:.0f} s; "
        f"{facts['sample_done']} of them, woken after the measurement by a reschedule to today through the "
        "REST API, ran for real through backup and handover to their approval request) vs 0, same run; "
        f"2 Celery workers × {WORKER_CONCURRENCY}, PostgreSQL, Redis."
    )
    scale = sizes.takeover_time_scale
    poll_seconds = POLICY_POLL_SECONDS / scale
    p95 = lambda values: percentile(values, 95)  # noqa: E731
    p50 = lambda values: percentile(values, 50)  # noqa: E731
    per_hour_at_policy = (
        loaded.transfer_reads / loaded.seconds * 3600.0 / scale
        if loaded.seconds and facts["takeover_waits"]
        else 0.0
    )
    deployment_reads = (
        per_hour_at_policy * DEPLOYMENT_TRANSFER_WAITS / facts["takeover_waits"]
        if facts["takeover_waits"]
        else 0
    )
    new = f"{len(loaded.first_task)} new cases per phase"
    return [
        Row.measured(
            "capacity.first_task_p95",
            p95(loaded.first_task),
            "s",
            baseline=p95(empty.first_task),
            goal=FIRST_TASK_GOAL,
            notes=f"trigger → first task started, p95 of {new} (p50 {p50(loaded.first_task):.1f} s vs "
            f"{p50(empty.first_task):.1f} s). {how}",
            why_missed="the scheduler takes longer to reach new runs among the running ones",
        ),
        Row.measured(
            "capacity.backup_verified_p95",
            p95(loaded.backup_verified),
            "s",
            baseline=p95(empty.backup_verified),
            goal=RATIO_GOAL,
            notes=f"trigger → backup.verify_backup_manifest succeeded, p95 of {new} (p50 "
            f"{p50(loaded.backup_verified):.1f} s vs {p50(empty.backup_verified):.1f} s).",
            why_missed="scheduling or the workers slow down with the cases in flight",
        ),
        Row.measured(
            "capacity.scheduler_loop_p95",
            p95(loaded.loops),
            "s",
            baseline=p95(empty.loops),
            goal=RATIO_GOAL,
            notes=f"StatsD scheduler.scheduler_loop_duration over {len(loaded.loops)} vs {len(empty.loops)} "
            f"loops (p50 {p50(loaded.loops):.3f} s vs {p50(empty.loops):.3f} s). Outside the watchdog round "
            f"({loaded.watchdog_seconds:.0f} s of the window): p95 {p95(loaded.loops_outside_watchdog):.3f} s "
            f"over {len(loaded.loops_outside_watchdog)} loops. Each phase starts with the planner's "
            f"statistics fresh (ANALYZE; this PostgreSQL's autovacuum is "
            f"{'on' if facts.get('autovacuum') else 'off'}).",
            why_missed="each loop examines the running DAG runs",
        ),
        Row.measured(
            "capacity.triggerer_rss",
            loaded.triggerer_rss_mb,
            "MB",
            baseline=empty.triggerer_rss_mb,
            notes=f"RSS of the triggerer's processes with {made['triggers']:,} waits "
            f"({(loaded.triggerer_rss_mb - empty.triggerer_rss_mb) * 1e3 / max(made['triggers'], 1):.1f} KB "
            f"per wait over the empty triggerer).",
        ),
        Row.measured(
            "capacity.triggerer_memory_per_time_wait",
            facts["time_waits_rss_mb"] * 1e3 / max(facts["time_waits"], 1),
            "KB",
            goal=WAIT_MEMORY_GOAL,
            notes=f"the triggerer's RSS growth (both its processes) when the {facts['time_waits']:,} legal "
            f"time waits were added, per wait ({made['parked']:,} of them parked in the database until "
            f"{_lead_hours():g} h before their wake time, the rest deferred; synthesized after the "
            f"{facts['takeover_waits']:,} transfer waits and the human steps). {made['triggers']:,} triggers "
            f"held in all; {loaded.triggerer_files:,} open files (empty: {empty.triggerer_files:,}).",
            why_missed="the triggerer holds the time waits",
        ),
        Row.measured(
            "capacity.triggerer_cpu",
            loaded.triggerer_cpu_per_hour,
            "CPU-s/h",
            baseline=empty.triggerer_cpu_per_hour,
            notes=f"triggerer CPU seconds per hour over the {loaded.seconds:.0f} s window (the transfer "
            f"waits poll every {poll_seconds:.0f} s here: {scale:g}× "
            "the policy's rate, so this is an upper bound).",
        ),
        Row.measured(
            "capacity.cases_page",
            p50(loaded.page_times),
            "s",
            baseline=p50(empty.page_times),
            goal=PAGE_GOAL,
            notes="GET /offboarding/api/cases (first page) through the api-server, median of 5.",
            why_missed="the page's query grows with the cases in flight",
        ),
        Row.measured(
            "capacity.trigger_endpoint",
            p50(loaded.trigger_calls),
            "s",
            baseline=p50(empty.trigger_calls),
            goal=PAGE_GOAL,
            notes=f"POST /api/v2/dags/offboard_employee/dagRuns, median of {len(loaded.trigger_calls)}.",
            why_missed="creating a run slows down with the runs in flight",
        ),
        Row.measured(
            "capacity.watchdog_round",
            loaded.watchdog_seconds,
            "s",
            baseline=empty.watchdog_seconds,
            goal=WATCHDOG_GOAL,
            notes=f"one watchdog round through the api-server (as the offboarding_watchdog task runs it; "
            f"alerts collected, not sent): {loaded.watched_steps:,} steps watched with "
            f"{loaded.watchdog_requests:,} REST requests (empty: {empty.watched_steps} steps, "
            f"{empty.watchdog_requests} requests). It reads the steps, the open runs and the pending human "
            "steps in paged listings (a human step's due time comes with it, rendered), one log per newly "
            "failed step and the notify correction of each case it alerts (in compressed time, waits "
            f"synthesized minutes ago may count as stalled): {loaded.watchdog_detail}. Goal: a round fits in "
            "the default 15-minute interval.",
            why_missed="a round reads something per case in flight",
        ),
        Row.measured(
            "capacity.db_per_case",
            facts["db_bytes_per_case"] / 1e3,
            "KB",
            notes="pg_database_size growth per synthesized case in flight (run, task instances, trigger, "
            f"HITL and rendered-field rows; no XCom or logs). Per GB: {1e9 / max(facts['db_bytes_per_case'], 1):,.0f} cases.",
        ),
        Row.measured(
            "capacity.wecom_reads_per_hour_2500",
            deployment_reads,
            "calls/h",
            notes=f"transfer_result reads: {loaded.transfer_reads} in {loaded.seconds:.0f} s from "
            f"{facts['takeover_waits']} waits polling every {poll_seconds:.0f} s, "
            f"scaled to the policy's 60-minute interval and to {DEPLOYMENT_TRANSFER_WAITS:,} waits "
            "(extrapolated: 2 reads per wait per hour).",
        ),
        Row.measured(
            "capacity.triggerer_sockets",
            float(loaded.triggerer_sockets),
            "sockets",
            baseline=float(empty.triggerer_sockets),
            goal=Goal.at_most(20, "sockets"),
            notes=f"ESTABLISHED TCP connections from the triggerer to WeCom while {facts['takeover_waits']} "
            "transfer waits poll (one shared session per corp and secret).",
            why_missed="the transfer waits do not share their HTTP session",
        ),
        Row.measured(
            "capacity.max_active_runs",
            float(n),
            "cases",
            goal=Goal.at_least(float(sizes.in_flight), "cases"),
            notes=f"runs in state running at the end (none queued behind a DAG limit); waiting task "
            f"instances: {facts['waiting_states']}; pools: {sorted(facts['pools'])}.",
            why_missed="a DAG limit queues cases",
        ),
    ]
