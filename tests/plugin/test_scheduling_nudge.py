"""The scheduling nudge: a case's run is examined in the scheduler's next loop after its task changed state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from offboarding.scheduling_nudge import SchedulingNudge, examine_run_soon, examine_soon
from offboarding_dev.synthetic import create_metadata_tables, seed_synthetic_cases

NOW = dt.datetime(2026, 6, 1, 4, 0, tzinfo=dt.UTC)
TI_ID = "01a243e2-13be-7177-9ded-10011708dfa9"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("metadata") / "airflow.db"
    engine = create_engine(f"sqlite:///{path}")
    create_metadata_tables(engine)
    seed_synthetic_cases(engine, 10, now=NOW)  # runs 1..10: offboard_employee / dissolve_company, 2 finished
    yield engine
    engine.dispose()


def a_task_of(engine: Any, state: str, dag_id: str) -> tuple[int, str]:
    """(run pk, task instance id) of a run in ``state`` of ``dag_id``, examined a minute ago."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    with Session(engine) as session, session.begin():
        run = session.scalars(select(DagRun).where(DagRun.state == state, DagRun.dag_id == dag_id)).first()
        assert run is not None
        session.execute(
            update(DagRun)
            .where(DagRun.id == run.id)
            .values(last_scheduling_decision=NOW - dt.timedelta(minutes=1))
        )
        ti = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
        ).first()
        assert ti is not None
        return run.id, str(ti.id)


def decision(engine: Any, run_pk: int) -> dt.datetime | None:
    from airflow.models.dagrun import DagRun

    with Session(engine) as session:
        return session.scalar(select(DagRun.last_scheduling_decision).where(DagRun.id == run_pk))


def test_a_running_case_is_examined_next(engine: Any) -> None:
    for dag_id in ("offboard_employee", "dissolve_company"):
        run_pk, ti_id = a_task_of(engine, "running", dag_id)
        with Session(engine) as session, session.begin():
            assert examine_soon(session, ti_id) == 1
        assert decision(engine, run_pk) is None  # never-examined runs come first


def test_finished_runs_and_other_dags_are_left_alone(engine: Any) -> None:
    run_pk, ti_id = a_task_of(engine, "success", "offboard_employee")
    with Session(engine) as session, session.begin():
        assert examine_soon(session, ti_id) == 0
        assert examine_soon(session, TI_ID) == 0  # no such task instance
    assert decision(engine, run_pk) is not None
    running_pk, running_ti = a_task_of(engine, "running", "offboard_employee")
    with Session(engine) as session, session.begin():
        assert examine_soon(session, running_ti, dag_ids=("some_other_dag",)) == 0
    assert decision(engine, running_pk) is not None


def test_a_case_action_has_its_run_examined_next(engine: Any) -> None:
    from airflow.models.dagrun import DagRun

    run_pk, _ = a_task_of(engine, "running", "offboard_employee")
    with Session(engine) as session, session.begin():
        run = session.get(DagRun, run_pk)
        assert run is not None
        assert examine_run_soon(session, run.dag_id, run.run_id) == 1
        assert examine_run_soon(session, run.dag_id, "no-such-run") == 0
    assert decision(engine, run_pk) is None
    done_pk, _ = a_task_of(engine, "success", "offboard_employee")
    with Session(engine) as session, session.begin():
        done = session.get(DagRun, done_pk)
        assert done is not None
        assert examine_run_soon(session, done.dag_id, done.run_id) == 0  # a finished case stays finished
    assert decision(engine, done_pk) is not None


async def _call(path: str, method: str, status: int) -> list[str]:
    nudged: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    middleware = SchedulingNudge(app, nudge=nudged.append)
    await middleware({"type": "http", "method": method, "path": path}, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]  # answer passed through
    return nudged


async def test_the_middleware_nudges_after_an_accepted_state_change_only() -> None:
    state = f"/execution/task-instances/{TI_ID}/state"
    assert await _call(state, "PATCH", 204) == [TI_ID]
    assert await _call(state, "PATCH", 409) == []  # refused: nothing changed
    assert await _call(f"/execution/task-instances/{TI_ID}/heartbeat", "PUT", 204) == []
    assert await _call(f"/execution/task-instances/{TI_ID}/run", "PATCH", 200) == []
    assert await _call("/api/v2/dags/offboard_employee/dagRuns", "POST", 200) == []
