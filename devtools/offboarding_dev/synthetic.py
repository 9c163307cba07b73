"""Synthetic cases in an Airflow metadata database, for the cases-page benchmark and tests.

``seed_synthetic_cases(engine, 10_000)`` inserts DAG runs of ``offboard_employee`` and
``dissolve_company`` with the rows the page reads: finished tasks, a current step per open case (a
human step awaiting input with its ``expected_by`` XCom and owners, a deferred legal wait with its
rendered deadline, or a running task), answered human steps (who, when) and finished cases. A
fixed share of the open human steps is past due, so the stalled filter has something to find.

Meant for a scratch database (e.g. SQLite made with ``create_metadata_tables``), never a real one.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select

from offboarding.cases import COMPANY_DAG_ID, PERSON_DAG_ID

_CHUNK = 2000


@dataclass(frozen=True)
class SyntheticCases:
    """What was inserted, for assertions and benchmark reports."""

    runs: int
    task_instances: int
    open_human_steps: int
    stalled_human_steps: int
    legal_waits: int
    finished: int


def create_metadata_tables(engine: Engine) -> None:
    """Create Airflow's metadata tables in a scratch database (no migrations; for tests and benchmarks)."""
    from airflow.models.base import Base
    from airflow.utils.db import import_all_models

    import_all_models()
    Base.metadata.create_all(engine)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), _CHUNK):
        yield rows[start : start + _CHUNK]


def _task_row(
    dag_id: str, run_id: str, task_id: str, state: str, operator: str, start: dt.datetime
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "dag_id": dag_id,
        "run_id": run_id,
        "task_id": task_id,
        "map_index": -1,
        "state": state,
        "try_number": 1,
        "pool": "default_pool",
        "pool_slots": 1,
        "start_date": start,
        "end_date": start + dt.timedelta(minutes=1) if state == "success" else None,
        "operator": operator,
    }


def seed_synthetic_cases(
    engine: Engine, count: int = 10_000, *, now: dt.datetime | None = None
) -> SyntheticCases:
    """Insert ``count`` synthetic cases; one in five is finished, the others wait at one step.

    Open cases cycle through: a human step past due (stalled), a human step not yet due, a legal
    wait (deferred, deadline in 20 days), a running automatic task.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.hitl import HITLDetail
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    now = now or dt.datetime.now(dt.UTC)
    dr, ti, xc = DagRun.__table__, TaskInstance.__table__, XComModel.__table__
    rt, hd = RenderedTaskInstanceFields.__table__, HITLDetail.__table__
    with engine.begin() as conn:
        first_id = int(conn.scalar(select(func.coalesce(func.max(dr.c.id), 0)))) + 1

    runs, tis, xcoms, rendered, details = [], [], [], [], []
    open_human = stalled = legal = finished = 0
    for n in range(count):
        pk = first_id + n
        person = n % 2 == 0
        dag_id = PERSON_DAG_ID if person else COMPANY_DAG_ID
        run_id = f"synthetic-{pk:06d}"
        queued = now - dt.timedelta(days=30, minutes=n)
        conf = (
            {"userid": f"user{pk}", "display_name": f"员工{pk}", "hr_owner": "hr_wang", "time_scale": 1}
            if person
            else {"company_name": f"公司{pk}", "credit_code": "91350100M000100Y43", "procedure": "general"}
        )
        variant = (n // 2) % 5  # both kinds get every variant
        done = variant == 4
        runs.append(
            {
                "id": pk,
                "dag_id": dag_id,
                "run_id": run_id,
                "run_type": "manual",
                "state": "success" if done else "running",
                "conf": conf,
                "run_after": queued,
                "queued_at": queued,
                "start_date": queued,
                "end_date": now if done else None,
                "triggering_user_name": "ops_li",
            }
        )

        def task(task_id: str, state: str, operator: str, start: dt.datetime) -> uuid.UUID:
            row = _task_row(dag_id, run_id, task_id, state, operator, start)  # noqa: B023 (used at once)
            tis.append(row)
            return row["id"]

        for step in (
            "preflight.check_case",
            "backup.snapshot_profile_and_memberships",
            "backup.verify_backup_manifest",
        ):
            task(step, "success", "PythonOperator", queued)
        answered = task(
            "approve_deletion", "success", "ApproveDeletionOperator", queued + dt.timedelta(days=1)
        )
        details.append(
            {
                "ti_id": answered,
                "options": ["Approve", "Reject"],
                "subject": "Approve deleting the member?",
                "params": {},
                "assignees": [{"id": "approver", "name": "approver"}],
                "created_at": queued + dt.timedelta(days=1),
                "responded_at": queued + dt.timedelta(days=2),
                "responded_by": {"id": "approver", "name": "approver"},
                "chosen_options": ["Approve"],
                "params_input": {},
            }
        )
        if done:
            finished += 1
        elif variant in (0, 1):
            started = now - dt.timedelta(days=10)
            due = started + (dt.timedelta(days=5) if variant == 0 else dt.timedelta(days=60))
            waiting = task(
                "statutory_steps.stop_social_insurance", "awaiting_input", "HumanStepOperator", started
            )
            xcoms.append(
                {
                    "dag_run_id": pk,
                    "task_id": "statutory_steps.stop_social_insurance",
                    "map_index": -1,
                    "key": "expected_by",
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "value": json.dumps(due.isoformat()),
                    "timestamp": started,
                }
            )
            details.append(
                {
                    "ti_id": waiting,
                    "options": ["Done"],
                    "subject": "社保减员",
                    "params": {},
                    "assignees": [{"id": "hr_wang", "name": "hr_wang"}],
                    "created_at": started,
                    "responded_at": None,
                    "responded_by": None,
                    "chosen_options": None,
                    "params_input": {},
                }
            )
            open_human += 1
            stalled += variant == 0
        elif variant == 2:
            started = now - dt.timedelta(days=25)
            task(
                "dissolution_notice.wait_for_notice_period_end",
                "deferred",
                "WaitForLegalDeadlineOperator",
                started,
            )
            rendered.append(
                {
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "task_id": "dissolution_notice.wait_for_notice_period_end",
                    "map_index": -1,
                    "rendered_fields": {
                        "deadline": (now + dt.timedelta(days=20)).isoformat(),
                        "anchor": started.isoformat(),
                    },
                }
            )
            legal += 1
        else:
            task(
                "handover.hand_over_customers",
                "running",
                "HandOverCustomersOperator",
                now - dt.timedelta(minutes=5),
            )

    with engine.begin() as conn:
        for table, rows in ((dr, runs), (ti, tis), (xc, xcoms), (rt, rendered), (hd, details)):
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
    return SyntheticCases(
        runs=count,
        task_instances=len(tis),
        open_human_steps=open_human,
        stalled_human_steps=stalled,
        legal_waits=legal,
        finished=finished,
    )
