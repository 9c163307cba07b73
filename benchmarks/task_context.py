"""The part of Airflow's task context the offboarding operators read, for running them by ``execute()``.

Benches run operators the way tests/operators do: ``operator.execute(context)`` against the sandbox over
HTTP, with params, dag_run, run_id and a task instance whose XCom lives in memory (one per case, so a
later task reads what an earlier one pushed).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from offboarding_dev.testing.task_instance import MemoryTaskInstance


def task_context(
    params: dict[str, Any], *, task_id: str, run_id: str, ti: MemoryTaskInstance
) -> dict[str, Any]:
    """A context for ``task_id`` of the run ``run_id`` (the task instance is reused across tasks)."""
    ti.task_id = task_id
    return {
        "params": params,
        "dag_run": SimpleNamespace(run_id=run_id, triggering_user_name="bench", conf=params),
        "ti": ti,
        "task_instance": ti,
        "run_id": run_id,
    }


def approval_context(
    params: dict[str, Any], *, task_id: str, run_id: str, user: str = "bench"
) -> dict[str, Any]:
    """The context of an approval task answered in the bench (a task instance of its own, as in Airflow)."""
    return task_context(params, task_id=task_id, run_id=run_id, ti=MemoryTaskInstance(task_id=task_id))


def run_task(
    operator: Any, params: dict[str, Any], *, task_id: str, run_id: str, ti: MemoryTaskInstance
) -> Any:
    """``operator.execute(context)``; the return value is kept as the task's XCom like Airflow does."""
    result = operator.execute(task_context(params, task_id=task_id, run_id=run_id, ti=ti))
    ti.xcoms[(task_id, "return_value")] = result
    return result


__all__ = ["MemoryTaskInstance", "approval_context", "run_task", "task_context"]
