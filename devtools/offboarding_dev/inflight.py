"""Cases in flight written straight into a deployment's metadata database, the way Airflow records them.

For the capacity benchmark: 10,000 cases that each wait weeks cannot be walked there for real in a
benchmark's time. ``python -m offboarding_dev.inflight SPEC.json`` (run with the deployment's Airflow
environment: its database and Fernet key) creates, for every case of the spec:

* the DAG run, with Airflow's own ``create_dagrun`` on the latest serialized version of the DAG (the
  trigger endpoint's call; its task instances are created there too), state ``running``, last examined
  by the scheduler now (``last_scheduling_decision``), as a run that has waited for days has been;
* every task that precedes the waiting step, or runs beside it, as ``success`` (started and ended);
* the waiting step as Airflow's execution API records it: a **deferred** wait gets a ``trigger`` row
  (``Trigger(classpath, kwargs)``, kwargs encrypted with the Fernet key) and ``trigger_id``,
  ``next_method="execute_complete"``; a legal wait further off than the triggerer lead
  (``OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS``) is **parked**, as the sensors park it: ``up_for_reschedule``
  with its ``task_reschedule`` row (reschedule date = wake time − lead); a **human step** is
  ``awaiting_input`` with its ``hitl_detail`` row;
* the rendered fields the cases page and the watchdog read: a legal wait's deadline, anchor and time
  scale, a human step's due time (``expected_by``).

The triggers are those the product's sensors defer to, built with the arguments they defer with: the
standard provider's ``DateTimeTrigger`` at the wall-clock wake time for a legal wait (the wait for the
last working day defers once, to the day's end), :class:`CustomerTakeoverTrigger` for a transfer wait. Spec: a JSON list of
``{"dag_id", "run_id", "conf", "wait": {"task_id", "kind": "legal"|"takeover"|"human", ...}}`` with, for
``legal``: ``deadline``, ``wake_at``, ``label``; ``takeover``: ``member``, ``successor``,
``poll_interval_seconds``; ``human``: ``subject``, ``options``, ``assignees``. Prints a JSON summary.

Meant for benchmarks on scratch deployments, never on a real one.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

SUCCESS_BATCH = 200
#: Runs written between two ANALYZEs. PostgreSQL's autovacuum refreshes a table's statistics once a tenth of
#: it changed; on a database without it, the rest of a bulk write (and every later query) would be planned
#: for the tables as they were before.
ANALYZE_EVERY = 1000


def _trigger_for(wait: Mapping[str, Any], now: dt.datetime) -> Any:
    if wait["kind"] == "legal":  # as the legal-wait sensors defer: the standard provider's time wait
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        return DateTimeTrigger(moment=dt.datetime.fromisoformat(wait["wake_at"]))
    from offboarding.triggers.takeover import CustomerTakeoverTrigger

    return CustomerTakeoverTrigger(
        wecom_conn_id=wait["wecom_conn_id"],
        handover_userid=wait["member"],
        takeover_userid=wait["successor"],
        poll_interval_seconds=float(wait["poll_interval_seconds"]),
        anchor=now,
    )


def _rendered_fields(case: Mapping[str, Any], wait: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """What the cases page and the watchdog read of a waiting step's rendered fields: a legal wait's
    deadline, anchor and time scale; a human step's due time (as ``DueTimeMixin`` renders it)."""
    if wait["kind"] == "legal":
        return {
            "deadline": wait["deadline"],
            "anchor": wait.get("anchor") or now.isoformat(),
            "time_scale": str(case["conf"].get("time_scale", 1)),
        }
    if wait["kind"] == "human":
        from offboarding.operators.human_step import human_step_due

        return {"expected_by": human_step_due(wait["task_id"].rpartition(".")[2])}
    return {}


def _done_before(dag: Any, task_id: str) -> set[str]:
    """Tasks that have run when ``task_id`` waits: everything except the step itself and what follows it."""
    downstream = dag.task_dict[task_id].get_flat_relative_ids(upstream=False)
    return set(dag.task_dict) - downstream - {task_id}


def refresh_statistics(session: Any) -> None:
    """``ANALYZE`` the metadata database (PostgreSQL; SQLite plans without statistics)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE"))


def synthesize(cases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Create ``cases`` (see the module doc) in the configured metadata database; return counts."""
    from airflow.models.dag_version import DagVersion  # noqa: F401 - mapper configuration
    from airflow.models.dagbag import DBDagBag
    from airflow.models.hitl import HITLDetail
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import Trigger
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunTriggeredByType, DagRunType
    from sqlalchemy import insert, update

    started = time.perf_counter()
    from airflow.models.taskreschedule import TaskReschedule

    from offboarding.settings import time_wait_triggerer_lead

    lead = time_wait_triggerer_lead()
    counts = {"runs": 0, "task_instances": 0, "triggers": 0, "parked": 0, "human_steps": 0}
    bag = DBDagBag()
    dags: dict[str, Any] = {}
    done_sets: dict[tuple[str, str], set[str]] = {}
    ti_table = TaskInstance.__table__
    for chunk_start in range(0, len(cases), SUCCESS_BATCH):
        chunk = cases[chunk_start : chunk_start + SUCCESS_BATCH]
        with create_session() as session:
            for case in chunk:
                dag_id, wait = case["dag_id"], case["wait"]
                if dag_id not in dags:
                    dags[dag_id] = bag.get_latest_version_of_dag(dag_id, session=session)
                dag = dags[dag_id]
                now = dt.datetime.now(dt.UTC)
                since = now - dt.timedelta(days=float(case.get("started_days_ago", 3)))
                run = dag.create_dagrun(
                    run_id=case["run_id"],
                    run_after=since,
                    conf=dict(case["conf"]),
                    run_type=DagRunType.MANUAL,
                    triggered_by=DagRunTriggeredByType.REST_API,
                    triggering_user_name=case.get("triggered_by", "hr"),
                    state=DagRunState.RUNNING,
                    start_date=since,
                    session=session,
                )
                # A case that has waited for days was examined by the scheduler many times: without this,
                # every synthesized run would be "never examined" and go before a new case in the
                # scheduler's queue until its first rotation through all of them had passed.
                run.last_scheduling_decision = now
                session.flush()
                key = (dag_id, wait["task_id"])
                if key not in done_sets:
                    done_sets[key] = _done_before(dag, wait["task_id"])
                session.execute(
                    update(ti_table)
                    .where(
                        ti_table.c.dag_id == dag_id,
                        ti_table.c.run_id == run.run_id,
                        ti_table.c.task_id.in_(done_sets[key]),
                    )
                    .values(
                        state=TaskInstanceState.SUCCESS,
                        try_number=1,
                        start_date=since,
                        end_date=since + dt.timedelta(seconds=5),
                        duration=5.0,
                    )
                )
                waiting = {"try_number": 1, "start_date": now, "next_method": "execute_complete"}
                parked_until = (
                    dt.datetime.fromisoformat(wait["wake_at"]) - lead if wait["kind"] == "legal" else None
                )
                if wait["kind"] == "human":
                    waiting["state"] = TaskInstanceState.AWAITING_INPUT
                elif parked_until is not None and parked_until > now:
                    waiting |= {
                        "state": TaskInstanceState.UP_FOR_RESCHEDULE,
                        "next_method": None,
                        "end_date": now,
                        "duration": 0.0,
                    }
                    counts["parked"] += 1
                else:
                    trigger = _trigger_for(wait, now)
                    classpath, kwargs = trigger.serialize()
                    row = Trigger(classpath=classpath, kwargs=kwargs)
                    session.add(row)
                    session.flush()
                    waiting |= {
                        "state": TaskInstanceState.DEFERRED,
                        "trigger_id": row.id,
                        "next_kwargs": None,
                    }
                    counts["triggers"] += 1
                session.execute(
                    update(ti_table)
                    .where(
                        ti_table.c.dag_id == dag_id,
                        ti_table.c.run_id == run.run_id,
                        ti_table.c.task_id == wait["task_id"],
                        ti_table.c.map_index == -1,
                    )
                    .values(**waiting)
                )
                ti_id = session.scalar(
                    ti_table.select()
                    .with_only_columns(ti_table.c.id)
                    .where(
                        ti_table.c.dag_id == dag_id,
                        ti_table.c.run_id == run.run_id,
                        ti_table.c.task_id == wait["task_id"],
                    )
                )
                if waiting["state"] == TaskInstanceState.UP_FOR_RESCHEDULE:
                    session.add(TaskReschedule(ti_id, now, now, parked_until))
                if wait["kind"] == "human":
                    session.execute(
                        insert(HITLDetail.__table__).values(
                            ti_id=ti_id,
                            options=list(wait["options"]),
                            subject=wait["subject"],
                            body=wait.get("body"),
                            defaults=None,
                            multiple=False,
                            params={},
                            assignees=[{"id": a, "name": a} for a in wait["assignees"]],
                            created_at=now,
                            params_input={},
                        )
                    )
                    counts["human_steps"] += 1
                rendered = _rendered_fields(case, wait, now)
                if rendered:
                    session.execute(
                        insert(RenderedTaskInstanceFields.__table__).values(
                            dag_id=dag_id,
                            run_id=run.run_id,
                            task_id=wait["task_id"],
                            map_index=-1,
                            rendered_fields=rendered,
                        )
                    )
                counts["runs"] += 1
                counts["task_instances"] += len(dag.task_dict)
        if counts["runs"] % ANALYZE_EVERY < len(chunk) or chunk_start + len(chunk) >= len(cases):
            with create_session() as session:
                refresh_statistics(session)
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m offboarding_dev.inflight SPEC.json", file=sys.stderr)
        return 2
    cases = json.loads(Path(args[0]).read_text("utf-8"))
    print(json.dumps(synthesize(cases)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
