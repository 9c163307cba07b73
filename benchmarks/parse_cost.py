"""Parse cost: ``dags/`` parsed as the DAG processor does, against a one-task DAG in the same run.

Every measurement is a fresh process (``benchmarks.children.parse_dags``) so no import cache helps:
Airflow and the ``airflow.*`` modules the files name are imported first (as the processor does before
it forks), then only ``DagBag(dag_folder=...)`` is timed. Rounds alternate baseline and subjects; the
rows report medians. The folder is one DagBag (files share imports); the processor parses each file
in its own process, so in the full size each file is also measured alone. When the goal is missed, one
more run under ``python -X importtime`` says which imports the parse pays for.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from benchmarks.environment import REPO, child_env
from benchmarks.importtime import describe, parse_importtime
from benchmarks.measure import median
from benchmarks.processes import ChildRun, python_module, run_child
from benchmarks.results import Goal, Row
from benchmarks.sizes import Size

GOAL = Goal.ratio_at_most(1.5)
CHILD = "benchmarks.children.parse_dags"
ONE_TASK_DAG = '''"""Baseline: the smallest useful DAG, one task."""
import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="one_task", schedule=None, start_date=pendulum.datetime(2025, 1, 1), catchup=False):
    EmptyOperator(task_id="only_task")
'''
TIMEOUT = 300.0


def run(size: Size, workdir: Path) -> list[Row]:
    repeats = size.pick(1, 5)
    dags = REPO / "dags"
    baseline_folder = workdir / "one_task_dag"
    baseline_folder.mkdir(parents=True, exist_ok=True)
    (baseline_folder / "one_task.py").write_text(ONE_TASK_DAG, "utf-8")
    subjects: dict[str, Path] = {"dags_folder": dags}
    if not size.quick:
        subjects.update({f"file.{p.stem}": p for p in sorted(dags.glob("*.py"))})

    times: dict[str, list[float]] = defaultdict(list)
    last: dict[str, ChildRun] = {}
    for _ in range(repeats):
        baseline = parse(baseline_folder, workdir)
        times["baseline"].append(baseline.result["parse_seconds"])
        for name, path in subjects.items():
            child = parse(path, workdir)
            times[name].append(child.result["parse_seconds"])
            last[name] = child

    baseline_median = median(times["baseline"])
    folder = last["dags_folder"].result
    errors = folder["import_errors"]
    if errors:
        return [Row.failed("parse_cost.dags_folder", f"dags/ has import errors: {errors}")]
    why = ""
    if median(times["dags_folder"]) / baseline_median > GOAL.limit:
        why = importtime_report(dags, workdir)
    per_file = ", ".join(f"{Path(f['file']).name} {f['seconds'] * 1000:.0f} ms" for f in folder["files"])
    rows = [
        Row.measured(
            "parse_cost.dags_folder",
            median(times["dags_folder"]),
            "s",
            baseline=baseline_median,
            goal=GOAL,
            notes=f"DagBag on dags/ ({folder['dags']} DAGs, {folder['tasks']} tasks; {per_file}) in a fresh "
            f"process each run, Airflow pre-imported as the DAG processor does; baseline: a one-task DAG; "
            f"median of {repeats} (range {min(times['dags_folder']):.3g}-{max(times['dags_folder']):.3g} s, "
            f"baseline {min(times['baseline']):.3g}-{max(times['baseline']):.3g} s).",
            why_missed=why,
        )
    ]
    for name, path in subjects.items():
        if name == "dags_folder":
            continue
        rows.append(
            Row.measured(
                f"parse_cost.{name}",
                median(times[name]),
                "s",
                baseline=baseline_median,
                goal=GOAL,
                notes=f"{path.name} alone in a fresh process (the DAG processor parses each file in its own "
                "process, so a file pays for every import it needs).",
                why_missed="see parse_cost.dags_folder for the imports the parse pays for",
            )
        )
    return rows


def parse(path: Path, workdir: Path, *, importtime: bool = False) -> ChildRun:
    argv = python_module(CHILD, str(path))
    if importtime:
        argv.insert(1, "-X")
        argv.insert(2, "importtime")
    return run_child(argv, env=child_env(workdir), workdir=workdir, timeout=TIMEOUT)


def importtime_report(dags: Path, workdir: Path) -> str:
    """Which imports the parse of ``dags`` pays for, from one run under ``-X importtime``."""
    child = parse(dags, workdir, importtime=True)
    return (
        "parsing costs the imports the DAG files pull in, which a one-task DAG does not: "
        + describe(parse_importtime(child.output))
        + "."
    )
