"""``python -m benchmarks``: choosing benches, the printed table, ``.bench/results.json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.cli import main
from benchmarks.environment import REPO
from benchmarks.registry import NAMES, select


@pytest.fixture
def restored_environment() -> Iterator[None]:
    """main() points this process at its scratch Airflow home; put the test session's back afterwards."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_every_bench_of_the_brief_is_registered_in_order() -> None:
    assert NAMES == (
        "parse_cost",
        "waiting_cost",
        "wecom_calls_person",
        "company_10k",
        "backup_throughput",
        "cases_page",
        "capacity",
        "mass_layoff",
    )
    assert [b.name for b in select(["cases_page", "parse_cost"])] == ["parse_cost", "cases_page"]


def test_an_unknown_bench_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--only", "parse_costs", "--output", str(tmp_path / "r.json")])
    assert stop.value.code == 2
    assert (
        "--only: unknown bench parse_costs; choose from parse_cost, waiting_cost" in capsys.readouterr().err
    )
    assert not (tmp_path / "r.json").exists()


def test_module_entry_point_answers_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "--quick" in done.stdout and "--only NAME" in done.stdout and "company_10k" in done.stdout


@pytest.mark.slow
def test_quick_run_prints_the_table_and_writes_the_results(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], restored_environment: None
) -> None:
    output = tmp_path / "bench" / "results.json"
    assert main(["--quick", "--only", "parse_cost", "--output", str(output)]) == 0

    printed = capfd.readouterr()
    assert "parse_cost.dags_folder" in printed.out and "Results written to" in printed.out
    assert "[bench] parse_cost done in" in printed.err
    report = json.loads(output.read_text("utf-8"))
    assert report["size"] == "quick" and report["machine"]["cores"] >= 1
    rows = {r["name"]: r for r in report["rows"]}
    assert {"parse_cost.same_shape_empty_dag", "parse_cost.dags_folder_vs_same_shape"} <= set(rows)
    same_shape = rows["parse_cost.dags_folder_vs_same_shape"]
    assert same_shape["baseline"] == pytest.approx(rows["parse_cost.same_shape_empty_dag"]["value"])
    row = rows["parse_cost.dags_folder"]
    assert row["unit"] == "s"
    assert row["value"] > 0 and row["baseline"] > 0
    assert row["ratio"] == pytest.approx(row["value"] / row["baseline"])
    assert row["goal"] == "ratio ≤ 1.5" and row["met"] is (row["ratio"] <= 1.5)
    if not row["met"]:
        assert "GOAL MISSED: parsing costs the imports" in row["notes"]
    assert "| parse_cost.dags_folder |" in output.with_suffix(".md").read_text("utf-8")
    assert (output.parent / "bench.log").is_file()
