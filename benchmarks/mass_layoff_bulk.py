"""The bulk shape of a mass layoff: the same kind of HR export as ONE ``offboard_layoff`` case.

Run by ``benchmarks.mass_layoff`` on its deployment, after the per-person shape was measured. The N
persons are members of their own WeCom sandbox corp (its own corp id and connection ``LAYOFF_CONN_ID``),
leave today in rehearsal time (``time_scale`` 86400: the wait for the last working day ends at once) and
all go through for real:

1. the real command line ``offboarding bulk-trigger export.csv --one-case <list id>`` (as ``hr``);
2. ``preflight`` (one ``user/list_id`` pass), ``plan_member_batches`` (batches of ≤ 200 persons sharing a
   successor), then ``approve_member_deletion``: the bench answers it as the eligible approver
   (``approver``) through Airflow's REST API (``PATCH .../hitlDetails``), with the rehearsal responder
   (``offboarding_dev.rehearsal.responder``: it answers only once the task has settled in
   ``awaiting_input`` and the scheduler has looped again);
3. ``offboard_member_batch`` (mapped): back up and verify, hand customers and groups over, delete
   (``user/batchdelete``), resigned transfers; then ``summarise_member_offboarding``.

Timings are from the command's start, in the database's own timestamps where there are some (the
human-in-the-loop record's ``created_at`` / ``responded_at``, the task instances' ``end_date``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.capacity import _query
from benchmarks.mass_layoff import _rate_limit_errors
from benchmarks.results import Goal, Row

LAYOFF_DAG_ID = "offboard_layoff"
LAYOFF_CONN_ID = "wecom_layoff_list"
#: Its own corp id: WeCom tokens are cached (in Redis, deployment-wide) per corp id and secret.
LAYOFF_CORPID = "wwsandbox00000003"
LIST_ID = "bench-mass-layoff"
LIST_NAME = "批量优化（容量测试）"
APPROVER = "approver"
APPROVAL_TASK_ID = "approve_member_deletion"
BATCH_TASK_ID = "offboard_all_members.offboard_member_batch"
SUMMARY_TASK_ID = "offboard_all_members.summarise_member_offboarding"
FAILED_STATES = ("failed", "upstream_failed")
LOG_LINES = 15
TIMELINE_TASKS = (
    "preflight.check_case",
    "preflight.check_members",
    "preflight.wait_for_last_working_day",
    "offboard_all_members.plan_member_batches",
    APPROVAL_TASK_ID,
)
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class BulkRun:
    """What the bulk shape measured for ``count`` persons (seconds from the command's start)."""

    count: int
    trigger_seconds: float
    approval_requested: float
    approval_answered: float
    all_batches_done: float
    summary_done: float
    batches: int
    task_instances: int
    calls: int
    rate_limited: int
    answered_by: str
    run_state: str
    #: Members the list's sandbox holds as deleted afterwards (every listed person, none else).
    deleted: int
    #: Where the time to the approval went: each task before it, queued and run (from the command's start).
    timeline: str = ""

    @property
    def approval_wait(self) -> float:
        """Seconds the approval waited for its answer (the bench answers after Airflow's settle rule)."""
        return max(0.0, self.approval_answered - self.approval_requested)


# ---------------------------------------------------------------------- the command


def trigger_list(topology: Any, export: Path, workdir: Path) -> float:
    """Run ``offboarding bulk-trigger --one-case`` against the api-server; its wall time (s)."""
    from benchmarks.mass_layoff import run_bulk_trigger

    seconds, output = run_bulk_trigger(
        topology, export, workdir, "--one-case", LIST_ID, "--list-name", LIST_NAME
    )
    if "Triggered on DAG" not in output:
        raise RuntimeError(f"bulk-trigger --one-case triggered nothing: {output[-1500:]}")
    return seconds


# ---------------------------------------------------------------------- the run, from the database


def task_states(topology: Any, run_id: str) -> dict[tuple[str, int], tuple[str | None, datetime | None]]:
    """``(task_id, map_index)`` → ``(state, end_date)`` of every task instance of the run."""
    rows = _query(
        topology,
        "SELECT task_id, map_index, state, end_date FROM task_instance WHERE dag_id = %s AND run_id = %s",
        (LAYOFF_DAG_ID, run_id),
    )
    return {(r[0], int(r[1])): (r[2], r[3]) for r in rows}


def _human_step(topology: Any, run_id: str) -> tuple[datetime | None, datetime | None, str]:
    """The approval's human-in-the-loop record: asked at, answered at, answered by (latest try)."""
    rows = _query(
        topology,
        "SELECT h.created_at, h.responded_at, h.responded_by FROM hitl_detail h "
        "JOIN task_instance ti ON ti.id = h.ti_id "
        "WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.task_id = %s ORDER BY h.created_at DESC LIMIT 1",
        (LAYOFF_DAG_ID, run_id, APPROVAL_TASK_ID),
    )
    if not rows:
        return None, None, ""
    by = rows[0][2]
    if isinstance(by, str):
        by = json.loads(by)
    name = str((by or {}).get("name") or (by or {}).get("id") or "")
    return rows[0][0], rows[0][1], name


def _run_state(topology: Any, run_id: str) -> str:
    rows = _query(
        topology, "SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (LAYOFF_DAG_ID, run_id)
    )
    return str(rows[0][0]) if rows else "missing"


def log_tail(topology: Any, run_id: str, task_id: str, map_index: int) -> str:
    """The last lines of the task's latest attempt log (each line's event when it is Airflow's JSON)."""
    base = Path(topology.env.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER") or topology.home / "logs")
    folder = base / f"dag_id={LAYOFF_DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
    if map_index >= 0:
        folder = folder / f"map_index={map_index}"
    attempts = sorted(folder.glob("attempt=*.log"))
    if not attempts:
        return f"(no task log under {folder})"
    lines = []
    for line in attempts[-1].read_text(errors="replace").splitlines()[-LOG_LINES:]:
        try:
            record = json.loads(line)
        except ValueError:
            lines.append(line[:400])
            continue
        detail = record.get("error_detail")
        text = f"{record.get('level', '')}: {record.get('event', '')}"
        lines.append((text + (f" {json.dumps(detail)[:1200]}" if detail else ""))[:1600])
    return "\n".join(lines)


def failure_report(topology: Any, run_id: str, failed: list[tuple[str, int]]) -> str:
    """Which tasks failed, each with the tail of its log."""
    parts = [f"{LAYOFF_DAG_ID} run {run_id}: task(s) failed: {', '.join(f'{t}[{m}]' for t, m in failed)}"]
    for task_id, map_index in failed[:3]:
        parts.append(
            f"--- {task_id}[{map_index}] log tail:\n{log_tail(topology, run_id, task_id, map_index)}"
        )
    return "\n".join(parts)


# ---------------------------------------------------------------------- driving it


def _answer(responder: Any) -> None:
    """One pass of the responder; a step it cannot answer fails the bench, naming why."""
    from offboarding_dev.rehearsal.responder import PROBLEMS

    for report in responder.run_once():
        if report.status in PROBLEMS:
            raise RuntimeError(f"the approval of {report.run_id} cannot be answered: {report.detail}")


def drive(topology: Any, responder: Any, run_id: str, deadline: float) -> None:
    """Answer the approval when it is asked, until the summary succeeded; fail on any failed task."""
    while True:
        states = task_states(topology, run_id)
        failed = sorted(k for k, (state, _) in states.items() if state in FAILED_STATES)
        if failed:
            raise RuntimeError(failure_report(topology, run_id, failed))
        if states.get((SUMMARY_TASK_ID, -1), (None, None))[0] == "success":
            return
        if _run_state(topology, run_id) == "failed":
            raise RuntimeError(f"{LAYOFF_DAG_ID} run {run_id} failed; task states: {_compact(states)}")
        if not responder.answered:
            _answer(responder)
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{run_id}: the summary did not succeed in time; task states: {_compact(states)}"
            )
        time.sleep(POLL_SECONDS)


def _compact(states: dict[tuple[str, int], tuple[str | None, datetime | None]]) -> str:
    return ", ".join(f"{t}{f'[{m}]' if m >= 0 else ''}={s}" for (t, m), (s, _) in sorted(states.items()))


def _wait_for_run_end(topology: Any, run_id: str, seconds: float) -> str:
    """The run's state once it ended (close_case after the summary), or ``running`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = _run_state(topology, run_id)
        if state in ("success", "failed"):
            return state
        time.sleep(POLL_SECONDS)
    return _run_state(topology, run_id)


def measure_bulk(topology: Any, sandbox: Any, export: Path, count: int, workdir: Path) -> BulkRun:
    """Trigger the export as one case, answer its approval, wait for its summary; what it took."""
    from offboarding_dev.rehearsal.responder import Responder

    run_id = f"layoff-{LIST_ID}"
    sandbox.control.reset_stats()
    began_wall = time.time()
    trigger_seconds = trigger_list(topology, export, workdir)
    responder = Responder(
        topology.api_url,
        {u: topology.passwords[u] for u in ("admin", APPROVER)},
        sandboxes={LAYOFF_CONN_ID: sandbox.base_url},
        dag_ids=[LAYOFF_DAG_ID],
        run_ids=[run_id],
    )
    try:
        drive(topology, responder, run_id, time.monotonic() + 900 + 3 * count)
    finally:
        responder.close()
    run_state = _wait_for_run_end(topology, run_id, 120)
    if run_state == "failed":
        states = task_states(topology, run_id)
        failed = sorted(k for k, (state, _) in states.items() if state in FAILED_STATES)
        raise RuntimeError(failure_report(topology, run_id, failed) if failed else f"{run_id} failed")
    return _facts(topology, sandbox, run_id, count, trigger_seconds, began_wall, run_state)


def _facts(
    topology: Any, sandbox: Any, run_id: str, count: int, trigger_seconds: float, began: float, run_state: str
) -> BulkRun:
    states = task_states(topology, run_id)
    batch_ends = [end for (task, _), (_, end) in states.items() if task == BATCH_TASK_ID and end is not None]
    summary_end = states[(SUMMARY_TASK_ID, -1)][1]
    asked, answered, by = _human_step(topology, run_id)
    if asked is None or answered is None or not batch_ends or summary_end is None:
        raise RuntimeError(f"{run_id}: the run has no approval record or no ended batch: {_compact(states)}")
    stats = sandbox.control.stats(include_writes=False)
    world = sandbox.control.state()
    deleted = int(world["members"]["deleted"])
    if deleted != count:
        raise RuntimeError(f"{run_id} succeeded, but the sandbox holds {deleted} of {count} persons deleted")
    return BulkRun(
        count=count,
        trigger_seconds=trigger_seconds,
        approval_requested=asked.timestamp() - began,
        approval_answered=answered.timestamp() - began,
        all_batches_done=max(batch_ends).timestamp() - began,
        summary_done=summary_end.timestamp() - began,
        batches=len(batch_ends),
        task_instances=len(states),
        calls=sum(int(n) for n in (stats.get("calls") or {}).values()),
        rate_limited=_rate_limit_errors(stats),
        answered_by=by,
        run_state=run_state,
        deleted=deleted,
        timeline=_timeline(topology, run_id, began),
    )


def _timeline(topology: Any, run_id: str, began: float) -> str:
    """``check_case queued 1.2 s, ran 0.4–1.9 s; ...`` for the tasks up to the approval request."""
    rows = _query(
        topology,
        "SELECT task_id, queued_dttm, start_date, end_date FROM task_instance "
        "WHERE dag_id = %s AND run_id = %s AND map_index = -1 ORDER BY start_date",
        (LAYOFF_DAG_ID, run_id),
    )

    def at(moment: datetime | None) -> str:
        return f"{moment.timestamp() - began:.1f}" if moment is not None else "?"

    return "; ".join(
        f"{task.rpartition('.')[2]} queued {at(queued)}, ran {at(start)}–{at(end)} s"
        for task, queued, start, end in rows
        if task in TIMELINE_TASKS
    )


# ---------------------------------------------------------------------- rows


def bulk_rows(run: BulkRun, per_person_seconds: float, per_person_basis: str) -> list[Row]:
    """The bulk shape's rows and ``mass_layoff.bulk_speedup`` against the per-person shape.

    ``per_person_seconds``: the per-person shape's time until every backup of ``run.count`` persons is
    verified (extrapolated when it drove a subset); ``per_person_basis`` says how it was obtained. The
    speedup divides it by the bulk shape's time until its last batch succeeded, less the time its
    approval waited for an answer (the per-person shape stops at its approval request).
    """
    n = run.count
    scope = (
        f"{n:,} persons from one CSV through `offboarding bulk-trigger --one-case` as one {LAYOFF_DAG_ID} "
        f"run ({run.batches} batch{'es' if run.batches != 1 else ''} of ≤ 200), all driven for real on their "
        "own sandbox corp in rehearsal time, on the same deployment after the per-person shape."
    )
    # The per-person shape stops at its approval request: the bulk shape's time is compared without the
    # time its approval waited for an answer (a person's, here the bench's: its settle rule).
    machine_seconds = run.all_batches_done - run.approval_wait
    return [
        Row.measured(
            "mass_layoff.bulk.trigger_time",
            run.trigger_seconds,
            "s",
            notes=f"{scope} The command's wall time: read and validate the sheet, one POST of the run.",
        ),
        Row.measured(
            "mass_layoff.bulk.approval_requested",
            run.approval_requested,
            "s",
            notes="from the command's start until approve_member_deletion asked the approvers (the human-"
            "in-the-loop record's created_at): preflight (one user/list_id pass) and the plan of batches. "
            f"Answered by {run.answered_by or '?'} through the REST API at {run.approval_answered:.1f} s "
            "(the bench answers once the task has settled in awaiting_input and the scheduler looped again). "
            f"Tasks (s from the command's start): {run.timeline}.",
        ),
        Row.measured(
            "mass_layoff.bulk.all_backups_verified",
            run.all_batches_done,
            "s",
            notes="from the command's start until the last offboard_member_batch succeeded: every person's "
            "backup verified, AND their customers and groups handed over, the persons deleted "
            "(user/batchdelete) and the resigned transfers started — more than the per-person rows cover. "
            f"Includes the approval, answered by the bench at {run.approval_answered:.1f} s. Summary "
            f"succeeded at {run.summary_done:.1f} s; the run ended {run.run_state}. The sandbox then held "
            f"{run.deleted:,} of {n:,} persons deleted.",
        ),
        Row.measured(
            "mass_layoff.bulk.task_instances_per_person",
            run.task_instances / n,
            "TIs",
            notes=f"{run.task_instances} task instances for the whole list (one case), per person.",
        ),
        Row.measured(
            "mass_layoff.bulk.wecom_calls_per_person",
            run.calls / n,
            "calls",
            notes="every WeCom call the list's sandbox answered (tokens included), per person, through the "
            "deletion and the resigned transfers.",
        ),
        Row.measured(
            "mass_layoff.bulk.rate_limit_errors",
            float(run.rate_limited),
            "errors",
            goal=Goal.at_most(0),
            notes="WeCom rate-limit answers (45009/45033/45011) the list's sandbox gave.",
            why_missed="the batches' calls exceed WeCom's per-API limits",
        ),
        Row.measured(
            "mass_layoff.bulk_speedup",
            per_person_seconds / machine_seconds,
            "×",
            notes=f"the per-person shape's time until every backup of {n:,} persons is verified "
            f"({per_person_seconds:.1f} s, {per_person_basis}; it stops at each case's approval request) / "
            f"the bulk shape's time until the last batch succeeded less the time its approval waited for "
            f"the answer ({run.all_batches_done:.1f} s − {run.approval_wait:.1f} s = {machine_seconds:.1f} s, "
            "which includes the deletion and the resigned transfers too). Neither side counts a human's "
            f"wait; counting the bench's {run.approval_wait:.1f} s answer delay it is "
            f"{per_person_seconds / run.all_batches_done:.2f}×. Above 1: the bulk shape is faster.",
        ),
    ]
