"""A person's series (``GET /offboarding/api/cases/{id}/series``) names the open layoff lists that offboard
them already, so ``check_case`` and ``bulk-trigger`` refuse a case of their own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from offboarding.cases_page.case_actions_store import ensure_table
from offboarding.cases_page.case_records import series_of
from offboarding_dev.synthetic import create_metadata_tables

NOW = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)


def test_open_lists_naming_the_person_are_in_their_series(tmp_path: Path) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    from offboarding_dev.synthetic import _task_row

    engine = create_engine(f"sqlite:///{tmp_path / 'airflow.db'}")
    create_metadata_tables(engine)
    ensure_table(engine)

    def list_run(pk: int, list_id: str, state: str, *userids: str) -> dict[str, object]:
        persons = [{"userid": u, "successor_userid": "lead"} for u in userids]
        return {
            "id": pk,
            "dag_id": "offboard_layoff",
            "run_id": f"layoff-{list_id}",
            "run_type": "manual",
            "state": state,
            "conf": {"list_id": list_id, "list_name": list_id, "persons": persons},
            "run_after": NOW,
            "queued_at": NOW,
            "start_date": NOW,
            "end_date": NOW if state == "success" else None,
            "triggering_user_name": "hr",
        }

    with engine.begin() as conn:
        conn.execute(
            DagRun.__table__.insert(),
            [
                list_run(1, "q4-east", "running", "LiSi", "zhaoliu"),
                list_run(2, "q3-west", "success", "wangwu"),
                list_run(3, "refused", "failed", "sunqi"),  # its check_case refused it: no case
                list_run(4, "stuck", "failed", "zhouba"),  # failed after its check: still open
            ],
        )
        conn.execute(
            TaskInstance.__table__.insert(),
            [
                _task_row("offboard_layoff", "layoff-refused", "preflight.check_case", "failed", "Op", NOW),
                _task_row("offboard_layoff", "layoff-stuck", "preflight.check_case", "success", "Op", NOW),
            ],
        )
    with Session(engine) as session:
        assert series_of(session, "offboard-lisi").to_json()["open_lists"] == ["layoff-q4-east"]
        assert series_of(session, "offboard-wangwu").to_json()["open_lists"] == []  # that list closed
        assert series_of(session, "offboard-sunqi").to_json()["open_lists"] == []
        assert series_of(session, "offboard-zhouba").to_json()["open_lists"] == ["layoff-stuck"]
        assert series_of(session, "offboard-nobody").to_json()["open_lists"] == []
        assert series_of(session, "layoff-q4-east").to_json()["open_lists"] == []  # a list's own series
    engine.dispose()
