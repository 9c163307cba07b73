"""A company wind-up's member offboarding in numbers: members done / failed / remaining, each batch's state.

Read from Airflow's own record, in ONE SELECT for all the company cases of a page: the plan
(``plan_member_batches``: its ``plan_summary`` XCom — how many members — and its return value, the
batches with their member positions), every mapped ``offboard_member_batch`` task instance (its state,
and its return value once it succeeded: offboarded / kept / already gone / failed counts) and
``offboard_leaders``. A batch that failed returned nothing; its members count as *failed* until the
batch is cleared and redoes them (their per-member outcome is in the batch's ``progress.json`` and, at
the end, in ``members/outcomes.csv`` of the case's backup folder).

:func:`company_progress` is pure; :func:`render_progress` draws the bar (SVG) and the batch squares.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from offboarding.cases_page.query import _tables

DONE_COLOR, FAILED_COLOR, RUNNING_COLOR, LEFT_COLOR = "#2da44e", "#cf222e", "#4f8fd6", "#8c959f"
DONE_OUTCOMES = ("offboarded", "kept", "already_gone")
FAILED_OUTCOMES = ("backup_failed", "delete_failed")


#: The task ids of ``offboarding.operators.company_members`` (PLAN_TASK_ID, BATCH_TASK_ID,
#: LEADERS_TASK_ID), written out so a page view does not import the operators into the api-server;
#: tests/cases_page/test_console.py checks they are the same.
TASK_IDS = (
    "offboard_all_members.plan_member_batches",
    "offboard_all_members.offboard_member_batch",
    "offboard_all_members.offboard_leaders",
)


def _task_ids() -> tuple[str, str, str]:
    return TASK_IDS


def fetch_progress_rows(session: Session, run_pks: Collection[int]) -> list[Any]:
    """The plan, batch and leader task instances of these company runs, with their XComs (one SELECT)."""
    if not run_pks:
        return []
    t = _tables()
    dr, ti, xc = t["dr"], t["ti"], t["xc"]
    query = (
        select(
            dr.c.id.label("run_pk"),
            ti.c.task_id,
            ti.c.map_index,
            ti.c.state,
            ti.c.rendered_map_index,
            xc.c.key,
            xc.c.value,
        )
        .select_from(
            dr.join(ti, and_(ti.c.dag_id == dr.c.dag_id, ti.c.run_id == dr.c.run_id)).outerjoin(
                xc,
                and_(
                    xc.c.dag_run_id == dr.c.id,
                    xc.c.task_id == ti.c.task_id,
                    xc.c.map_index == ti.c.map_index,
                    xc.c.key.in_(("return_value", "plan_summary")),
                ),
            )
        )
        .where(dr.c.id.in_(sorted(run_pks)), ti.c.task_id.in_(_task_ids()))
    )
    return list(session.execute(query).mappings())


def xcom_value(raw: Any) -> Any:
    """An XCom value as stored by Airflow 3 (a JSON column holding the serialized JSON text)."""
    for _ in range(2):
        if isinstance(raw, str | bytes):
            try:
                raw = json.loads(raw)
            except ValueError:
                return raw
    return raw


@dataclass
class BatchStatus:
    """One batch of members (or the leaders) and where it is."""

    label: str
    state: str  # the task instance's state ("none" before it was scheduled)
    members: int | None  # None for the leaders until they ran
    done: int = 0
    failed: int = 0


@dataclass
class CompanyProgress:
    """Members done / failed / remaining, and every batch's state."""

    members: int
    to_delete: int
    done: int
    failed: int
    remaining: int
    batches: list[BatchStatus] = field(default_factory=list)
    outcomes_url: str = ""

    @property
    def percent_done(self) -> float:
        return round(100 * self.done / self.members, 1) if self.members else 0.0

    def batch_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for batch in self.batches:
            counts[batch.state] = counts.get(batch.state, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "members": self.members,
            "to_delete": self.to_delete,
            "done": self.done,
            "failed": self.failed,
            "remaining": self.remaining,
            "percent_done": self.percent_done,
            "batches_by_state": self.batch_counts(),
            "batches": [asdict(b) for b in self.batches],
            "outcomes_url": self.outcomes_url,
        }


def _counts(result: Mapping[str, Any]) -> tuple[int, int]:
    done = sum(int(result.get(k) or 0) for k in DONE_OUTCOMES)
    failed = sum(int(result.get(k) or 0) for k in FAILED_OUTCOMES)
    return done, failed


def company_progress(rows: Iterable[Mapping[str, Any]], *, outcomes_url: str = "") -> CompanyProgress | None:
    """One company run's progress from its rows of :func:`fetch_progress_rows`; None before the plan exists."""
    plan_task, batch_task, leaders_task = _task_ids()
    summary: Mapping[str, Any] | None = None
    planned: list[Mapping[str, Any]] = []
    batch_rows: dict[int, dict[str, Any]] = {}
    leaders: dict[str, Any] | None = None
    for row in rows:
        value = xcom_value(row["value"]) if row["key"] else None
        if row["task_id"] == plan_task:
            if row["key"] == "plan_summary" and isinstance(value, Mapping):
                summary = value
            elif row["key"] == "return_value" and isinstance(value, list):
                planned = [b for b in value if isinstance(b, Mapping)]
        elif row["task_id"] == batch_task:
            entry = batch_rows.setdefault(int(row["map_index"]), {"state": row["state"], "label": None})
            entry["label"] = row["rendered_map_index"]
            if row["key"] == "return_value" and isinstance(value, Mapping):
                entry["result"] = value
        elif row["task_id"] == leaders_task:
            leaders = leaders or {"state": row["state"]}
            if row["key"] == "return_value" and isinstance(value, Mapping):
                leaders["result"] = value
    if summary is None:
        return None
    members = int(summary.get("members") or 0)
    batches: list[BatchStatus] = []
    regular_members = 0
    for index, plan in enumerate(planned):
        size = int(plan.get("last") or 0) - int(plan.get("first") or 0) + 1
        regular_members += size
        ran = batch_rows.get(index, {})
        status = BatchStatus(
            label=str(ran.get("label") or plan.get("label") or f"batch {index + 1}"),
            state=str(ran.get("state") or "not started"),
            members=size,
        )
        _settle(status, ran.get("result"), size)
        batches.append(status)
    leader_members = max(members - regular_members, 0)
    if int(summary.get("leader_batches") or 0) or leaders is not None:
        status = BatchStatus("leaders", str((leaders or {}).get("state") or "not started"), leader_members)
        _settle(status, (leaders or {}).get("result"), leader_members)
        batches.append(status)
    done = sum(b.done for b in batches)
    failed = sum(b.failed for b in batches)
    return CompanyProgress(
        members=members,
        to_delete=int(summary.get("to_delete") or 0),
        done=done,
        failed=failed,
        remaining=max(members - done - failed, 0),
        batches=batches,
        outcomes_url=outcomes_url,
    )


def _settle(status: BatchStatus, result: Any, size: int) -> None:
    if isinstance(result, Mapping):
        status.done, status.failed = _counts(result)
        status.members = int(result.get("members") or result.get("total") or size) or size
    elif status.state == "failed":
        status.failed = size  # nothing returned: every member of the batch is to be redone


def progress_by_run(
    rows: Iterable[Mapping[str, Any]], *, ui: str, runs: Mapping[int, tuple[str, str]]
) -> dict[int, CompanyProgress]:
    """:func:`company_progress` for every run in ``rows`` (``runs``: run pk → (dag_id, run_id))."""
    _, batch_task, _ = _task_ids()
    grouped: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(int(row["run_pk"]), []).append(row)
    result = {}
    for pk, run_rows in grouped.items():
        dag_id, run_id = runs[pk]
        url = (
            f"{ui}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/tasks/"
            f"{quote(batch_task, safe='')}/mapped"
        )
        progress = company_progress(run_rows, outcomes_url=url)
        if progress is not None:
            result[pk] = progress
    return result


def _bar(progress: Mapping[str, Any], width: int = 240) -> str:
    total = progress["members"] or 1
    parts = (
        ("done", progress["done"], DONE_COLOR),
        ("failed", progress["failed"], FAILED_COLOR),
        ("remaining", progress["remaining"], LEFT_COLOR),
    )
    x = 0.0
    rects = []
    for name, value, color in parts:
        length = width * value / total
        if length <= 0:
            continue
        rects.append(
            f'<rect x="{x:.1f}" y="0" width="{length:.1f}" height="12" fill="{color}">'
            f"<title>{value} members {name}</title></rect>"
        )
        x += length
    label = (
        f"{progress['done']} of {progress['members']} members done, {progress['failed']} failed, "
        f"{progress['remaining']} remaining"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label, quote=True)}" '
        f'width="{width}" height="12" viewBox="0 0 {width} 12" class="pbar"><title>{escape(label)}</title>'
        f'<rect x="0" y="0" width="{width}" height="12" fill="none" stroke="currentColor" stroke-opacity=".3"/>'
        f"{''.join(rects)}</svg>"
    )


_STATE_COLOR = {"success": DONE_COLOR, "failed": FAILED_COLOR, "running": RUNNING_COLOR}


def _squares(batches: list[Mapping[str, Any]]) -> str:
    size, gap, per_row = 10, 2, 25
    rows = (len(batches) + per_row - 1) // per_row
    marks = []
    for index, batch in enumerate(batches):
        x, y = (index % per_row) * (size + gap), (index // per_row) * (size + gap)
        color = _STATE_COLOR.get(batch["state"], "none")
        text = f"{batch['label']}: {batch['state']}"
        if batch.get("members") is not None:
            text += f", {batch['done']} of {batch['members']} done"
            if batch["failed"]:
                text += f", {batch['failed']} failed"
        marks.append(
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="2" fill="{color}" '
            f'stroke="currentColor" stroke-opacity=".4"><title>{escape(text)}</title></rect>'
        )
    width, height = per_row * (size + gap), max(rows, 1) * (size + gap)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="batches by state" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" class="batches">{"".join(marks)}</svg>'
    )


def render_progress(progress: Mapping[str, Any]) -> str:
    """The progress block of a company row (``progress``: :meth:`CompanyProgress.to_json`)."""
    states = ", ".join(f"{n} {s}" for s, n in sorted(progress["batches_by_state"].items()))
    return (
        '<div class="progress">'
        f"<div><b>{progress['done']:,}</b> of {progress['members']:,} members done "
        f"({progress['percent_done']}%) · <span class='failed'>{progress['failed']:,} failed</span> · "
        f"{progress['remaining']:,} remaining</div>"
        f"{_bar(progress)}"
        f"<div class='muted'>batches: {escape(states)}</div>{_squares(progress['batches'])}"
        f'<div><a href="{escape(progress["outcomes_url"], quote=True)}" target="_top">per-member outcomes '
        "(each batch)</a> <span class='muted'>· members/outcomes.csv in the backup folder when done</span></div>"
        "</div>"
    )


PROGRESS_STYLE = """
.progress{margin-top:6px;font-size:12px;display:flex;flex-direction:column;gap:3px;min-width:260px}
"""
