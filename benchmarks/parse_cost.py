"""Parse cost: ``dags/`` parsed as the DAG processor does, against a one-task DAG in the same run.

Every measurement is a fresh process (``benchmarks.children.parse_dags``) so no import cache helps:
Airflow and the ``airflow.*`` modules the files name are imported first and the heap is frozen for the
garbage collector (as the processor does before it forks), then only ``DagBag(dag_folder=...)`` is
timed. As on a processor that re-parses its files every few minutes, bytecode is cached: one untimed
parse of every subject first fills a cache in the bench's scratch folder (its time, the first parse
after a deploy, is in the notes). Rounds alternate baseline and subjects; the rows report medians.
The folder is one DagBag (files share imports); the processor parses each file in its own process,
so in the full size each file is also measured alone. The folder's child then parses the same DAGs
with every task an EmptyOperator: Airflow's own cost for that shape, the floor under ours. When the
goal is missed, one more run under ``python -X importtime`` says which imports the parse pays for.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from benchmarks.children.parse_dags import SAME_SHAPE_FLAG
from benchmarks.environment import REPO, child_env
from benchmarks.importtime import ImportCost, describe, parse_importtime
from benchmarks.measure import median
from benchmarks.processes import ChildRun, python_module, run_child
from benchmarks.results import Goal, Row
from benchmarks.sizes import Size

GOAL = Goal.ratio_at_most(1.5)
CHILD = "benchmarks.children.parse_dags"
FOLDER = "dags_folder"
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
    subjects: dict[str, Path] = {FOLDER: dags}
    if not size.quick:
        subjects.update({f"file.{p.stem}": p for p in sorted(dags.glob("*.py"))})

    # Untimed: the first parse compiles and caches every module the DAG files import (and the files).
    first_parse = parse(dags, workdir).result["parse_seconds"]
    parse(baseline_folder, workdir)
    times: dict[str, list[float]] = defaultdict(list)
    last: dict[str, ChildRun] = {}
    for _ in range(repeats):
        baseline = parse(baseline_folder, workdir)
        times["baseline"].append(baseline.result["parse_seconds"])
        for name, path in subjects.items():
            child = parse(path, workdir, same_shape=name == FOLDER)
            times[name].append(child.result["parse_seconds"])
            last[name] = child
        times["same_shape"].append(last[FOLDER].result["same_shape_seconds"])

    baseline_median = median(times["baseline"])
    folder = last[FOLDER].result
    errors = folder["import_errors"] or folder["same_shape_errors"]
    if errors:
        return [Row.failed("parse_cost.dags_folder", f"dags/ has import errors: {errors}")]
    ours, floor = median(times[FOLDER]), median(times["same_shape"])
    why = ""
    if ours / baseline_median > GOAL.limit:
        why = why_missed(ours, floor, baseline_median, folder["tasks"], importtime_report(dags, workdir))
    per_file = ", ".join(f"{Path(f['file']).name} {f['seconds'] * 1000:.0f} ms" for f in folder["files"])
    rows = [
        Row.measured(
            "parse_cost.dags_folder",
            ours,
            "s",
            baseline=baseline_median,
            goal=GOAL,
            notes=f"DagBag on dags/ ({folder['dags']} DAGs, {folder['tasks']} tasks; {per_file}) in a fresh "
            f"process each run, Airflow pre-imported and the heap frozen as the DAG processor does, bytecode "
            f"cached; baseline: a one-task DAG; median of {repeats} (range {min(times[FOLDER]):.3g}-"
            f"{max(times[FOLDER]):.3g} s, baseline {min(times['baseline']):.3g}-{max(times['baseline']):.3g} s). "
            f"The first parse after a deploy, compiling every module it imports: {first_parse:.3g} s.",
            why_missed=why,
        )
    ]
    rows.append(same_shape_row(floor, ours, baseline_median, folder["same_shape_tasks"], repeats))
    rows.append(
        Row.measured(
            "parse_cost.dags_folder_vs_same_shape",
            ours,
            "s",
            baseline=floor,
            goal=GOAL,
            notes=f"parse_cost.dags_folder against parse_cost.same_shape_empty_dag (the same DAGs, every task "
            f"an EmptyOperator) from the same runs: what our imports and operators add to Airflow's own cost "
            f"for this shape; median of {repeats} each.",
            why_missed="see parse_cost.dags_folder for what the parse pays for",
        )
    )
    for name, path in subjects.items():
        if name == FOLDER:
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
                why_missed="see parse_cost.dags_folder for what the parse pays for",
            )
        )
    return rows


def same_shape_row(floor: float, ours: float, baseline: float, tasks: int, repeats: int) -> Row:
    """Informational: Airflow's own cost of the same DAGs, so the reader sees our overhead above it."""
    return Row.measured(
        "parse_cost.same_shape_empty_dag",
        floor,
        "s",
        baseline=baseline,
        notes=f"dags/ rebuilt with every one of its {tasks} tasks an EmptyOperator (same task groups, "
        f"dependencies and DAG params), parsed in the same process right after dags/; median of {repeats}. "
        f"Airflow's own cost of constructing that many operators: the floor under parse_cost.dags_folder, "
        f"which is {(ours - floor) * 1000:.0f} ms above it. No goal: informational.",
    )


def why_missed(ours: float, floor: float, baseline: float, tasks: int, imports: str) -> str:
    """What the parse pays for, above a one-task DAG: Airflow's own cost for the shape, then ours."""
    return (
        f"parsing costs the imports the DAG files pull in, which a one-task DAG does not, and building "
        f"{tasks} tasks. Airflow alone needs {floor * 1000:.0f} ms ({floor / baseline:.1f}× the one-task "
        f"DAG) for these DAGs with every task an EmptyOperator (parse_cost.same_shape_empty_dag; each "
        f"operator deep-copies the DAG's params once per __init__ level of its class), so no DAG of this "
        f"size can come near 1.5×. The other {(ours - floor) * 1000:.0f} ms are ours: importing the modules "
        f"the DAGs are built from (ours, and Airflow's for @task and human-in-the-loop steps, which "
        f"EmptyOperators do not need) and constructing our operators instead of EmptyOperators. {imports}"
    )


def parse(path: Path, workdir: Path, *, importtime: bool = False, same_shape: bool = False) -> ChildRun:
    argv = python_module(CHILD, str(path))
    if importtime:
        argv[1:1] = ["-X", "importtime"]
    if same_shape:
        argv.append(SAME_SHAPE_FLAG)
    return run_child(argv, env=parse_env(workdir), workdir=workdir, timeout=TIMEOUT)


def parse_env(workdir: Path) -> dict[str, str]:
    """The children's environment, bytecode cached under the bench's scratch folder.

    A DAG processor re-parsing its files finds their bytecode cached (pip compiles site-packages when it
    installs them; the plugins' is written when first imported). The environment running the bench may
    forbid writing bytecode (``PYTHONDONTWRITEBYTECODE``), which would make every parse compile every
    module it imports; the cache goes to the scratch folder, never next to the sources.
    """
    env = child_env(workdir, PYTHONPYCACHEPREFIX=str(workdir / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def importtime_report(dags: Path, workdir: Path) -> str:
    """Which imports the parse of ``dags`` pays for, from one run under ``-X importtime``."""
    costs = parse_importtime(parse(dags, workdir, importtime=True).output)
    return f"Under -X importtime: {describe(costs)}; ours by sub-package: {by_subpackage(costs)}."


def by_subpackage(costs: list[ImportCost], package: str = "offboarding", top: int = 6) -> str:
    """``offboarding.operators 11 ms, offboarding.backup 5 ms, ...``: own import time per sub-package."""
    totals: Counter[str] = Counter()
    for cost in costs:
        if cost.package == package:
            totals[".".join(cost.module.split(".")[:2])] += cost.self_us
    return ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in totals.most_common(top)) or "none"
