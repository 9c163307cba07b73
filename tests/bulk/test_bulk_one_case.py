"""``offboarding bulk-trigger <sheet> --one-case <list id>``: the whole export as ONE offboard_layoff case.

Offline: the sheet → conf rules (one person per row, case-wide fields that must agree, persons with
their own steps refused, problems on sheet rows) and what is sent, through a recording stand-in for
the REST client. The real trigger on a real deployment is ``benchmarks/mass_layoff.py`` (the quick run
is tests/capacity ``test_mass_layoff_quick``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from offboarding.airflow_api import AirflowApiError, InvalidConf, NotFound, RunAlreadyExists
from offboarding.bulk import command, read_sheet
from offboarding.bulk.layoff_plan import plan_layoff, rows_text
from offboarding.cases import validate_layoff_case
from offboarding.cli import main

HEADER = "工号,姓名,交接人,最后工作日,审批人,HR负责人"


def write_csv(tmp_path: Path, header: str, *rows: str) -> Path:
    path = tmp_path / "layoff.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8-sig")
    return path


def people(count: int, **cells: str) -> list[str]:
    """``count`` rows of HEADER leaving on 2026-12-01 to successor lisi (cells override by column)."""
    base = {"approvers": "boss_li", "hr_owner": "hr_wang", **cells}
    return [f"p{n:03d},员工{n},lisi,2026/12/1,{base['approvers']},{base['hr_owner']}" for n in range(count)]


class RecordingApi:
    """Stands in for ``AirflowApi``: records every request; ``trigger_error`` is raised by the trigger."""

    api_url = "http://airflow.test"

    def __init__(
        self, trigger_error: AirflowApiError | None = None, dag: dict[str, Any] | None = None
    ) -> None:
        self.trigger_error = trigger_error
        self.dag = dag if dag is not None else {"dag_id": "offboard_layoff", "is_paused": False}
        self.requests: list[tuple[str, ...]] = []
        self.triggered: list[tuple[str, str, dict[str, Any]]] = []
        self.closed = False

    def get_dag(self, dag_id: str) -> dict[str, Any]:
        self.requests.append(("get_dag", dag_id))
        if not self.dag:
            raise NotFound(f"DAG {dag_id} not found", status_code=404)
        return self.dag

    def trigger_dag_run(
        self, dag_id: str, run_id: str, conf: dict[str, Any], note: str | None = None
    ) -> dict:
        self.requests.append(("trigger_dag_run", dag_id, run_id))
        if self.trigger_error is not None:
            raise self.trigger_error
        self.triggered.append((dag_id, run_id, conf))
        return {"dag_run_id": run_id}

    def case_series(self, case_id: str) -> dict[str, Any]:
        self.requests.append(("case_series", case_id))
        raise NotFound("no offboarding plugin API here", status_code=404)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> RecordingApi:
    recording = RecordingApi()
    monkeypatch.setattr(command, "api_from_args", lambda args: recording)
    return recording


LOGIN = ["--api-url", "http://airflow.test", "--username", "hr_wang", "--password", "Pa55-word"]


def test_every_row_becomes_a_person_of_one_case(tmp_path: Path) -> None:
    sheet = write_csv(
        tmp_path,
        HEADER + ",演练,时间压缩,企业微信连接,备份位置,通知,角色,注销账号,备注",
        "zhangsan,张三,lisi,2026/12/1,boss_li;cfo_wu,hr_wang,否,86400,wecom_east,archive,ops_zhou,员工,否,A",
        "wangwu,王五,zhaoliu,2026-12-01,cfo_wu、boss_li,hr_wang,,86400,wecom_east,archive,ops_zhou,,,B",
        "qianqi,,lisi,2026年12月1日,boss_li，cfo_wu,hr_wang,false,86400,wecom_east,archive,ops_zhou,employee,,",
    )
    plan = plan_layoff(read_sheet(sheet), "2026q4-east")
    assert plan.valid, plan.problems
    assert plan.case_id == "layoff-2026q4-east"
    assert plan.rows == [2, 3, 4]
    assert plan.conf == {
        "list_id": "2026q4-east",
        "list_name": "2026q4-east",
        "last_working_day": "2026-12-01",
        "hr_owner": "hr_wang",
        "approvers": ["boss_li", "cfo_wu"],  # the first row's order; the same names in every row
        "wecom_conn_id": "wecom_east",
        "time_scale": 86400,
        "backup_target": "archive",
        "dry_run": False,  # "否", empty (the form's default: false) and "false" agree
        "notify": {"webhook_conn_id": None, "userids": ["ops_zhou"]},
        "persons": [
            {"userid": "zhangsan", "successor_userid": "lisi", "display_name": "张三"},
            {"userid": "wangwu", "successor_userid": "zhaoliu", "display_name": "王五"},
            {"userid": "qianqi", "successor_userid": "lisi"},
        ],
    }
    assert validate_layoff_case(plan.conf) == []


def test_fields_empty_in_every_row_are_left_to_the_deployment(tmp_path: Path) -> None:
    sheet = write_csv(tmp_path, "工号,交接人,最后工作日,审批人,HR负责人", "zhangsan,lisi,2026-12-01,,")
    plan = plan_layoff(read_sheet(sheet), "q4", "华东区优化")
    assert plan.valid, plan.problems
    assert plan.conf == {
        "list_id": "q4",
        "list_name": "华东区优化",
        "last_working_day": "2026-12-01",
        "persons": [{"userid": "zhangsan", "successor_userid": "lisi"}],
    }


def test_dry_run_prints_the_case_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    sheet = write_csv(tmp_path, HEADER, *people(3))
    code = main(
        ["bulk-trigger", str(sheet), "--one-case", "2026q4-east", "--list-name", "华东区", "--dry-run"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Would trigger on DAG offboard_layoff (dry run, nothing sent):" in out
    assert "layoff-2026q4-east  华东区: 3 persons (rows 2-4), 1 successor, last working day 2026-12-01" in out
    assert "    row 3: p001 → lisi  员工1" in out
    assert api.requests == []


def test_the_case_is_triggered_once_with_the_case_id_as_run_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    sheet = write_csv(tmp_path, HEADER, *people(3))
    assert main(["bulk-trigger", str(sheet), "--one-case", "2026q4-east", *LOGIN]) == 0
    out = capsys.readouterr().out
    [(dag_id, run_id, conf)] = api.triggered
    assert (dag_id, run_id) == ("offboard_layoff", "layoff-2026q4-east")
    assert [p["userid"] for p in conf["persons"]] == ["p000", "p001", "p002"]
    assert conf["approvers"] == ["boss_li"] and conf["hr_owner"] == "hr_wang"
    assert api.requests[0] == ("get_dag", "offboard_layoff")
    assert api.closed
    assert "Triggered on DAG offboard_layoff" in out
    assert "Summary for DAG offboard_layoff: triggered" in out


def test_an_existing_run_is_reported_as_already_triggered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    api.trigger_error = RunAlreadyExists("run 'layoff-q4' of DAG 'offboard_layoff' exists", status_code=409)
    sheet = write_csv(tmp_path, HEADER, *people(2))
    assert main(["bulk-trigger", str(sheet), "--one-case", "q4", *LOGIN]) == 0
    out = capsys.readouterr().out
    assert "Already triggered on DAG offboard_layoff: a list is offboarded once" in out
    assert "Summary for DAG offboard_layoff: already triggered" in out


def test_a_refused_trigger_fails_with_airflows_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    api.trigger_error = InvalidConf("Airflow refused the conf: hr_owner is required", status_code=400)
    sheet = write_csv(tmp_path, HEADER, *people(2))
    assert main(["bulk-trigger", str(sheet), "--one-case", "q4", *LOGIN]) == 1
    out = capsys.readouterr().out
    assert "Failed on DAG offboard_layoff: Airflow refused the conf: hr_owner is required" in out


def test_a_missing_layoff_dag_refuses_before_triggering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    api.dag = {}
    sheet = write_csv(tmp_path, HEADER, *people(2))
    assert main(["bulk-trigger", str(sheet), "--one-case", "q4", *LOGIN]) == 2
    assert "--one-case: DAG 'offboard_layoff' not found" in capsys.readouterr().err
    assert api.triggered == []


def test_case_wide_fields_must_agree_in_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    rows = people(6)
    rows[2] = rows[2].replace("2026/12/1", "2026-12-02")
    rows[4] = rows[4].replace("2026/12/1", "2026-12-02")
    rows[5] = rows[5].replace("hr_wang", "")
    sheet = write_csv(tmp_path, HEADER, *rows)
    assert main(["bulk-trigger", str(sheet), "--one-case", "q4", *LOGIN]) == 2
    out = capsys.readouterr().out
    assert (
        "the list: last_working_day (column 最后工作日): differs between rows "
        "(2026-12-01 in rows 2-3, 5, 7; 2026-12-02 in rows 4, 6)"
    ) in out
    assert (
        "hr_owner (column HR负责人): differs between rows (hr_wang in rows 2-6; (empty: the deployment's default) in row 7)"
        in out
    )
    assert "Nothing was triggered" in out
    assert "is required" not in out  # the disagreement is said once, not again as a missing field
    assert api.requests == []


def test_persons_with_steps_of_their_own_are_refused_by_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    sheet = write_csv(
        tmp_path,
        HEADER + ",角色,注销账号,微盘空间",
        *(
            row + suffix
            for row, suffix in zip(
                people(5), [",,,", ",法定代表人,,", ",财务负责人,,", ",,是,", ",,,sp1"], strict=True
            )
        ),
    )
    assert main(["bulk-trigger", str(sheet), "--one-case", "q4", *LOGIN]) == 2
    out = capsys.readouterr().out
    own = "they have steps of their own: give them an offboard_employee case"
    assert f"row 3: role (column 角色): legal_representative: {own}" in out
    assert f"row 4: role (column 角色): finance_owner: {own}" in out
    assert f"row 5: deregister_account (column 注销账号): an account to deregister: {own}" in out
    assert (
        "row 6: wedrive_space_ids (column 微盘空间): a layoff list has no per-person wedrive_space_ids" in out
    )
    assert "row 2" not in out
    assert api.requests == []


def test_person_problems_are_named_on_their_sheet_rows(tmp_path: Path) -> None:
    rows = people(14)
    rows[10] = rows[10].replace(",lisi,", ",li si,")  # row 12
    rows[12] = rows[12].replace("p012,", "p003,")  # row 14: listed already in row 5
    rows[13] = rows[13].replace(",lisi,", ",p001,")  # row 15: the successor leaves too (row 3)
    plan = plan_layoff(read_sheet(write_csv(tmp_path, HEADER, *rows)), "q4")
    said = [(p.row, p.text) for p in plan.problems]
    assert said == [
        (
            12,
            "successor_userid (column 交接人): 'li si' is not a WeCom userid: 1-64 letters, digits, '_', '.', '@' or '-'",
        ),
        (14, "userid (column 工号): p003 is listed already (row 5)"),
        (
            15,
            "successor_userid (column 交接人): p001 is leaving in this list too (row 3); name a successor who stays",
        ),
    ]


def test_separation_of_duties_for_the_list_and_the_trigger_user(tmp_path: Path) -> None:
    rows = people(3, approvers="p002;boss_li")
    plan = plan_layoff(read_sheet(write_csv(tmp_path, HEADER, *rows)), "q4", triggered_by="boss_li")
    texts = [p.text for p in plan.problems]
    assert any("p002 is a departing person (row 4) and may not approve" in t for t in texts), texts
    assert any("boss_li is the user who triggered this case" in t for t in texts), texts
    assert all(p.row is None for p in plan.problems)


def test_a_bad_list_id_or_an_empty_sheet_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_csv(tmp_path, HEADER, *people(1))
    assert main(["bulk-trigger", str(sheet), "--one-case", "Q4 East", "--dry-run"]) == 2
    assert "the list: --one-case: 'Q4 East' is not a list id" in capsys.readouterr().out
    empty = write_csv(tmp_path, HEADER)
    assert main(["bulk-trigger", str(empty), "--one-case", "q4", "--dry-run"]) == 2
    assert "persons (the sheet's rows): needs at least 1 entry" in capsys.readouterr().out


def test_a_sheet_without_a_needed_column_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_csv(tmp_path, "工号,姓名,最后工作日", "zhangsan,张三,2026-12-01")
    assert main(["bulk-trigger", str(sheet), "--one-case", "q4", "--dry-run"]) == 2
    out = capsys.readouterr().out
    assert "missing column(s) for required field(s): successor_userid" in out
    assert "Nothing was triggered." in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--list-name", "x"], "--list-name: only with --one-case"),
        (["--one-case", "q4", "--dag", "offboard_employee"], "--dag: not with --one-case"),
        (["--one-case", "q4", "--case-type", "person"], "--case-type: not with --one-case"),
        (["--one-case", "q4", "--skip-invalid"], "--skip-invalid: not with --one-case"),
    ],
)
def test_options_that_do_not_go_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    sheet = write_csv(tmp_path, HEADER, *people(1))
    assert main(["bulk-trigger", str(sheet), *options, "--dry-run"]) == 2
    assert message in capsys.readouterr().err


def test_the_per_row_path_still_triggers_one_case_per_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], api: RecordingApi
) -> None:
    api.dag = {"dag_id": "offboard_employee", "is_paused": False}
    sheet = write_csv(tmp_path, HEADER, *people(2))
    assert main(["bulk-trigger", str(sheet), *LOGIN]) == 0
    assert [(d, r) for d, r, _ in api.triggered] == [
        ("offboard_employee", "offboard-p000"),
        ("offboard_employee", "offboard-p001"),
    ]


def test_row_ranges() -> None:
    assert rows_text([5, 2, 3, 4, 8, 10, 11]) == "2-5, 8, 10-11"
    assert rows_text(list(range(2, 40, 2))) == "2, 4, 6, 8, 10, 12, 14, 16 and 11 more"
