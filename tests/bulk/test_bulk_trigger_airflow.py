"""``offboarding bulk-trigger`` against a real Airflow (stub case DAGs with the real trigger forms)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from offboarding.airflow_api import AirflowApi, NotFound
from offboarding.cli import main
from offboarding_dev.testing.airflow import RunningAirflow

pytestmark = pytest.mark.airflow

HEADER = ["工号", "姓名", "交接人", "最后工作日", "角色", "审批人", "HR负责人", "注销账号", "备注"]


def uid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    lines = [",".join(HEADER), *(",".join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def login_args(airflow: RunningAirflow) -> list[str]:
    return ["--api-url", airflow.api_url, "--username", "hr_wang", "--password", airflow.passwords["hr_wang"]]


def summary(out: str) -> dict[str, int]:
    """The summary table of the report as {outcome: rows}."""
    table = out.split("Summary for DAG", 1)[1].splitlines()[3:]
    return {m[1]: int(m[2]) for line in table if (m := re.match(r"^  (\D+?)\s+(\d+)$", line))}


def run_of(api: AirflowApi, case_id: str) -> dict | None:
    try:
        return api.get_dag_run("offboard_employee", case_id)
    except NotFound:
        return None


def test_csv_with_chinese_headers_triggers_one_run_per_row(
    airflow: RunningAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = uid("zhang"), uid("wang")
    sheet = write_csv(
        tmp_path / "people.csv",
        [
            [a, "张三", "lisi", "2026/12/1", "财务负责人", "admin;boss_li", "hr_wang", "是", "HR-1"],
            [b, "王五", "lisi", "2026-12-02", "员工", "admin", "hr_wang", "否", ""],
        ],
    )
    assert main(["bulk-trigger", str(sheet), *login_args(airflow)]) == 0
    captured = capsys.readouterr()
    assert summary(captured.out) == {"triggered": 2, "already triggered": 0, "invalid": 0, "failed": 0}
    assert "2/2" in captured.err  # the progress bar
    with airflow.api() as api:
        first = api.get_dag_run("offboard_employee", f"offboard-{a}")
        second = api.get_dag_run("offboard_employee", f"offboard-{b}")
    assert first["note"] == "HR-1"
    assert {
        k: first["conf"][k] for k in ("userid", "last_working_day", "role", "approvers", "deregister_account")
    } == {
        "userid": a,
        "last_working_day": "2026-12-01",
        "role": "finance_owner",
        "approvers": ["admin", "boss_li"],
        "deregister_account": True,
    }
    assert second["conf"]["deregister_account"] is False
    assert first["triggering_user_name"] == "hr_wang"


def test_xlsx_with_chinese_headers_and_date_cells(
    airflow: RunningAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = uid("li"), uid("zhao")
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(
        [a, "李雷", "lisi", date(2026, 12, 3), "法定代表人", "admin、boss_li", "hr_wang", True, None]
    )
    sheet.append([None] * len(HEADER))
    sheet.append([b, "赵六", "lisi", 46360, "员工", "admin", "hr_wang", "否", "批次2"])  # Excel serial date
    path = tmp_path / "people.xlsx"
    workbook.save(path)
    assert main(["bulk-trigger", str(path), *login_args(airflow)]) == 0
    assert summary(capsys.readouterr().out)["triggered"] == 2
    with airflow.api() as api:
        first = api.get_dag_run("offboard_employee", f"offboard-{a}")["conf"]
        second = api.get_dag_run("offboard_employee", f"offboard-{b}")
    assert (first["last_working_day"], first["role"], first["deregister_account"]) == (
        "2026-12-03",
        "legal_representative",
        True,
    )
    assert second["conf"]["last_working_day"] == "2026-12-04"
    assert second["note"] == "批次2"


def test_a_bad_row_blocks_every_row(
    airflow: RunningAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = uid("good"), uid("bad")
    sheet = write_csv(
        tmp_path / "people.csv",
        [
            [good, "好人", "lisi", "2026-12-01", "员工", "admin", "hr_wang", "", ""],
            [bad, "坏行", "lisi", "2026-12-32", "员工", "admin", "hr_wang", "", ""],
        ],
    )
    assert main(["bulk-trigger", str(sheet), *login_args(airflow)]) == 2
    out = capsys.readouterr().out
    assert "row 3: last_working_day (column 最后工作日): '2026-12-32' is not a date" in out
    with airflow.api() as api:
        assert run_of(api, f"offboard-{good}") is None
        assert run_of(api, f"offboard-{bad}") is None


def test_skip_invalid_triggers_only_the_good_rows(
    airflow: RunningAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = uid("good"), uid("bad")
    sheet = write_csv(
        tmp_path / "people.csv",
        [
            [bad, "坏行", bad, "2026-12-01", "员工", "admin", "hr_wang", "", ""],
            [good, "好人", "lisi", "2026-12-01", "员工", "admin", "hr_wang", "", ""],
        ],
    )
    assert main(["bulk-trigger", str(sheet), "--skip-invalid", *login_args(airflow)]) == 0
    out = capsys.readouterr().out
    assert "row 2: successor_userid (column 交接人): must differ from userid" in out
    assert summary(out) == {"triggered": 1, "already triggered": 0, "invalid": 1, "failed": 0}
    with airflow.api() as api:
        assert run_of(api, f"offboard-{good}") is not None
        assert run_of(api, f"offboard-{bad}") is None


def test_a_rerun_after_an_interruption_triggers_only_what_is_missing(
    airflow: RunningAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = [uid(f"p{i}") for i in range(4)]
    rows = [
        [p, f"员工{i}", "lisi", "2026-12-01", "员工", "admin", "hr_wang", "", ""]
        for i, p in enumerate(people)
    ]
    # The first attempt got through the first two rows before it was interrupted.
    assert main(["bulk-trigger", str(write_csv(tmp_path / "first.csv", rows[:2])), *login_args(airflow)]) == 0
    capsys.readouterr()

    assert main(["bulk-trigger", str(write_csv(tmp_path / "all.csv", rows)), *login_args(airflow)]) == 0
    out = capsys.readouterr().out
    assert summary(out) == {"triggered": 2, "already triggered": 2, "invalid": 0, "failed": 0}
    with airflow.api() as api:
        runs = [r["dag_run_id"] for r in api.list_dag_runs("offboard_employee")]
    assert sorted(r for r in runs if any(p in r for p in people)) == sorted(f"offboard-{p}" for p in people)


def test_credentials_from_the_environment(
    airflow: RunningAirflow,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_password, by_token = uid("env"), uid("tok")
    monkeypatch.setenv("AIRFLOW_API_URL", airflow.api_url)
    monkeypatch.setenv("AIRFLOW_USERNAME", "hr_wang")
    monkeypatch.setenv("AIRFLOW_PASSWORD", airflow.passwords["hr_wang"])
    row = [by_password, "环境", "lisi", "2026-12-01", "员工", "admin", "hr_wang", "", ""]
    assert main(["bulk-trigger", str(write_csv(tmp_path / "a.csv", [row]))]) == 0

    with airflow.api("hr_wang") as api:
        api.login()
        token = api._token
    assert token is not None
    monkeypatch.delenv("AIRFLOW_USERNAME")
    monkeypatch.delenv("AIRFLOW_PASSWORD")
    monkeypatch.setenv("AIRFLOW_API_TOKEN", token)
    row = [by_token, "令牌", "lisi", "2026-12-01", "员工", "admin", "hr_wang", "", ""]
    assert main(["bulk-trigger", str(write_csv(tmp_path / "b.csv", [row]))]) == 0
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err
    with airflow.api() as api:
        assert run_of(api, f"offboard-{by_password}") is not None
        assert run_of(api, f"offboard-{by_token}") is not None


def test_company_cases_in_bulk(
    airflow: RunningAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "companies.csv"
    path.write_text(
        "公司名称,统一社会信用代码,注销方式,法定代表人,财务负责人,审批人,交接人\n"
        "福州某某科技有限公司,91350100M000100Y43,简易注销,admin,hr_wang,boss_li,lisi\n",
        encoding="utf-8",
    )
    code = main(["bulk-trigger", str(path), "--dag", "dissolve_company", *login_args(airflow)])
    out = capsys.readouterr().out
    assert code == 0
    assert summary(out)["triggered"] == 1
    with airflow.api() as api:
        run = api.get_dag_run("dissolve_company", "dissolve-91350100M000100Y43")
    assert run["conf"]["procedure"] == "simplified"


def test_wrong_dag_and_wrong_password_trigger_nothing(
    airflow: RunningAirflow, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    person = uid("nobody")
    sheet = write_csv(
        tmp_path / "p.csv", [[person, "无", "lisi", "2026-12-01", "员工", "admin", "hr_wang", "", ""]]
    )
    args = ["--api-url", airflow.api_url, "--username", "hr_wang"]
    assert (
        main(
            [
                "bulk-trigger",
                str(sheet),
                "--dag",
                "no_such_dag",
                "--case-type",
                "person",
                *args,
                "--password",
                airflow.passwords["hr_wang"],
            ]
        )
        == 2
    )
    assert "DAG 'no_such_dag' not found" in capsys.readouterr().err
    assert main(["bulk-trigger", str(sheet), *args, "--password", "Wr0ng-pass"]) == 2
    captured = capsys.readouterr()
    assert "Airflow refused the login of user 'hr_wang'" in captured.err
    assert "Wr0ng-pass" not in captured.out + captured.err
    with airflow.api() as api:
        assert run_of(api, f"offboard-{person}") is None
