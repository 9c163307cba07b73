"""The case lifecycle actions (hold, release, rescind, reschedule, correct) as the console reads them.

The actions are recorded by the lifecycle REST handlers in the plugin-owned table
``offboarding_case_action`` (issue #14). This module is the console's only door to it — a seam the
integrator points at the lifecycle's own table and fold once both are merged:

* :func:`held_case_ids` — the (dag_id, run_id) of every case on hold now (the latest of its hold /
  release / rescind actions is a hold); an empty set while the table does not exist;
* :func:`case_actions` — one case's accepted actions, oldest first (the timeline's events).

Both read the table with a Core ``Table`` declared here on its own ``MetaData`` (only the columns read),
after checking that the table exists, so a deployment without the lifecycle yet shows no hold and no
action rather than an error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, String, Table, inspect, select
from sqlalchemy.orm import Session

ACTION_TABLE = "offboarding_case_action"
HOLD, RELEASE, RESCIND, RESCHEDULE, CORRECT = "hold", "release", "rescind", "reschedule", "correct"

_metadata = MetaData()
case_action = Table(
    ACTION_TABLE,
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", String(250)),
    Column("dag_id", String(250)),
    Column("run_id", String(250)),
    Column("action", String(20)),
    Column("by_user", String(250)),
    Column("at", DateTime(timezone=True)),
    Column("reason", String(2000), nullable=True),
    Column("fields", JSON, nullable=True),
    Column("outcome", String(20)),
)


@dataclass(frozen=True)
class CaseAction:
    """One accepted lifecycle action of a case."""

    id: int
    action: str
    by: str
    at: dt.datetime  # aware, UTC
    reason: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)


def _exists(session: Session) -> bool:
    return inspect(session.get_bind()).has_table(ACTION_TABLE)


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def held_case_ids(session: Session) -> set[tuple[str, str]]:
    """(dag_id, run_id) of every case whose latest hold/release/rescind action is a hold (one query)."""
    if not _exists(session):
        return set()
    rows = session.execute(
        select(case_action.c.dag_id, case_action.c.run_id, case_action.c.action)
        .where(
            case_action.c.action.in_((HOLD, RELEASE, RESCIND)),
            case_action.c.outcome == "accepted",
        )
        .order_by(case_action.c.id)
    )
    latest: dict[tuple[str, str], str] = {}
    for dag_id, run_id, action in rows:
        latest[(str(dag_id), str(run_id))] = str(action)
    return {key for key, action in latest.items() if action == HOLD}


def case_actions(session: Session, dag_id: str, run_id: str) -> list[CaseAction]:
    """The case's accepted lifecycle actions, oldest first (none while the table does not exist)."""
    if not _exists(session):
        return []
    rows = session.execute(
        select(case_action)
        .where(
            case_action.c.dag_id == dag_id,
            case_action.c.run_id == run_id,
            case_action.c.outcome == "accepted",
        )
        .order_by(case_action.c.id)
    ).mappings()
    return [
        CaseAction(
            id=int(r["id"]),
            action=str(r["action"]),
            by=str(r["by_user"] or ""),
            at=_aware(r["at"]),
            reason=r["reason"],
            fields=dict(r["fields"] or {}),
        )
        for r in rows
    ]


__all__ = ["ACTION_TABLE", "CaseAction", "case_action", "case_actions", "held_case_ids"]
