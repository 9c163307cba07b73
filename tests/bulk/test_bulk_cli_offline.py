"""The ``offboarding`` command without Airflow: help, dry runs, refusing bad input before any request."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from offboarding.cli import main

HEADER = "工号,姓名,交接人,最后工作日,审批人,HR负责人"


def write_csv(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return path


def test_help_lists_the_subcommands() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "offboarding"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "bulk-trigger" in done.stdout


def test_no_subcommand_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "bulk-trigger" in capsys.readouterr().out


def test_bulk_trigger_help_documents_the_chinese_headers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["bulk-trigger", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "工号→userid" in out and "最后工作日→last_working_day" in out and "--skip-invalid" in out


def test_dry_run_lists_what_would_be_triggered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = write_csv(
        tmp_path,
        "zhangsan,张三,lisi,2026/12/1,boss_li,hr_wang",
        "wangwu,王五,lisi,2026-12-02,boss_li,hr_wang",
    )
    assert main(["bulk-trigger", str(sheet), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "row 2: offboard-zhangsan  张三" in out
    assert "row 3: offboard-wangwu  王五" in out
    assert re.search(r"^  would trigger\s+2$", out, re.MULTILINE)


def test_dry_run_with_a_bad_row_refuses_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_csv(
        tmp_path, "zhangsan,张三,lisi,2026/12/1,boss_li,hr_wang", "lisi,李四,lisi,2026-12-02,,hr_wang"
    )
    assert main(["bulk-trigger", str(sheet), "--dry-run"]) == 2
    out = capsys.readouterr().out
    assert "row 3: successor_userid (column 交接人): must differ from userid (lisi)" in out
    # A blank 审批人 cell is no error here: the deployment's default approvers apply when the run is
    # created, and Airflow refuses the run naming the field when the deployment has none.
    assert "approvers" not in out
    assert "Nothing was triggered" in out
    assert "would trigger" not in out


def test_missing_api_url_or_credentials_are_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AIRFLOW_API_URL", "AIRFLOW_USERNAME", "AIRFLOW_PASSWORD", "AIRFLOW_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    sheet = write_csv(tmp_path, "zhangsan,张三,lisi,2026/12/1,boss_li,hr_wang")
    assert main(["bulk-trigger", str(sheet)]) == 2
    assert "--api-url: required" in capsys.readouterr().err
    assert main(["bulk-trigger", str(sheet), "--api-url", "http://127.0.0.1:9"]) == 2
    assert "credentials" in capsys.readouterr().err
    assert main(["bulk-trigger", str(sheet), "--api-url", "http://127.0.0.1:9", "--username", "admin"]) == 2
    assert "--username/--password: give both" in capsys.readouterr().err


def test_an_unknown_dag_needs_a_case_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = write_csv(tmp_path, "zhangsan,张三,lisi,2026/12/1,boss_li,hr_wang")
    assert main(["bulk-trigger", str(sheet), "--dry-run", "--dag", "offboard_v2"]) == 2
    assert "--case-type" in capsys.readouterr().err
    assert (
        main(["bulk-trigger", str(sheet), "--dry-run", "--dag", "offboard_v2", "--case-type", "person"]) == 0
    )


def test_an_unreachable_airflow_fails_without_leaking_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_csv(tmp_path, "zhangsan,张三,lisi,2026/12/1,boss_li,hr_wang")
    code = main(
        [
            "bulk-trigger",
            str(sheet),
            "--api-url",
            "http://127.0.0.1:9",
            "--username",
            "admin",
            "--password",
            "Pa55",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "cannot reach the Airflow api-server" in captured.err
    assert "Pa55" not in captured.err + captured.out


def test_an_export_with_only_the_persons_columns_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "people.csv"
    sheet.write_text("工号,姓名,交接人,最后工作日\nzhangsan,张三,lisi,2026-12-01\n", encoding="utf-8")
    assert main(["bulk-trigger", str(sheet), "--dry-run"]) == 0
    assert "row 2: offboard-zhangsan  张三" in capsys.readouterr().out
