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
"""

from __future__ import annotations

import contextlib
import csv
import json
import subprocess
import time
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


def write_export(path: Path, driven: list[str], waiting: list[str], successor: str) -> Path:
    """The HR export: one row per person, the trigger form's field names as headers.

    ``driven`` leave today in rehearsal time (a legal day is one wall second, so their wait for the last
    working day ends at once); ``waiting`` leave in 30 days in real time, on the second sandbox.
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
            person = SamplePerson(userid, f"成员{userid[1:]}", successor_userid=successor)
            if userid in waits:
                conf = person_case(person, last_working_day=later, time_scale=1.0).conf
                conf = {**conf, "wecom_conn_id": WAITING_CONN_ID}
            else:
                conf = person_case(person, last_working_day=today, time_scale=86400.0).conf
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


def measure(count: int, driven_count: int, workdir: Path) -> list[Row]:
    from offboarding_dev.rehearsal.samples import PERSONS_CONN_ID, wecom_connection
    from offboarding_dev.sandbox.testing import running_sandbox

    members = [f"u{n:06d}" for n in range(1, count + 2)]
    successor, leavers = members[-1], members[:-1]
    driven, waiting = leavers[:driven_count], leavers[driven_count:]
    export = write_export(workdir / "hr-export.csv", driven, waiting, successor)
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(running_sandbox(seed=f"members:{len(members)}"))
        waiting_corp = stack.enter_context(running_sandbox(seed=f"members:{len(members)}"))
        env = {
            f"AIRFLOW_CONN_{PERSONS_CONN_ID.upper()}": json.dumps(wecom_connection(sandbox)),
            f"AIRFLOW_CONN_{WAITING_CONN_ID.upper()}": json.dumps(wecom_connection(waiting_corp)),
        }
        topology = start_deployment(stack, env, database_prefix="offboarding_capacity_layoff")
        sandbox.control.reset_stats()
        waiting_corp.control.reset_stats()
        command = str(Path(topology.env["PATH"].split(":")[0]) / "offboarding")
        began = time.monotonic()
        done = subprocess.run(
            [
                command,
                "bulk-trigger",
                str(export),
                "--api-url",
                topology.api_url,
                "--username",
                "hr",
                "--password",
                topology.passwords["hr"],
            ],
            capture_output=True,
            text=True,
            timeout=3600,
            cwd=workdir,
        )
        trigger_seconds = time.monotonic() - began
        if done.returncode != 0:
            raise RuntimeError(
                f"bulk-trigger exited {done.returncode}: {done.stderr[-1500:]}{done.stdout[-1500:]}"
            )
        run_ids = [f"offboard-{m}" for m in leavers]
        driven_runs = [f"offboard-{m}" for m in driven]
        waiting_runs = [f"offboard-{m}" for m in waiting]
        deadline = time.monotonic() + 600 + 20 * driven_count
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
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {verified} of {len(driven_runs)} backups verified in time")
            time.sleep(2.0)
        all_verified = time.monotonic() - began
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
        tis = _query(
            topology,
            "SELECT count(*), count(*) FILTER (WHERE state IS NOT NULL AND state <> 'removed') "
            "FROM task_instance WHERE run_id = ANY(%s)",
            (driven_runs,),
        )[0]
        all_tis = _query(topology, "SELECT count(*) FROM task_instance WHERE run_id = ANY(%s)", (run_ids,))[
            0
        ][0]
        stats = sandbox.control.stats(include_writes=False)
        waiting_stats = waiting_corp.control.stats(include_writes=False)
        calls = sum(int(n) for n in (stats.get("calls") or {}).values())
        limited = _rate_limit_errors(stats) + _rate_limit_errors(waiting_stats)
    scope = (
        f"{count:,} persons from one CSV through `offboarding bulk-trigger`: {driven_count} driven for real up "
        f"to their approval request (awaiting: {awaiting}), {len(waiting)} waiting (parked) for a last "
        f"working day in {WAITING_DAYS} days (parked: {parked}); 2 Celery workers × {WORKER_CONCURRENCY}, "
        "Redis-shared WeCom limits."
    )
    extrapolated = (
        ""
        if driven_count == count
        else f" For all {count:,} persons (extrapolated linearly from the {driven_count} driven): "
        f"{all_verified / driven_count * count / 60:.0f} min."
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
            f"deployment's 8 worker slots).{extrapolated}",
        ),
        Row.measured(
            "mass_layoff.task_instances_per_case",
            all_tis / count,
            "TIs",
            notes=f"task instances created per person case ({tis[1] / driven_count:.1f} with a state by "
            "the approval request, driven cases).",
        ),
        Row.measured(
            "mass_layoff.wecom_calls_per_case",
            calls / driven_count,
            "calls",
            notes="every WeCom call the driven cases' sandbox answered (tokens included), per driven case, "
            "up to the approval request.",
        ),
        Row.measured(
            "mass_layoff.rate_limit_errors",
            float(limited),
            "errors",
            goal=Goal.at_most(0),
            notes="WeCom rate-limit answers (45009/45033/45011) either sandbox gave during the layoff.",
            why_missed="the workers' calls exceed WeCom's per-API limits",
        ),
    ]
