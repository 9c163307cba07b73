"""A mass layoff (批量优化): N persons triggered from one HR export with ``offboarding bulk-trigger``.

On the distributed deployment (``offboarding_dev.testing.topology``: PostgreSQL database
``offboarding_capacity_layoff_<id>``, Redis for the broker, the token cache and the per-API WeCom rate
limits shared by every worker, 2 Celery workers × 4, scheduler, triggerer, dag-processor, api-server)
and a WeCom sandbox of N + 1 members, the bench writes one CSV (the trigger form's columns), runs the
real command line ``offboarding bulk-trigger`` against the api-server, and waits until every case's
backup is verified. Every case runs for real up to there (and on through the handover to its approval
request, which stays unanswered: the deletion's waits are the part the ``capacity`` bench measures).

Rows: the time the command took to trigger N cases, the time until every backup was verified, task
instances per case, WeCom calls per case (the sandbox's counters over the run) and rate-limit errors
(WeCom's 45009/45033/45011 answers seen by the sandbox: must be 0 with several workers).
"""

from __future__ import annotations

import contextlib
import csv
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from benchmarks.capacity import PRELOADED, STARTUP_TIMEOUT, USERS, WORKER_CONCURRENCY, WORKERS, _query
from benchmarks.environment import REPO
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


def write_export(path: Path, members: list[str], successor: str) -> Path:
    """The HR export: one row per person, the trigger form's field names as headers."""
    from offboarding_dev.rehearsal.samples import SamplePerson, person_case, today_in_shanghai

    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for userid in members:
            person = SamplePerson(userid, f"成员{userid[1:]}", successor_userid=successor)
            # Leaving today; a legal day is one wall second (rehearsal), so the last-working-day wait ends.
            conf = person_case(person, last_working_day=today_in_shanghai(), time_scale=86400.0).conf
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
    return measure(size.pick(12, 200), workdir, full=not size.quick)


def _rate_limit_errors(stats: dict[str, Any]) -> int:
    errors = stats.get("errors") or {}
    return sum(int(errors.get(code, 0)) for code in RATE_LIMIT_ERRCODES)


def measure(count: int, workdir: Path, *, full: bool) -> list[Row]:
    from offboarding_dev.rehearsal.samples import PERSONS_CONN_ID, wecom_connection
    from offboarding_dev.sandbox.testing import running_sandbox
    from offboarding_dev.testing.topology import running_topology

    members = [f"u{n:06d}" for n in range(1, count + 2)]
    successor, leavers = members[-1], members[:-1]
    export = write_export(workdir / "hr-export.csv", leavers, successor)
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(running_sandbox(seed=f"members:{len(members)}"))
        env = {
            "OFFBOARDING_INCLUDE_DIR": str(REPO / "include"),
            # This shared 2-core machine answers the Execution API slowly under load (default 5 s).
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
            f"AIRFLOW_CONN_{PERSONS_CONN_ID.upper()}": json.dumps(wecom_connection(sandbox)),
        }
        topology = stack.enter_context(
            running_topology(
                REPO / "dags",
                users=",".join(f"{u}:{r}" for u, r in USERS.items()),
                extra_env=env,
                workers=WORKERS,
                worker_concurrency=WORKER_CONCURRENCY,
                preload_modules=PRELOADED,
                startup_timeout=STARTUP_TIMEOUT,
                database_prefix="offboarding_capacity_layoff",
            )
        )
        sandbox.control.reset_stats()
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
        deadline = time.monotonic() + 600 + 20 * count
        while True:
            verified = _query(
                topology,
                "SELECT count(*) FROM task_instance WHERE run_id = ANY(%s) AND "
                "task_id = 'backup.verify_backup_manifest' AND state = 'success'",
                (run_ids,),
            )[0][0]
            failed = _query(
                topology,
                "SELECT run_id, task_id FROM task_instance WHERE run_id = ANY(%s) AND state = 'failed' LIMIT 5",
                (run_ids,),
            )
            if failed:
                raise RuntimeError(f"cases failed during the layoff: {failed}")
            if verified >= len(run_ids):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {verified} of {len(run_ids)} backups verified in time")
            time.sleep(2.0)
        all_verified = time.monotonic() - began
        # Let the handovers reach the approval request (each case then waits for a person).
        settle = time.monotonic() + 120 + 2 * count
        while time.monotonic() < settle:
            awaiting = _query(
                topology,
                "SELECT count(*) FROM task_instance WHERE run_id = ANY(%s) AND task_id = 'approve_deletion' "
                "AND state = 'awaiting_input'",
                (run_ids,),
            )[0][0]
            if awaiting >= len(run_ids):
                break
            time.sleep(2.0)
        tis = _query(
            topology,
            "SELECT count(*), count(*) FILTER (WHERE state IS NOT NULL AND state <> 'removed') "
            "FROM task_instance WHERE run_id = ANY(%s)",
            (run_ids,),
        )[0]
        stats = sandbox.control.stats(include_writes=False)
        calls = sum(int(n) for n in (stats.get("calls") or {}).values())
        limited = _rate_limit_errors(stats)
    scope = (
        f"{count} persons from one CSV through `offboarding bulk-trigger`, every case run for real up to its "
        f"approval request (awaiting: {awaiting}); 2 Celery workers × {WORKER_CONCURRENCY}, Redis-shared "
        "WeCom limits."
    )
    extrapolated = (
        ""
        if not full
        else (
            f" For 1,000 persons (extrapolated linearly from {count}): "
            f"{all_verified / count * 1000 / 60:.0f} min."
        )
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
            notes=f"from the command's start until the last backup.verify_backup_manifest "
            f"succeeded ({all_verified / count:.1f} s per case at this deployment's 8 worker slots)."
            f"{extrapolated}",
        ),
        Row.measured(
            "mass_layoff.task_instances_per_case",
            tis[0] / count,
            "TIs",
            notes=f"task instances created per person case ({tis[1] / count:.1f} with a state by the "
            "approval request).",
        ),
        Row.measured(
            "mass_layoff.wecom_calls_per_case",
            calls / count,
            "calls",
            notes="every WeCom call the sandbox answered (tokens included), per case, up to the "
            "approval request.",
        ),
        Row.measured(
            "mass_layoff.rate_limit_errors",
            float(limited),
            "errors",
            goal=Goal.at_most(0),
            notes="WeCom rate-limit answers (45009/45033/45011) the sandbox gave during the layoff.",
            why_missed="the workers' calls exceed WeCom's per-API limits",
        ),
    ]
