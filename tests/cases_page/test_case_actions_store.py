"""The case-action record on SQLite and on PostgreSQL (a scratch database named after this worktree)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from offboarding.cases.lifecycle import fold
from offboarding.cases_page.case_actions_store import (
    TABLE_NAME,
    actions_for_case,
    actions_for_cases,
    record_action,
)

SERVER = os.environ.get("OFFBOARDING_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")
T0 = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Any]:
    engine = create_engine(f"sqlite:///{tmp_path / 'airflow.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    name = f"offboarding_life_actions_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"{SERVER}/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _round_trip(engine: Any) -> None:
    ids = {"dag_id": "offboard_employee", "run_id": "offboard-lisi"}
    with engine.begin() as conn:
        hold = record_action(
            conn,
            case_id="offboard-lisi",
            **ids,
            action="hold",
            by_user="ops_li",
            reason="litigation",
            fields={},
            at=T0,
        )
        record_action(
            conn,
            case_id="offboard-lisi",
            **ids,
            action="correct",
            by_user="ops_li",
            reason=None,
            fields={"successor_userid": "wangwu", "notify": {"webhook_conn_id": None, "userids": ["a"]}},
            at=T0 + dt.timedelta(minutes=1),
        )
        record_action(
            conn,
            case_id="offboard-zhangsan",
            dag_id="offboard_employee",
            run_id="offboard-zhangsan",
            action="rescind",
            by_user="ops_wang",
            reason="stays",
            fields={},
            at=T0,
        )
    assert TABLE_NAME in inspect(engine).get_table_names()
    with engine.connect() as conn:
        lisi = actions_for_case(conn, "offboard-lisi")
        both = actions_for_cases(conn, ["offboard-lisi", "offboard-zhangsan", "offboard-nobody"])
    assert [a.action for a in lisi] == ["hold", "correct"]
    assert lisi[0].id == hold.id and lisi[0].at == T0 and lisi[0].reason == "litigation"
    assert lisi[1].fields["notify"] == {"webhook_conn_id": None, "userids": ["a"]}
    assert [a.action for a in both["offboard-zhangsan"]] == ["rescind"]
    assert both["offboard-nobody"] == []
    controls = fold(lisi, case_id="offboard-lisi", **ids, form_last_working_day="2027-01-10")
    assert controls.held and controls.hold is not None and controls.hold.by == "ops_li"
    assert controls.corrected("successor_userid", "zhangsan") == "wangwu"


def test_record_and_read_actions_on_sqlite(sqlite: Any) -> None:
    _round_trip(sqlite)


@pytest.mark.services
def test_record_and_read_actions_on_postgres(postgres: Any) -> None:
    _round_trip(postgres)
