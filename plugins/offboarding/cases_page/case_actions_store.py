"""The case-action record: table ``offboarding_case_action`` in Airflow's metadata database.

A plugin-owned SQLAlchemy Core table on its own ``MetaData`` (Airflow's migrations never see it),
created with ``checkfirst`` on first use by the api-server — portable between SQLite and PostgreSQL.
Written only by the plugin's REST handlers (:mod:`offboarding.cases_page.actions_api`) after Airflow's
permission check; rows are never updated or deleted (the record is append-only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.engine import Connection, Engine

from offboarding.cases.lifecycle import ACCEPTED, CaseAction

TABLE_NAME = "offboarding_case_action"

metadata = MetaData()

case_action_table = Table(
    TABLE_NAME,
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(250), nullable=False),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("action", String(32), nullable=False),
    Column("by_user", String(256), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=True),
    Column("fields", JSON, nullable=False, default=dict),
    Column("outcome", String(32), nullable=False, default=ACCEPTED),
    Index("idx_offboarding_case_action_case", "case_id", "id"),
)

_created: set[str] = set()


def ensure_table(bind: Connection | Engine) -> None:
    """Create the table if missing (once per database per process), on a connection of its own so the
    DDL is committed whatever becomes of the caller's transaction."""
    engine = bind.engine
    key = str(engine.url)
    if key in _created:
        return
    with engine.begin() as conn:
        case_action_table.create(bind=conn, checkfirst=True)
    _created.add(key)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _action(row: Mapping[str, Any]) -> CaseAction:
    return CaseAction(
        id=int(row["id"]),
        case_id=row["case_id"],
        dag_id=row["dag_id"],
        run_id=row["run_id"],
        action=row["action"],
        by_user=row["by_user"],
        at=_aware(row["at"]),
        reason=row["reason"],
        fields=dict(row["fields"] or {}),
        outcome=row["outcome"],
    )


def record_action(
    conn: Connection,
    *,
    case_id: str,
    dag_id: str,
    run_id: str,
    action: str,
    by_user: str,
    reason: str | None,
    fields: Mapping[str, Any],
    at: dt.datetime | None = None,
) -> CaseAction:
    """Append one accepted action; returns it with its id."""
    ensure_table(conn)
    when = _aware(at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    values = {
        "case_id": case_id,
        "dag_id": dag_id,
        "run_id": run_id,
        "action": action,
        "by_user": by_user,
        "at": when,
        "reason": reason,
        "fields": dict(fields),
        "outcome": ACCEPTED,
    }
    result = conn.execute(insert(case_action_table).values(**values))
    (new_id,) = result.inserted_primary_key or (None,)
    return CaseAction(id=int(new_id), **{**values, "fields": dict(fields)})  # type: ignore[arg-type]


def actions_for_case(conn: Connection, case_id: str) -> list[CaseAction]:
    """The case's actions, oldest first."""
    ensure_table(conn)
    t = case_action_table
    rows = conn.execute(select(t).where(t.c.case_id == case_id).order_by(t.c.id)).mappings()
    return [_action(r) for r in rows]


def actions_for_cases(conn: Connection, case_ids: Iterable[str]) -> dict[str, list[CaseAction]]:
    """Each case's actions, oldest first, in ONE query (for a page of cases)."""
    wanted = sorted(set(case_ids))
    found: dict[str, list[CaseAction]] = {c: [] for c in wanted}
    if not wanted:
        return found
    ensure_table(conn)
    t = case_action_table
    rows = conn.execute(select(t).where(t.c.case_id.in_(wanted)).order_by(t.c.id)).mappings()
    for row in rows:
        found[row["case_id"]].append(_action(row))
    return found
