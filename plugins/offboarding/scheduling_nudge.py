"""Let the scheduler look at a case again as soon as one of its tasks changed state.

Airflow 3.3's scheduler examines running DAG runs a few at a time (``[scheduler]
max_dagruns_per_loop_to_schedule``, 20), never-examined runs first, then the one examined longest ago
(``dag_run.last_scheduling_decision``). Airflow 3 has no "mini scheduler" any more, so when a task ends,
its downstream tasks wait until the scheduler's rotation comes back to the run. With thousands of cases
waiting for weeks (last working day, customer takeover, cooling-off, notice period), one rotation takes
minutes, and a new case's backup waited that long between each of its steps (the capacity bench: 54 s
to a verified backup with 200 cases in flight against 9 s with none).

:class:`SchedulingNudge` is an ASGI middleware the plugin adds to the api-server
(``fastapi_root_middlewares``). After the Execution API accepted a task's new state (``PATCH
/execution/task-instances/{id}/state``: success, failure, deferral, ...) it clears the
``last_scheduling_decision`` of that task's run, if the run is a running offboarding case: the scheduler
examines it in its next loop, as it does a new run. Runs that only wait are left to the slow rotation,
which is all they need. One small ``UPDATE`` per task state change, after the answer was sent (the
worker does not wait for it); a failure is logged and changes nothing else. Not on SQLite (the demo's
database): it has one writer at a time and never holds cases enough for the rotation to matter.

A case action accepted on the cases page or its REST API (reschedule, rescind, hold, release, correct)
does the same for its case (:func:`examine_run_soon`), in the transaction that records it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from offboarding.cases import CASE_DAG_OF_KIND

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The Execution API's "this task is now in state X" call (the worker's supervisor sends it).
STATE_CHANGE = re.compile(r"/execution/task-instances/([0-9a-fA-F-]{32,36})/state")
#: The DAGs whose runs are nudged: the cases and the rescind runs (no other DAG of the deployment).
CASE_DAG_IDS = (*CASE_DAG_OF_KIND.values(), "offboarding_rescind")


def _examine_next_loop(session: Any, which_run: Any, dag_ids: Collection[str]) -> int:
    from airflow.models.dagrun import DagRun
    from sqlalchemy import update

    result = session.execute(
        update(DagRun)
        .where(which_run, DagRun.state == "running", DagRun.dag_id.in_(list(dag_ids)))
        .values(last_scheduling_decision=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def examine_soon(session: Any, task_instance_id: str, dag_ids: Collection[str] = CASE_DAG_IDS) -> int:
    """Clear ``last_scheduling_decision`` of the running case run that task instance ``task_instance_id``
    belongs to, so the scheduler examines it in its next loop; returns the rows changed (0 or 1)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    run_id = (
        select(DagRun.id)
        .join(TaskInstance, (TaskInstance.dag_id == DagRun.dag_id) & (TaskInstance.run_id == DagRun.run_id))
        .where(TaskInstance.id == uuid.UUID(task_instance_id))
        .scalar_subquery()
    )
    return _examine_next_loop(session, DagRun.id == run_id, dag_ids)


def examine_run_soon(session: Any, dag_id: str, run_id: str, dag_ids: Collection[str] = CASE_DAG_IDS) -> int:
    """The same for the run ``(dag_id, run_id)``: after a case action changed its task instances (a
    reschedule's cleared wait, a rescind's skipped steps), the scheduler acts on them in its next loop
    instead of when its rotation through the waiting cases comes back to the run."""
    from airflow.models.dagrun import DagRun

    return _examine_next_loop(session, (DagRun.dag_id == dag_id) & (DagRun.run_id == run_id), dag_ids)


def _nudge(task_instance_id: str) -> None:
    from airflow import settings
    from airflow.utils.session import create_session

    engine = settings.engine
    if engine is None or engine.dialect.name == "sqlite":
        return  # one writer at a time, demo-sized: the extra write would only contend for the lock
    try:
        with create_session() as session:
            examine_soon(session, task_instance_id)
    except Exception:  # the scheduler's rotation reaches the run anyway; never fail the API for this
        log.warning("Could not nudge the scheduler for task instance %s", task_instance_id, exc_info=True)


class SchedulingNudge:
    """ASGI middleware: after a 2xx answer to a task's state change, nudge the scheduler (see module doc)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        nudge: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.nudge = nudge or _nudge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = (
            STATE_CHANGE.fullmatch(scope.get("path", ""))
            if scope.get("type") == "http" and scope.get("method") == "PATCH"
            else None
        )
        if match is None:
            await self.app(scope, receive, send)
            return
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 0))
            await send(message)

        await self.app(scope, receive, sending)
        if 200 <= status < 300:
            from anyio import to_thread

            await to_thread.run_sync(self.nudge, match.group(1))
