"""The mass-layoff bench's own parts (fast; the run itself is tests/capacity ``test_mass_layoff_quick``):
its list export is one valid layoff case, the rows compare the two shapes, failures show the task log."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks.mass_layoff import PerPerson, per_person_rows, write_export
from benchmarks.mass_layoff_bulk import (
    LAYOFF_CONN_ID,
    LAYOFF_DAG_ID,
    LIST_ID,
    BulkRun,
    bulk_rows,
    failure_report,
)
from offboarding.bulk import plan_layoff, read_sheet
from offboarding.cli import main
from offboarding_dev.rehearsal.samples import today_in_shanghai


def test_the_list_export_is_one_valid_layoff_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leavers = [f"u{n:06d}" for n in range(1, 17)]
    export = write_export(tmp_path / "list.csv", leavers, [], "u000017", LAYOFF_CONN_ID)
    plan = plan_layoff(read_sheet(export), LIST_ID, triggered_by="hr")
    assert plan.valid, plan.problems
    assert plan.case_id == f"layoff-{LIST_ID}"
    conf = plan.conf
    assert [p["userid"] for p in conf["persons"]] == leavers
    assert {p["successor_userid"] for p in conf["persons"]} == {"u000017"}
    assert (conf["wecom_conn_id"], conf["time_scale"], conf["last_working_day"]) == (
        LAYOFF_CONN_ID,
        86400,
        today_in_shanghai().isoformat(),
    )
    assert (conf["hr_owner"], conf["approvers"]) == ("hr", ["approver"])
    assert main(["bulk-trigger", str(export), "--one-case", LIST_ID, "--dry-run", "--username", "hr"]) == 0
    assert "16 persons (rows 2-17), 1 successor" in capsys.readouterr().out


def test_the_per_person_export_keeps_its_connections(tmp_path: Path) -> None:
    export = write_export(tmp_path / "people.csv", ["u000001"], ["u000002"], "u000003")
    text = export.read_text(encoding="utf-8-sig")
    assert "wecom_default" in text and "wecom_layoff_waiting" in text and LAYOFF_CONN_ID not in text


def bulk_run(**changes: object) -> BulkRun:
    facts = {
        "count": 16,
        "trigger_seconds": 2.0,
        "approval_requested": 20.0,
        "approval_answered": 26.0,
        "all_batches_done": 40.0,
        "summary_done": 45.0,
        "batches": 1,
        "task_instances": 8,
        "calls": 160,
        "rate_limited": 0,
        "answered_by": "approver",
        "run_state": "success",
        "deleted": 16,
    }
    return BulkRun(**{**facts, **changes})  # type: ignore[arg-type]


def test_bulk_rows_compare_the_two_shapes() -> None:
    person = PerPerson(16, 12, 4, 4.0, 30.0, 45.0, 12, 4, 400, 300, 560, 250, 0)
    assert person.seconds_for_all == pytest.approx(40.0)  # 30 s for 12 driven → 40 s for 16
    noted = {r.name: r.notes for r in per_person_rows(person)}["mass_layoff.all_backups_verified"]
    assert "No task of the 16 cases was left to run 45 s after the command started" in noted
    unsettled = {r.name: r.notes for r in per_person_rows(replace(person, quiet_seconds=None))}
    assert "settle timed out" in unsettled["mass_layoff.all_backups_verified"]
    run = bulk_run(approval_requested=12.0, approval_answered=20.0, all_batches_done=28.0)
    rows = {r.name: r for r in bulk_rows(run, person.seconds_for_all, "extrapolated")}
    # The per-person shape stops at its approval request: the approval's 8 s wait is not compared.
    speedup = rows["mass_layoff.bulk_speedup"]
    assert speedup.value == pytest.approx(40.0 / 20.0)
    assert "(40.0 s, extrapolated; it stops at each case's approval request)" in speedup.notes
    assert "(28.0 s − 8.0 s = 20.0 s," in speedup.notes
    assert "counting the bench's 8.0 s answer delay it is 1.43×" in speedup.notes
    assert rows["mass_layoff.bulk.task_instances_per_person"].value == pytest.approx(0.5)
    assert rows["mass_layoff.bulk.wecom_calls_per_person"].value == pytest.approx(10.0)
    assert rows["mass_layoff.bulk.rate_limit_errors"].met is True
    assert (
        "Answered by approver through the REST API at 20.0 s"
        in rows["mass_layoff.bulk.approval_requested"].notes
    )
    assert "the run ended success. The sandbox then held 16 of 16 persons deleted." in (
        rows["mass_layoff.bulk.all_backups_verified"].notes
    )


def test_rate_limit_errors_miss_the_goal() -> None:
    [limited] = [r for r in bulk_rows(bulk_run(rate_limited=3), 40.0, "measured") if "rate_limit" in r.name]
    assert limited.met is False and "GOAL MISSED" in limited.notes


def test_a_failed_task_is_reported_with_its_log_tail(tmp_path: Path) -> None:
    run_id = f"layoff-{LIST_ID}"
    folder = tmp_path / f"dag_id={LAYOFF_DAG_ID}" / f"run_id={run_id}" / "task_id=close_case"
    folder.mkdir(parents=True)
    (folder / "attempt=1.log").write_text(
        json.dumps({"level": "info", "event": "starting"})
        + "\n"
        + json.dumps({"level": "error", "event": "Task failed", "error_detail": [{"exc_value": "boom"}]})
        + "\nplain text line\n"
    )
    topology = SimpleNamespace(env={"AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(tmp_path)}, home=tmp_path)
    report = failure_report(
        topology, run_id, [("close_case", -1), ("offboard_all_members.offboard_member_batch", 0)]
    )
    assert "task(s) failed: close_case[-1], offboard_all_members.offboard_member_batch[0]" in report
    assert 'error: Task failed [{"exc_value": "boom"}]' in report and "plain text line" in report
    assert "(no task log under" in report  # the batch wrote none
