"""Synthetic cases in an Airflow metadata database, for the cases-page benchmark and tests.

``seed_synthetic_cases(engine, 10_000)`` inserts DAG runs of ``offboard_employee`` and
``dissolve_company`` with the rows the page reads: finished tasks, a current step per open case (a
human step awaiting input with its ``expected_by`` XCom and owners, a parked legal wait with its
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
    wait (parked: up for reschedule, deadline in 20 days), a running automatic task.
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
                "up_for_reschedule",  # parked: days from its end (sensors.legal_deadline.wait_until)
                "LegalDeadlineSensor",
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


@dataclass(frozen=True)
class ConsoleShowcase:
    """The cases :func:`seed_console_showcase` inserted (for the console's tests and screenshots)."""

    person_run_id: str
    company_run_id: str
    company_members: int
    company_batches: int


def seed_console_showcase(engine: Engine, *, now: dt.datetime) -> ConsoleShowcase:
    """Two realistic cases for the console, next to whatever else is in the database.

    * ``offboard_employee`` / ``showcase-person``: 王小明 (wangxm), last working day five weeks ago, every
      step up to the account deregistration done (human steps answered by their owners), now in the
      legal cooling-off wait (parked, ends in 10 days), put on hold three days ago by ``ops_li``
      (recorded in ``offboarding_case_action``, created here when missing) after a reschedule;
    * ``dissolve_company`` / ``showcase-company``: 示例科技有限公司 with 10,000 members in 50 batches of
      200: 20 batches done, one failed, four running, the rest not started.
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.hitl import HITLDetail
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    from offboarding.cases_page.actions import case_action

    dr, ti, xc = DagRun.__table__, TaskInstance.__table__, XComModel.__table__
    rt, hd = RenderedTaskInstanceFields.__table__, HITLDetail.__table__
    with engine.begin() as conn:
        first_id = int(conn.scalar(select(func.coalesce(func.max(dr.c.id), 0)))) + 1
    runs: list[dict[str, Any]] = []
    tis: list[dict[str, Any]] = []
    xcoms: list[dict[str, Any]] = []
    rendered: list[dict[str, Any]] = []
    details: list[dict[str, Any]] = []

    def day(offset: float, hour: int = 10) -> dt.datetime:
        base = (now + dt.timedelta(days=offset)).astimezone(dt.timezone(dt.timedelta(hours=8)))
        return base.replace(hour=hour, minute=0, second=0, microsecond=0).astimezone(dt.UTC)

    def task(
        pk: int,
        dag_id: str,
        run_id: str,
        task_id: str,
        state: str,
        start: dt.datetime,
        end: dt.datetime | None = None,
        operator: str = "PythonOperator",
        map_index: int = -1,
        label: str | None = None,
    ) -> uuid.UUID:
        row = _task_row(dag_id, run_id, task_id, state, operator, start)
        row.update(map_index=map_index, end_date=end, rendered_map_index=label)
        tis.append(row)
        return row["id"]

    def xcom(
        pk: int, dag_id: str, run_id: str, task_id: str, key: str, value: Any, map_index: int = -1
    ) -> None:
        xcoms.append(
            {
                "dag_run_id": pk,
                "task_id": task_id,
                "map_index": map_index,
                "key": key,
                "dag_id": dag_id,
                "run_id": run_id,
                "value": json.dumps(value),
                "timestamp": now,
            }
        )

    def human(
        ti_id: uuid.UUID,
        subject: str,
        owner: str,
        asked: dt.datetime,
        answered: dt.datetime | None,
        chosen: str = "Done",
    ) -> None:
        details.append(
            {
                "ti_id": ti_id,
                "options": [chosen],
                "subject": subject,
                "params": {},
                "assignees": [{"id": owner, "name": owner}],
                "created_at": asked,
                "responded_at": answered,
                "responded_by": {"id": owner, "name": owner} if answered else None,
                "chosen_options": [chosen] if answered else None,
                "params_input": {},
            }
        )

    # -- the person, in the cooling-off wait, on hold ---------------------------------------------------
    pk, dag_id, run_id = first_id, PERSON_DAG_ID, "showcase-person"
    last_day = (now - dt.timedelta(days=35)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    started = day(-40)
    runs.append(
        {
            "id": pk,
            "dag_id": dag_id,
            "run_id": run_id,
            "run_type": "manual",
            "state": "running",
            "conf": {
                "userid": "wangxm",
                "display_name": "王小明",
                "hr_owner": "hr_wang",
                "last_working_day": last_day.isoformat(),
                "successor_userid": "lisi",
                "time_scale": 1,
            },
            "run_after": started,
            "queued_at": started,
            "start_date": started,
            "end_date": None,
            "triggering_user_name": "ops_li",
        }
    )
    lwd_end = dt.datetime.combine(
        last_day + dt.timedelta(days=1), dt.time(), dt.timezone(dt.timedelta(hours=8))
    )
    for task_id, begin, end in (
        ("preflight.check_case", day(-40), day(-40, 11)),
        ("preflight.check_member_and_successor", day(-40, 11), day(-40, 12)),
    ):
        task(pk, dag_id, run_id, task_id, "success", begin, end)
    wait = "preflight.wait_for_last_working_day"
    task(
        pk,
        dag_id,
        run_id,
        wait,
        "success",
        day(-40, 12),
        lwd_end.astimezone(dt.UTC),
        "LegalDeadlineSensor",
    )
    rendered.append(
        {
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": wait,
            "map_index": -1,
            "rendered_fields": {"deadline": lwd_end.isoformat(), "waiting_for": "last working day"},
        }
    )
    after = lwd_end.astimezone(dt.UTC)
    for offset, task_id in enumerate(
        (
            "backup.snapshot_profile_and_memberships",
            "backup.export_customers_and_groups",
            "backup.export_wedrive_files",
            "backup.verify_backup_manifest",
        )
    ):
        task(
            pk,
            dag_id,
            run_id,
            task_id,
            "success",
            after + dt.timedelta(hours=offset),
            after + dt.timedelta(hours=offset, minutes=40),
        )
    for index, (step, subject) in enumerate(
        (
            ("stop_social_insurance", "社保减员"),
            ("seal_housing_fund", "公积金封存"),
            ("issue_termination_record", "退工登记"),
        )
    ):
        asked = after + dt.timedelta(hours=1)
        answered = after + dt.timedelta(days=1 + index, hours=3)
        human(
            task(
                pk, dag_id, run_id, f"statutory_steps.{step}", "success", asked, answered, "HumanStepOperator"
            ),
            subject,
            "hr_wang",
            asked,
            answered,
        )
    handover = after + dt.timedelta(hours=5)
    task(
        pk,
        dag_id,
        run_id,
        "handover.hand_over_customers",
        "success",
        handover,
        handover + dt.timedelta(hours=1),
        "HandOverCustomersOperator",
    )
    task(
        pk,
        dag_id,
        run_id,
        "handover.disable_member",
        "success",
        handover + dt.timedelta(hours=1),
        handover + dt.timedelta(hours=1, minutes=5),
    )
    asked = handover + dt.timedelta(hours=2)
    approved = asked + dt.timedelta(days=1, hours=2)
    human(
        task(pk, dag_id, run_id, "approve_deletion", "success", asked, approved, "ApproveDeletionOperator"),
        "Approve deleting 王小明 from WeCom?",
        "approver_zhao",
        asked,
        approved,
        "Approve",
    )
    task(
        pk,
        dag_id,
        run_id,
        "account_deregistration.send_deregistration_guide",
        "success",
        approved,
        approved + dt.timedelta(minutes=2),
    )
    task(
        pk,
        dag_id,
        run_id,
        "deletion.delete_member",
        "success",
        approved + dt.timedelta(minutes=3),
        approved + dt.timedelta(minutes=4),
    )
    submitted = approved + dt.timedelta(days=2)
    human(
        task(
            pk,
            dag_id,
            run_id,
            "account_deregistration.record_submission",
            "success",
            approved,
            submitted,
            "HumanStepOperator",
        ),
        "注销账号: record the submission",
        "wangxm",
        approved,
        submitted,
    )
    plan = "account_deregistration.plan_deadlines"
    task(pk, dag_id, run_id, plan, "success", submitted, submitted + dt.timedelta(minutes=1))
    review_due = submitted + dt.timedelta(days=9)
    cooling_end = day(10, 0)
    xcom(
        pk,
        dag_id,
        run_id,
        plan,
        "return_value",
        {"review_due": review_due.isoformat(), "cooling_off_end": cooling_end.isoformat()},
    )
    reviewed = submitted + dt.timedelta(days=6)
    human(
        task(
            pk,
            dag_id,
            run_id,
            "account_deregistration.confirm_review_outcome",
            "success",
            submitted,
            reviewed,
            "HumanDecisionOperator",
        ),
        "注销账号审核: outcome of the review",
        "hr_wang",
        submitted,
        reviewed,
        "passed",
    )
    cooling = "account_deregistration.wait_for_cooling_off_end"
    task(pk, dag_id, run_id, cooling, "up_for_reschedule", reviewed, None, "LegalDeadlineSensor")  # parked
    rendered.append(
        {
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": cooling,
            "map_index": -1,
            "rendered_fields": {
                "deadline": cooling_end.isoformat(),
                "anchor": submitted.isoformat(),
                "waiting_for": "cooling-off end",
            },
        }
    )
    actions = [
        {
            "case_id": "offboard-wangxm",
            "dag_id": dag_id,
            "run_id": run_id,
            "action": "reschedule",
            "by_user": "hr_wang",
            "at": day(-39, 15),
            "reason": "last day moved by HR",
            "fields": {"last_working_day": last_day.isoformat()},
            "outcome": "accepted",
        },
        {
            "case_id": "offboard-wangxm",
            "dag_id": dag_id,
            "run_id": run_id,
            "action": "hold",
            "by_user": "ops_li",
            "at": day(-3, 16),
            "reason": "legal review of the handover",
            "fields": {},
            "outcome": "accepted",
        },
    ]

    # -- the company, in the middle of its member batches ------------------------------------------------
    cpk, cdag, crun = first_id + 1, COMPANY_DAG_ID, "showcase-company"
    cstart = day(-60)
    runs.append(
        {
            "id": cpk,
            "dag_id": cdag,
            "run_id": crun,
            "run_type": "manual",
            "state": "running",
            "conf": {
                "company_name": "示例科技有限公司",
                "credit_code": "91350100M000100Y43",
                "procedure": "general",
                "hr_owner": "legal_chen",
            },
            "run_after": cstart,
            "queued_at": cstart,
            "start_date": cstart,
            "end_date": None,
            "triggering_user_name": "ops_li",
        }
    )
    members, size = 10_000, 200
    batches = members // size
    group = "offboard_all_members"
    task(cpk, cdag, crun, "preflight.check_case", "success", cstart, cstart + dt.timedelta(minutes=5))
    task(
        cpk,
        cdag,
        crun,
        "dissolution_notice.wait_for_notice_period_end",
        "success",
        day(-50),
        day(-5),
        "LegalDeadlineSensor",
    )
    asked = day(-5, 12)
    human(
        task(
            cpk,
            cdag,
            crun,
            "approve_member_deletion",
            "success",
            asked,
            day(-4, 11),
            "ApproveDeletionOperator",
        ),
        "Approve removing every member of 示例科技有限公司",
        "approver_zhao",
        asked,
        day(-4, 11),
        "Approve",
    )
    task(cpk, cdag, crun, f"{group}.plan_member_batches", "success", day(-4, 11), day(-4, 12))
    xcom(
        cpk,
        cdag,
        crun,
        f"{group}.plan_member_batches",
        "plan_summary",
        {
            "members": members + 2,
            "batches": batches,
            "batch_size": size,
            "leader_batches": 1,
            "to_delete": members,
            "kept": {"succ": "successor"},
        },
    )
    plan_batches = [
        {
            "batch_id": f"batch-{n:03d}",
            "number": n,
            "of": batches,
            "first": (n - 1) * size + 1,
            "last": n * size,
            "leaders": False,
            "label": f"batch {n}/{batches} (members {(n - 1) * size + 1}–{n * size})",
        }
        for n in range(1, batches + 1)
    ]
    xcom(cpk, cdag, crun, f"{group}.plan_member_batches", "return_value", plan_batches)
    for index, batch in enumerate(plan_batches):
        begin = day(-4, 12) + dt.timedelta(minutes=20 * index)
        if index < 20:
            state, end = "success", begin + dt.timedelta(minutes=18)
        elif index == 20:
            state, end = "failed", begin + dt.timedelta(minutes=7)
        elif index < 25:
            state, end = "running", None
        else:
            state, end, begin = "scheduled", None, None
        task(
            cpk,
            cdag,
            crun,
            f"{group}.offboard_member_batch",
            state,
            begin,
            end,
            "OffboardMemberBatchOperator",
            map_index=index,
            label=batch["label"],
        )
        if state == "success":
            kept = 2 if index == 0 else 0
            xcom(
                cpk,
                cdag,
                crun,
                f"{group}.offboard_member_batch",
                "return_value",
                {
                    "batch_id": batch["batch_id"],
                    "label": batch["label"],
                    "members": size,
                    "offboarded": size - kept,
                    "kept": kept,
                    "already_gone": 0,
                    "backup_failed": 0,
                    "delete_failed": 0,
                    "pending": 0,
                },
                map_index=index,
            )

    with engine.begin() as conn:
        for table, rows in ((dr, runs), (ti, tis), (xc, xcoms), (rt, rendered), (hd, details)):
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
    case_action.metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(insert(case_action), actions)
    return ConsoleShowcase(run_id, crun, members + 2, batches)
