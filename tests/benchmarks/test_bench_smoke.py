"""Every bench runs end to end at its quick size (real sandbox, real operators, real child processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import cases_page, company
from benchmarks.results import Row
from benchmarks.sizes import Size

QUICK = Size(quick=True)
REPO = Path(__file__).resolve().parents[2]


def rows_of(name: str, workdir: Path) -> dict[str, Row]:
    """Run one bench at its quick size as ``make bench --quick --only NAME`` does: in a process of its own,
    so nothing this test session stands in for (the autouse fixtures of ``tests/conftest.py``) helps it."""
    output = workdir / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", name, "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert output.is_file(), f"exit {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    rows = [Row(**row) for row in json.loads(output.read_text("utf-8"))["rows"]]
    failed = [r.notes for r in rows if r.notes.startswith("bench failed")]
    assert not failed, failed
    return {r.name: r for r in rows}


def numbers(rows: dict[str, Row]) -> dict[str, Any]:
    return {name: row.value for name, row in rows.items()}


@pytest.mark.slow
def test_waiting_cost_quick(tmp_path: Path) -> None:
    rows = rows_of("waiting_cost", tmp_path)
    assert set(rows) == {
        "waiting_cost.memory_per_wait",
        "waiting_cost.memory_per_time_wait",
        "waiting_cost.memory_all_waits",
        "waiting_cost.cpu_per_hour",
        "waiting_cost.worker_slots",
        "waiting_cost.wecom_calls_time_wait",
        "waiting_cost.wecom_calls_transfer_wait",
    }
    assert all(isinstance(v, float | int) for v in numbers(rows).values())
    assert rows["waiting_cost.memory_per_wait"].ratio < 0.1  # a trigger is far smaller than a task process
    time_wait = rows["waiting_cost.memory_per_time_wait"]  # ours against Airflow's DateTimeTrigger, same run
    assert time_wait.value > 0 and time_wait.baseline > 0
    assert rows["waiting_cost.worker_slots"].value == 0 and rows["waiting_cost.worker_slots"].met is True
    assert rows["waiting_cost.wecom_calls_time_wait"].value == 0
    transfer = rows["waiting_cost.wecom_calls_transfer_wait"]
    assert 0 < transfer.value <= 48 and transfer.baseline == 2880


@pytest.mark.slow
def test_wecom_calls_person_quick(tmp_path: Path) -> None:
    rows = rows_of("wecom_calls_person", tmp_path)
    assert set(rows) == {"wecom_calls_person.lisi", "wecom_calls_person.total", "wecom_calls_person.gettoken"}
    lisi = rows["wecom_calls_person.lisi"]
    assert lisi.value >= lisi.baseline > 40
    assert rows["wecom_calls_person.gettoken"].value == rows["wecom_calls_person.gettoken"].baseline == 3


@pytest.mark.slow
def test_company_quick(tmp_path: Path) -> None:
    rows = rows_of("company_10k", tmp_path)
    assert (
        rows["company_10k.calls"].baseline > 1000
        and rows["company_10k.calls"].value >= rows["company_10k.calls"].baseline
    )
    assert rows["company_10k.rate_limit_errors"].value == 0
    assert rows["company_10k.task_instances"].value == 34  # 33 tasks, the batch task mapped over 2 batches
    assert rows["company_10k.wall_time"].value > 0


@pytest.mark.slow
def test_backup_throughput_quick(tmp_path: Path) -> None:
    rows = rows_of("backup_throughput", tmp_path)
    stream = rows["backup_throughput.wedrive_stream"]
    memory = rows["backup_throughput.peak_memory_1gb"]
    assert stream.value > 0 and stream.baseline > 0
    assert 0.8 < memory.ratio < 1.25  # the 64 MiB export peaks like the 4 MiB one
    assert not any(tmp_path.rglob("bench-big.bin"))  # nothing big left behind


@pytest.mark.slow
def test_cases_page_quick(tmp_path: Path) -> None:
    rows = rows_of("cases_page", tmp_path)
    assert set(rows) == {"cases_page.first_page_10k", "cases_page.stalled_list_10k"}
    row = rows["cases_page.first_page_10k"]
    assert 0 < row.value < 5
    assert "50 of 1,000 cases" in row.notes
    assert 0 < rows["cases_page.stalled_list_10k"].value < 5


def test_company_bench_reports_not_available_without_the_batch_operator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "offboarding.operators.company_members", None)  # as if not written yet
    rows = company.run(QUICK, tmp_path)
    assert [r.name for r in rows] == [
        "company_10k.calls",
        "company_10k.wall_time",
        "company_10k.rate_limit_errors",
        "company_10k.task_instances",
    ]
    assert all(r.value is None and r.met is None and r.notes.startswith("not available: ") for r in rows)


def test_cases_page_bench_reports_not_available_without_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "offboarding_dev.synthetic", None)  # as if not written yet
    [row] = cases_page.run(QUICK, tmp_path)
    assert row.value is None and row.notes.startswith("not available: the cases page or its seeding helper")
