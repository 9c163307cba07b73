"""One case's run and every task instance of it, in ONE SELECT, for its timeline.

Each row: the task instance (state, start, end, try), its human-step detail (asked, owners, who
answered when, the answer), its ``expected_by`` XCom, a legal wait's rendered fields and, for the tasks
that plan deadlines (``plan_deadlines``, ``plan_notice_period``), their return value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from offboarding.cases_page.query import CASE_DAG_IDS, _tables, rendered_fields_of, xcom_of
from offboarding.cases_page.timeline import PLAN_XCOMS


def fetch_timeline_rows(
    session: Session, dag_id: str, run_id: str
) -> tuple[dict[str, Any] | None, list[Any]]:
    """(the run, its task-instance rows); (None, []) when there is no such case run."""
    if dag_id not in CASE_DAG_IDS:
        return None, []
    t = _tables()
    dr, ti, xc, rt, hd = t["dr"], t["ti"], t["xc"], t["rt"], t["hd"]
    xr = xc.alias("xr")
    plan_task = or_(*(ti.c.task_id.like(f"%{step}") for step in PLAN_XCOMS))
    query = (
        select(
            dr.c.id.label("run_pk"),
            dr.c.dag_id,
            dr.c.run_id,
            dr.c.state.label("run_state"),
            dr.c.conf,
            dr.c.queued_at,
            dr.c.start_date.label("run_start"),
            dr.c.end_date.label("run_end"),
            ti.c.task_id,
            ti.c.map_index,
            ti.c.state.label("ti_state"),
            ti.c.try_number,
            ti.c.start_date.label("ti_start"),
            ti.c.end_date.label("ti_end"),
            ti.c.operator,
            hd.c.subject,
            hd.c.assignees,
            hd.c.created_at.label("asked_at"),
            hd.c.responded_by,
            hd.c.responded_at,
            hd.c.chosen_options,
            xc.c.value.label("expected_by"),
            xr.c.value.label("plan_value"),
            rt.c.rendered_fields,
        )
        .select_from(
            dr.outerjoin(ti, and_(ti.c.dag_id == dr.c.dag_id, ti.c.run_id == dr.c.run_id))
            .outerjoin(hd, hd.c.ti_id == ti.c.id)
            .outerjoin(xc, xcom_of(xc, dr.c.id, ti, "expected_by"))
            .outerjoin(xr, and_(xcom_of(xr, dr.c.id, ti, "return_value"), plan_task))
            .outerjoin(rt, rendered_fields_of(rt, ti))
        )
        .where(dr.c.dag_id == dag_id, dr.c.run_id == run_id)
        .order_by(ti.c.start_date, ti.c.task_id, ti.c.map_index)
    )
    rows = [dict(r) for r in session.execute(query).mappings()]
    if not rows:
        return None, []
    first = rows[0]
    run = {
        "dag_id": first["dag_id"],
        "run_id": first["run_id"],
        "conf": first["conf"],
        "state": first["run_state"],
        "queued_at": first["queued_at"],
        "start_date": first["run_start"],
        "end_date": first["run_end"],
    }
    from offboarding.cases_page.company_progress import xcom_value

    steps = []
    for row in rows:
        if row["task_id"] is None:
            continue
        row["plan_value"] = xcom_value(row["plan_value"]) if row["plan_value"] is not None else None
        steps.append(row)
    return run, steps


__all__ = ["fetch_timeline_rows"]
