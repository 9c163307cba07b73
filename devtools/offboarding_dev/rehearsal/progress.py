"""Where each case of a rehearsal is: one line per DAG run, with the steps running now and whom they wait for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from offboarding.airflow_api import FINAL_RUN_STATES, AirflowApi

#: Task-instance states of a step that has started but not finished.
ACTIVE_STATES = (
    "running",
    "queued",
    "scheduled",
    "deferred",
    "awaiting_input",
    "up_for_retry",
    "up_for_reschedule",
    "restarting",
)
DONE_STATES = ("success", "skipped")


@dataclass(frozen=True)
class CaseProgress:
    """One case's run state, counts and current steps (``waiting_for``: task → assigned users)."""

    dag_id: str
    run_id: str
    state: str
    done: int
    total: int
    current: tuple[tuple[str, str], ...]  # (task_id, state)
    waiting_for: Mapping[str, tuple[str, ...]]
    failed: tuple[str, ...]  # the steps that failed themselves (not those skipped because of them)
    upstream_failed: int = 0

    @property
    def finished(self) -> bool:
        return self.state in FINAL_RUN_STATES

    def line(self) -> str:
        """``offboard-lisi  running  12/35 done; now: backup.export_wedrive_files, approve_deletion (waiting for approver)``"""
        head = f"{self.run_id:<30} {self.state:<8} {self.done:>2}/{self.total} done"
        if self.failed:
            head += f"; failed: {', '.join(self.failed)}"
        if self.upstream_failed:
            head += f" ({self.upstream_failed} not run because of it)"
        if self.finished:
            return head
        steps = []
        for task_id, state in self.current:
            if state == "awaiting_input":
                who = ", ".join(self.waiting_for.get(task_id, ())) or "anyone"
                steps.append(f"{task_id} (waiting for {who})")
            elif state in ("running", "deferred", "up_for_reschedule"):  # the last two: a wait
                steps.append(task_id + (" (waiting)" if state != "running" else ""))
            else:
                steps.append(f"{task_id} ({state})")
        return head + (f"; now: {', '.join(steps)}" if steps else "; between steps")


def waiting_for(pending: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], tuple[str, ...]]:
    """``(dag_id, run_id, task_id)`` → assigned user ids, from ``pending_human_steps()``."""
    found: dict[tuple[str, str, str], tuple[str, ...]] = {}
    for item in pending:
        ti = item.get("task_instance") or {}
        key = (str(ti.get("dag_id")), str(ti.get("dag_run_id")), str(ti.get("task_id")))
        found[key] = tuple(str(u.get("id") or u.get("name")) for u in item.get("assigned_users") or [])
    return found


def case_progress(
    api: AirflowApi,
    dag_id: str,
    run_id: str,
    assigned: Mapping[tuple[str, str, str], tuple[str, ...]] | None = None,
) -> CaseProgress:
    """Read one run and its task instances (``assigned``: from ``waiting_for``, read once for all cases)."""
    run = api.get_dag_run(dag_id, run_id)
    tis = api.list_task_instances(dag_id, run_id)
    current = tuple(
        sorted((str(ti["task_id"]), str(ti["state"])) for ti in tis if ti.get("state") in ACTIVE_STATES)
    )
    return CaseProgress(
        dag_id=dag_id,
        run_id=run_id,
        state=str(run.get("state")),
        done=sum(1 for ti in tis if ti.get("state") in DONE_STATES),
        total=len(tis),
        current=current,
        waiting_for={
            task_id: (assigned or {}).get((dag_id, run_id, task_id), ())
            for task_id, state in current
            if state == "awaiting_input"
        },
        failed=tuple(sorted(str(ti["task_id"]) for ti in tis if ti.get("state") == "failed")),
        upstream_failed=sum(1 for ti in tis if ti.get("state") == "upstream_failed"),
    )


__all__ = ["ACTIVE_STATES", "CaseProgress", "case_progress", "waiting_for"]
