"""The capacity and mass-layoff benches at their quick size, on the distributed topology (PostgreSQL, Redis,
Celery): every row is measured, the synthesized cases in flight are real enough to run, nothing is capped.

In the distributed group (minutes: a deployment starts for each bench)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from benchmarks.registry import BENCHES, run_bench
from benchmarks.sizes import Size
from benchmarks.table import format_markdown

pytestmark = [pytest.mark.services, pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]


def rows_of(name: str, workdir: Path) -> dict[str, object]:
    [bench] = [b for b in BENCHES if b.name == name]
    rows = run_bench(bench, Size(quick=True), workdir)
    print(format_markdown(rows), *(f"{r.name}: {r.notes}" for r in rows), sep="\n")  # shown with -s
    failed = [r.notes for r in rows if r.notes.startswith("bench failed")]
    assert not failed, failed
    return {r.name: r for r in rows}


def test_capacity_quick(services: None, tmp_path: Path) -> None:
    rows = rows_of("capacity", tmp_path)
    assert set(rows) == {
        "capacity.first_task_p95",
        "capacity.backup_verified_p95",
        "capacity.scheduler_loop_p95",
        "capacity.triggerer_rss",
        "capacity.triggerer_memory_per_time_wait",
        "capacity.triggerer_cpu",
        "capacity.cases_page",
        "capacity.trigger_endpoint",
        "capacity.watchdog_round",
        "capacity.db_per_case",
        "capacity.wecom_reads_per_hour_2500",
        "capacity.triggerer_sockets",
        "capacity.max_active_runs",
    }
    for row in rows.values():
        assert row.value is not None and not math.isnan(row.value), row
    # Every synthesized case is running (none queued behind a DAG limit); the sample, woken by a reschedule
    # through the REST API after the measurement, ran for real.
    assert rows["capacity.max_active_runs"].met is True
    assert (
        "3 of them, woken after the measurement by a reschedule to today through the REST API, ran for real "
        "through backup and handover" in rows["capacity.first_task_p95"].notes
    )
    # The transfer waits really polled the sandbox, through a bounded number of sockets.
    assert rows["capacity.wecom_reads_per_hour_2500"].value > 0
    assert 1 <= rows["capacity.triggerer_sockets"].value <= 20
    assert rows["capacity.scheduler_loop_p95"].baseline > 0
    # The watchdog watched the cases in flight without a request per case.
    watchdog = rows["capacity.watchdog_round"]
    assert watchdog.met is True
    steps, requests = (
        int(n.replace(",", ""))
        for n in re.findall(r"([\d,]+) (?:steps watched with|REST)", watchdog.notes)[:2]
    )
    assert steps >= 150 and requests < steps / 2, watchdog.notes


def test_mass_layoff_quick(services: None, tmp_path: Path) -> None:
    rows = rows_of("mass_layoff", tmp_path)
    check_bulk_shape(rows)
    assert rows["mass_layoff.rate_limit_errors"].value == 0
    assert rows["mass_layoff.task_instances_per_case"].value > 20
    assert rows["mass_layoff.wecom_calls_per_case"].value > 5
    assert rows["mass_layoff.all_backups_verified"].value > rows["mass_layoff.trigger_time"].value
    # One export of 16: 12 driven to their approval request, 4 real cases waiting for a later last day.
    notes = rows["mass_layoff.trigger_time"].notes
    assert "16 persons from one CSV" in notes and "(awaiting: 12)" in notes, notes
    assert "4 waiting (parked) for a last working day in 30 days (parked: 4)" in notes, notes


def check_bulk_shape(rows: dict[str, object]) -> None:
    """The same 16 persons as one offboard_layoff case, all driven through the approval and the deletion."""
    assert rows["mass_layoff.bulk.rate_limit_errors"].value == 0
    # One case for the list: a handful of task instances for 16 persons, not ~36 per person.
    per_person = rows["mass_layoff.bulk.task_instances_per_person"].value
    assert 0 < per_person < rows["mass_layoff.task_instances_per_case"].value / 10, per_person
    assert rows["mass_layoff.bulk.wecom_calls_per_person"].value > 0
    assert 0 < rows["mass_layoff.bulk.trigger_time"].value < rows["mass_layoff.bulk.approval_requested"].value
    assert (
        rows["mass_layoff.bulk.approval_requested"].value
        < rows["mass_layoff.bulk.all_backups_verified"].value
    )
    verified = rows["mass_layoff.bulk.all_backups_verified"].notes
    assert "Answered by approver through the REST API" in rows["mass_layoff.bulk.approval_requested"].notes
    assert "16 persons from one CSV through `offboarding bulk-trigger --one-case`" in (
        rows["mass_layoff.bulk.trigger_time"].notes
    )
    assert re.search(r"Summary succeeded at [\d.]+ s; the run ended success", verified), verified
    assert "The sandbox then held 16 of 16 persons deleted." in verified, verified
    assert rows["mass_layoff.bulk_speedup"].value > 1, rows["mass_layoff.bulk_speedup"].notes
