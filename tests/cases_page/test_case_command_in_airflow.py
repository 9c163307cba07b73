"""``offboarding case ...`` and re-offboarding (bulk-trigger and the UI form) against a real api-server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lifecycle_airflow import (
    DAG_ID,
    future,
    lifecycle_airflow,
    past,
    person_conf,
    start_case,
    task_states,
    uid,
    wait_for,
)

from offboarding.cli import main

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]

WAIT = "preflight.wait_for_last_working_day"


@pytest.fixture(scope="module")
def airflow() -> Any:
    return lifecycle_airflow()


def login(airflow: Any, user: str = "hr_wang") -> list[str]:
    return ["--api-url", airflow.api_url, "--username", user, "--password", airflow.passwords[user]]


def sheet(path: Path, userid: str, last_working_day: str) -> str:
    path.write_text(
        "userid,display_name,last_working_day,successor_userid,hr_owner,approvers\n"
        f"{userid},测试,{last_working_day},succ_wang,hr_wang,ops_li\n",
        encoding="utf-8",
    )
    return str(path)


def test_case_commands_answer_with_exit_codes_and_reasons(
    airflow: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    case_id = f"offboard-{uid('cli')}"
    start_case(airflow, case_id, person_conf(case_id.removeprefix("offboard-"), future()), (WAIT, "deferred"))
    assert main(["case", "hold", case_id, "--reason", "audit 12", *login(airflow)]) == 0
    assert f"hold of {case_id} accepted" in capsys.readouterr().out
    assert main(["case", "hold", case_id, "--reason", "again", *login(airflow)]) == 1
    err = capsys.readouterr().err
    assert "refused: the case is already on hold by hr_wang (audit 12) (since 20" in err
    assert main(["case", "release", case_id, *login(airflow, "auditor")]) == 4
    assert "not allowed" in capsys.readouterr().err
    assert main(["case", "release", "offboard-nobody_x", *login(airflow)]) == 3
    assert main(["case", "reschedule", case_id, "--last-working-day", "2027/01/01", *login(airflow)]) == 2
    assert "last_working_day" in capsys.readouterr().err
    assert main(["case", "release", case_id, *login(airflow)]) == 0
    assert main(["case", "correct", case_id, "--set", "successor_userid=succ_li", *login(airflow)]) == 0
    capsys.readouterr()
    assert main(["case", "show", case_id, *login(airflow, "auditor")]) == 0
    shown = capsys.readouterr().out
    assert "state: open" in shown and 'corrected successor_userid: "succ_li"' in shown
    assert "hold by hr_wang" in shown and "release by hr_wang" in shown
    assert main(["case", "list", "--limit", "200", *login(airflow, "auditor")]) == 0
    assert case_id in capsys.readouterr().out
    assert main(["case", "show", case_id, "--api-url", airflow.api_url]) == 2  # no credentials: named


def test_bulk_trigger_refuses_a_second_open_case_and_numbers_the_case_after_a_rescind(
    airflow: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    userid = uid("rehired")
    first = f"offboard-{userid}"
    assert main(["bulk-trigger", sheet(tmp_path / "a.csv", userid, past()), *login(airflow)]) == 0
    wait_for(
        lambda: task_states(airflow, first).get("approve_deletion") == "awaiting_input",
        300,
        "approval",
        airflow,
    )
    capsys.readouterr()
    assert main(["bulk-trigger", sheet(tmp_path / "b.csv", userid, future(20)), *login(airflow)]) == 1
    out = capsys.readouterr().out
    assert f"case {first} of the same member is still open" in out
    assert main(["bulk-trigger", sheet(tmp_path / "a.csv", userid, past()), *login(airflow)]) == 0
    assert "already triggered" in capsys.readouterr().out  # the same sheet again starts nothing

    assert main(["case", "rescind", first, "--reason", "stays", *login(airflow)]) == 0
    assert "undo run: offboarding_rescind" in capsys.readouterr().out
    with airflow.api() as api:
        wait_for(lambda: api.get_case(first)["state"] == "rescinded", 300, "rescinded", airflow)
    assert main(["bulk-trigger", sheet(tmp_path / "b.csv", userid, future(20)), *login(airflow)]) == 0
    with airflow.api() as api:
        second = api.get_dag_run(DAG_ID, f"{first}+2")
        assert second["conf"]["userid"] == userid
        series = api.case_series(first)
    assert [c["case_id"] for c in series["cases"]] == [first, f"{first}+2"]
    assert series["next_case_id"] == f"{first}+3"


def test_a_ui_form_run_gets_the_case_id_or_is_refused_naming_the_open_case(airflow: Any) -> None:
    userid = uid("form")
    ui_run = f"manual__{userid}_1"
    start_case(airflow, ui_run, person_conf(userid, future()), (WAIT, "deferred"))
    with airflow.api() as api:
        assert api.get_xcom(DAG_ID, ui_run, "preflight.check_case") == {"case_id": f"offboard-{userid}"}
        case = api.get_case(f"offboard-{userid}")
        assert case["run_id"] == ui_run and case["state"] == "open"
        api.trigger_dag_run(DAG_ID, f"manual__{userid}_2", person_conf(userid, future(90)))
    wait_for(
        lambda: task_states(airflow, f"manual__{userid}_2").get("preflight.check_case") == "failed",
        300,
        "the second case refused",
        airflow,
    )
