"""A mass layoff (批量优化): N persons triggered from one HR export with ``offboarding bulk-trigger``.

On the distributed deployment (``offboarding_dev.testing.topology``: PostgreSQL database
``offboarding_capacity_layoff_<id>``, Redis for the broker, the token cache and the per-API WeCom rate
limits shared by every worker, 2 Celery workers × 4, scheduler, triggerer, dag-processor, api-server),
the bench writes one CSV (the trigger form's columns) of N persons (1,000 in the full size, 16 quick),
runs the real command line ``offboarding bulk-trigger`` against the api-server, and waits until the
backup of every case it drives is verified.

It drives a subset for real (200 in the full size, 12 quick): they leave today, in rehearsal time, on
one WeCom sandbox, and run through their verified backup and on through the handover to their approval
request (which stays unanswered: the deletion's waits are the part the ``capacity`` bench measures).
The others leave in 30 days, in real time, on a second sandbox (corp): they are real cases that pass
their preflight and then wait for their last working day (parked: up for reschedule, holding nothing in
the triggerer until its last hours). The time until every backup is
verified is measured for the driven subset and extrapolated to N, saying so.

Rows: the time the command took to trigger all N cases, the time until every driven backup was
verified, task instances per case, WeCom calls per driven case (the first sandbox's counters) and
rate-limit errors (WeCom's 45009/45033/45011 answers seen by either sandbox: must be 0 with several
workers).

Then, on the same deployment, the **bulk shape** (``benchmarks.mass_layoff_bulk``): the same kind of
export for N persons of a third sandbox corp, triggered with ``bulk-trigger --one-case`` as ONE
``offboard_layoff`` run (batches of ≤ 200, one approval for the list), all N driven for real through the
approval (answered by the bench over the REST API) and the deletion, until its summary. Its rows are
``mass_layoff.bulk.*``, and ``mass_layoff.bulk_speedup`` compares the two shapes.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.capacity import WORKER_CONCURRENCY, _query, start_deployment
from benchmarks.results import Goal, Row
from benchmarks.sizes import Size

RATE_LIMIT_ERRCODES = ("45009", "45033", "45011", "45001")
COLUMNS = (
    "userid",
    "display_name",
    "last_working_day",
    "role",
    "successor_userid",
    "hr_owner",
    "approvers",
    "deregister_account",
    "wecom_conn_id",
    "time_scale",
)


WAITING_CONN_ID = "wecom_layoff_waiting"
WAITING_DAYS = 30
TEAM_SIZE = 100
"""Persons of the layoff list per successor (a team lead who stays)."""


def write_export(
    path: Path,
    driven: list[str],
    waiting: list[str],
    successor: str | Callable[[str], str],
    driven_conn_id: str | None = None,
) -> Path:
    """The HR export: one row per person, the trigger form's field names as headers.

    ``driven`` leave today in rehearsal time (a legal day is one wall second, so their wait for the last
    working day ends at once), on ``driven_conn_id`` (default: the sample persons' connection);
    ``waiting`` leave in 30 days in real time, on the second sandbox. ``successor``: everyone's, or each
    person's (a function of the userid).
    """
    import datetime as dt

    from offboarding_dev.rehearsal.samples import SamplePerson, person_case, today_in_shanghai

    today = today_in_shanghai()
    later = today + dt.timedelta(days=WAITING_DAYS)
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        waits = set(waiting)
        for userid in driven + waiting:
            heir = successor(userid) if callable(successor) else successor
            person = SamplePerson(userid, f"成员{userid[1:]}", successor_userid=heir)
            if userid in waits:
                conf = person_case(person, last_working_day=later, time_scale=1.0).conf
                conf = {**conf, "wecom_conn_id": WAITING_CONN_ID}
            else:
                conf = person_case(person, last_working_day=today, time_scale=86400.0).conf
                conf = {**conf, "wecom_conn_id": driven_conn_id or conf["wecom_conn_id"]}
            writer.writerow(
                [
                    ";".join(v)
                    if isinstance(v := conf[c], list)
                    else str(v).lower()
                    if isinstance(v, bool)
                    else v
                    for c in COLUMNS
                ]
            )
    return path


def run(size: Size, workdir: Path) -> list[Row]:
    from offboarding_dev.testing.topology import services_verdict, unreachable_services

    verdict = services_verdict(unreachable_services())
    if verdict is not None:
        return [Row.not_available("mass_layoff.rate_limit_errors", "errors", verdict[1], Goal.at_most(0))]
    workdir.mkdir(parents=True, exist_ok=True)
    return measure(size.pick(16, 1000), size.pick(12, 200), workdir)


def _count_tasks(topology: Any, run_ids: list[str], task_id: str, state: str) -> int:
    """How many of ``run_ids`` have ``task_id`` in ``state`` (0 for an empty list)."""
    if not run_ids:
        return 0
    return int(
        _query(
            topology,
            "SELECT count(*) FROM task_instance WHERE run_id = ANY(%s) AND task_id = %s AND state = %s",
            (run_ids, task_id, state),
        )[0][0]
    )


def _rate_limit_errors(stats: dict[str, Any]) -> int:
    errors = stats.get("errors") or {}
    return sum(int(errors.get(code, 0)) for code in RATE_LIMIT_ERRCODES)


@dataclass(frozen=True)
class PerPerson:
    """What the per-person shape measured: N cases, ``driven`` of them up to their approval request."""

    count: int
    driven: int
    waiting: int
    trigger_seconds: float
    all_verified: float
    #: Seconds from the command's start until no task of the N cases was left to run (None: not in time).
    quiet_seconds: float | None
    awaiting: int
    parked: int
    driven_tis: int
    driven_tis_with_state: int
    all_tis: int
    calls: int
    rate_limited: int

    @property
    def seconds_for_all(self) -> float:
        """The time until every backup is verified, extrapolated linearly to all N when a subset was driven."""
        return self.all_verified / self.driven * self.count


def measure(count: int, driven_count: int, workdir: Path) -> list[Row]:
    """Both shapes on one deployment: N per-person cases, then the same N as one layoff list."""
    from benchmarks.mass_layoff_bulk import LAYOFF_CONN_ID, LAYOFF_CORPID, bulk_rows, measure_bulk
    from offboarding_dev.rehearsal.samples import PERSONS_CONN_ID, wecom_connection
    from offboarding_dev.sandbox.testing import running_sandbox

    members = [f"u{n:06d}" for n in range(1, count + 2)]
    successor, leavers = members[-1], members[:-1]
    driven, waiting = leavers[:driven_count], leavers[driven_count:]
    export = write_export(workdir / "hr-export.csv", driven, waiting, successor)
    # The list's persons go to team leads who stay (members after the leavers), a team of up to
    # TEAM_SIZE each: as a restructuring's export names them, and within WeCom's 300 groups a day per owner.
    leads = [f"u{n:06d}" for n in range(count + 1, count + 1 + max(1, -(-count // TEAM_SIZE)))]
    list_export = write_export(
        workdir / "hr-export-list.csv",
        leavers,
        [],
        lambda userid: leads[(int(userid[1:]) - 1) // TEAM_SIZE],
        LAYOFF_CONN_ID,
    )
    with contextlib.ExitStack() as stack:
        seed = f"members:{len(members)}"
        sandbox = stack.enter_context(running_sandbox(seed=seed))
        waiting_corp = stack.enter_context(running_sandbox(seed=seed))
        list_seed = f"members:{count + len(leads)}"
        list_corp = stack.enter_context(running_sandbox(seed=list_seed, corpid=LAYOFF_CORPID))
        env = {
            f"AIRFLOW_CONN_{PERSONS_CONN_ID.upper()}": json.dumps(wecom_connection(sandbox)),
            f"AIRFLOW_CONN_{WAITING_CONN_ID.upper()}": json.dumps(wecom_connection(waiting_corp)),
            f"AIRFLOW_CONN_{LAYOFF_CONN_ID.upper()}": json.dumps(wecom_connection(list_corp)),
        }
        topology = start_deployment(stack, env, database_prefix="offboarding_capacity_layoff")
        person = measure_per_person(topology, sandbox, waiting_corp, export, driven, waiting, workdir)
        bulk = measure_bulk(topology, list_corp, list_export, count, workdir)
    basis = (
        "measured"
        if driven_count == count
        else f"extrapolated linearly from the {driven_count} driven, as mass_layoff.all_backups_verified says"
    )
    return [*per_person_rows(person), *bulk_rows(bulk, person.seconds_for_all, basis)]


def run_bulk_trigger(topology: Any, export: Path, workdir: Path, *options: str) -> tuple[float, str]:
    """The real ``offboarding bulk-trigger <export> <options>`` as ``hr``: its wall time (s) and output.

    The password goes through the environment (AIRFLOW_PASSWORD), never the command line."""
    command = str(Path(topology.env["PATH"].split(":")[0]) / "offboarding")
    env = {
        **os.environ,
        "AIRFLOW_API_URL": topology.api_url,
        "AIRFLOW_USERNAME": "hr",
        "AIRFLOW_PASSWORD": topology.passwords["hr"],
    }
    env.pop("AIRFLOW_API_TOKEN", None)
    began = time.monotonic()
    done = subprocess.run(
        [command, "bulk-trigger", str(export), *options],
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=workdir,
        env=env,
    )
    seconds = time.monotonic() - began
    if done.returncode != 0:
        raise RuntimeError(
            f"bulk-trigger {' '.join(options)} exited {done.returncode}: "
            f"{done.stderr[-1500:]}{done.stdout[-1500:]}"
        )
    return seconds, done.stdout


def _wait_for_driven_backups(
    topology: Any, run_ids: list[str], driven_runs: list[str], began: float
) -> float:
    """Seconds from ``began`` until every driven case's backup is verified; fails on a failed case."""
    deadline = time.monotonic() + 600 + 20 * len(driven_runs)
    while True:
        failed = _query(
            topology,
            "SELECT run_id, task_id FROM task_instance WHERE run_id = ANY(%s) AND state = 'failed' LIMIT 5",
            (run_ids,),
        )
        if failed:
            raise RuntimeError(f"cases failed during the layoff: {failed}")
        verified = _count_tasks(topology, driven_runs, "backup.verify_backup_manifest", "success")
        if verified >= len(driven_runs):
            return time.monotonic() - began
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {verified} of {len(driven_runs)} backups verified in time")
        time.sleep(2.0)


def measure_per_person(
    topology: Any,
    sandbox: Any,
    waiting_corp: Any,
    export: Path,
    driven: list[str],
    waiting: list[str],
    workdir: Path,
) -> PerPerson:
    """One ``offboard_employee`` case per row: trigger, every driven backup verified, then settle."""
    count = len(driven) + len(waiting)
    sandbox.control.reset_stats()
    waiting_corp.control.reset_stats()
    began = time.monotonic()
    trigger_seconds, _ = run_bulk_trigger(topology, export, workdir)
    run_ids = [f"offboard-{m}" for m in driven + waiting]
    driven_runs = [f"offboard-{m}" for m in driven]
    waiting_runs = [f"offboard-{m}" for m in waiting]
    all_verified = _wait_for_driven_backups(topology, run_ids, driven_runs, began)
    # Let the handovers reach the approval request (each case then waits for a person), and every
    # other case its wait for the last working day.
    settle = time.monotonic() + 120 + 2 * count
    while time.monotonic() < settle:
        awaiting = _count_tasks(topology, driven_runs, "approve_deletion", "awaiting_input")
        parked = _count_tasks(
            topology, waiting_runs, "preflight.wait_for_last_working_day", "up_for_reschedule"
        )
        if awaiting >= len(driven_runs) and parked >= len(waiting_runs):
            break
        time.sleep(2.0)
    # Then until no task of the cases is left to run (the waiting cases' HR steps start too): the bulk
    # shape is measured on a quiet deployment, not queued behind this shape's tail on the same workers.
    quiet = _wait_until_quiet(topology, run_ids, time.monotonic() + 600 + 3 * count)
    quiet_seconds = time.monotonic() - began if quiet else None
    tis = _query(
        topology,
        "SELECT count(*), count(*) FILTER (WHERE state IS NOT NULL AND state <> 'removed') "
        "FROM task_instance WHERE run_id = ANY(%s)",
        (driven_runs,),
    )[0]
    all_tis = _query(topology, "SELECT count(*) FROM task_instance WHERE run_id = ANY(%s)", (run_ids,))[0][0]
    stats = sandbox.control.stats(include_writes=False)
    waiting_stats = waiting_corp.control.stats(include_writes=False)
    return PerPerson(
        count=count,
        driven=len(driven),
        waiting=len(waiting),
        trigger_seconds=trigger_seconds,
        all_verified=all_verified,
        quiet_seconds=quiet_seconds,
        awaiting=awaiting,
        parked=parked,
        driven_tis=int(tis[0]),
        driven_tis_with_state=int(tis[1]),
        all_tis=int(all_tis),
        calls=sum(int(n) for n in (stats.get("calls") or {}).values()),
        rate_limited=_rate_limit_errors(stats) + _rate_limit_errors(waiting_stats),
    )


def _wait_until_quiet(topology: Any, run_ids: list[str], deadline: float) -> bool:
    """Whether, before ``deadline``, no task of ``run_ids`` was scheduled, queued, running or to retry."""
    while time.monotonic() < deadline:
        busy = _query(
            topology,
            "SELECT count(*) FROM task_instance WHERE run_id = ANY(%s) "
            "AND state IN ('scheduled', 'queued', 'running', 'up_for_retry')",
            (run_ids,),
        )[0][0]
        if not busy:
            return True
        time.sleep(2.0)
    return False


def _quiet_text(p: PerPerson) -> str:
    if p.quiet_seconds is None:
        return "The cases still had tasks to run when the bulk shape started (settle timed out)."
    return (
        f"No task of the {p.count:,} cases was left to run {p.quiet_seconds:.0f} s after the command started "
        "(the waiting cases' HR steps started too, 3 per person); the bulk shape started then."
    )


def per_person_rows(p: PerPerson) -> list[Row]:
    """The per-person shape's rows (``mass_layoff.*``)."""
    count, driven_count, all_verified, trigger_seconds = p.count, p.driven, p.all_verified, p.trigger_seconds
    scope = (
        f"{count:,} persons from one CSV through `offboarding bulk-trigger`: {driven_count} driven for real up "
        f"to their approval request (awaiting: {p.awaiting}), {p.waiting} waiting (parked) for a last "
        f"working day in {WAITING_DAYS} days (parked: {p.parked}); 2 Celery workers × {WORKER_CONCURRENCY}, "
        "Redis-shared WeCom limits."
    )
    extrapolated = (
        ""
        if driven_count == count
        else f" For all {count:,} persons (extrapolated linearly from the {driven_count} driven): "
        f"{p.seconds_for_all / 60:.0f} min."
    )
    return [
        Row.measured(
            "mass_layoff.trigger_time",
            trigger_seconds,
            "s",
            notes=f"{scope} {trigger_seconds / count * 1000:.0f} ms per case.",
        ),
        Row.measured(
            "mass_layoff.all_backups_verified",
            all_verified,
            "s",
            notes=f"from the command's start until the last backup.verify_backup_manifest of the "
            f"{driven_count} driven cases succeeded ({all_verified / driven_count:.1f} s per case at this "
            f"deployment's 8 worker slots).{extrapolated} {_quiet_text(p)}",
        ),
        Row.measured(
            "mass_layoff.task_instances_per_case",
            p.all_tis / count,
            "TIs",
            notes=f"task instances created per person case ({p.driven_tis_with_state / driven_count:.1f} with a "
            "state by the approval request, driven cases).",
        ),
        Row.measured(
            "mass_layoff.wecom_calls_per_case",
            p.calls / driven_count,
            "calls",
            notes="every WeCom call the driven cases' sandbox answered (tokens included), per driven case, "
            "up to the approval request.",
        ),
        Row.measured(
            "mass_layoff.rate_limit_errors",
            float(p.rate_limited),
            "errors",
            goal=Goal.at_most(0),
            notes="WeCom rate-limit answers (45009/45033/45011) either sandbox gave during the layoff.",
            why_missed="the workers' calls exceed WeCom's per-API limits",
        ),
    ]
