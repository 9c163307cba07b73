"""Parse a DAG folder (or one file) the way Airflow's DAG processor does, timing only the parse.

``python -m benchmarks.children.parse_dags PATH [--same-shape]``: import Airflow's DagBag, freeze the
garbage collector's view of the heap (the processor's manager calls ``gc.freeze()`` before it forks a
parsing process, so a parse never walks Airflow's own objects in a full collection), pre-import the
``airflow.*`` modules each file names (the processor does this before it forks,
``[dag_processor] parsing_pre_import_modules``), then time ``DagBag(dag_folder=PATH)``. Writes
``{"parse_seconds", "dags", "tasks", "import_errors", "files": [...]}``. With ``--same-shape`` it then
writes and times, in the same process, DAG files of the same shape with every task an EmptyOperator
(``same_shape_seconds``, ``same_shape_tasks``): Airflow's own cost for that many tasks. With
``-X importtime`` a marker line on stderr separates Airflow's own imports from those the DAG files cause.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.importtime import MARKER
from benchmarks.processes import write_result

SAME_SHAPE_FLAG = "--same-shape"
SAME_SHAPE_HEADER = '''"""Same shape as {dag_id}: its task groups, tasks, dependencies and params; every task an EmptyOperator."""
import json

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param, TaskGroup

PARAMS = json.loads({params!r})

with DAG(
    dag_id="same_shape_{dag_id}",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1),
    catchup=False,
    params={{name: Param(**spec) for name, spec in PARAMS.items()}},
):
    t = {{}}
'''


def main(path: str, *, same_shape: bool) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.file import iter_airflow_imports, list_py_file_paths

    gc.freeze()
    for file_path in list_py_file_paths(path):
        for module in iter_airflow_imports(file_path):
            try:
                importlib.import_module(module)
            except Exception as err:  # the processor logs and goes on; so does the bench
                print(f"pre-import of {module} failed: {err}", file=sys.stderr)
    sys.stderr.write(f"{MARKER}\n")
    sys.stderr.flush()
    bag, parse_seconds = timed_parse(DagBag, path)
    result: dict[str, Any] = {
        "parse_seconds": parse_seconds,
        "dags": len(bag.dags),
        "tasks": sum(len(dag.tasks) for dag in bag.dags.values()),
        "import_errors": {str(k): str(v)[-500:] for k, v in bag.import_errors.items()},
        "files": [
            {"file": str(s.file), "seconds": _seconds(s.duration), "tasks": s.task_num}
            for s in bag.dagbag_stats
        ],
    }
    if same_shape:
        folder = Path(os.environ["BENCH_RESULT_PATH"]).parent / "same_shape_dags"
        write_same_shape(bag.dags.values(), folder)
        gc.freeze()  # a parsing process starts without the DAGs parsed above
        shaped, result["same_shape_seconds"] = timed_parse(DagBag, str(folder))
        result["same_shape_tasks"] = sum(len(dag.tasks) for dag in shaped.dags.values())
        result["same_shape_errors"] = {str(k): str(v)[-500:] for k, v in shaped.import_errors.items()}
    write_result(result)


def timed_parse(dagbag_class: Any, path: str) -> tuple[Any, float]:
    """``DagBag(dag_folder=path)`` and how long it took."""
    started = time.perf_counter()
    bag = dagbag_class(dag_folder=path)
    return bag, time.perf_counter() - started


def write_same_shape(dags: Iterable[Any], folder: Path) -> None:
    """One file per DAG in ``folder``: same groups, tasks, edges and params, every task an EmptyOperator."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.py"):
        old.unlink()
    for dag in dags:
        (folder / f"same_shape_{dag.dag_id}.py").write_text(same_shape_source(dag), "utf-8")


def same_shape_source(dag: Any) -> str:
    header = SAME_SHAPE_HEADER.format(dag_id=dag.dag_id, params=json.dumps(_param_specs(dag)))
    body = list(_group_lines(dag.task_group, depth=1))
    edges = [
        f'    t["{task.task_id}"] >> t["{downstream}"]'
        for task in dag.tasks
        for downstream in sorted(task.downstream_task_ids)
    ]
    return header + "\n".join(body + edges) + "\n"


def _param_specs(dag: Any) -> dict[str, dict[str, Any]]:
    from airflow.sdk.definitions._internal.types import is_arg_set

    specs = {}
    for name in dag.params:
        param = dag.params.get_param(name)
        spec: dict[str, Any] = {"description": param.description, "schema": param.schema}
        if is_arg_set(param.value):
            spec["default"] = param.value
        specs[name] = spec
    return specs


def _group_lines(group: Any, depth: int) -> Iterator[str]:
    from airflow.sdk import TaskGroup

    indent = "    " * depth
    for child in group.children.values():
        if isinstance(child, TaskGroup):
            yield f'{indent}with TaskGroup("{_local_id(child.group_id, group.group_id)}"):'
            yield from _group_lines(child, depth + 1) if child.children else [f"{indent}    pass"]
        else:
            local = _local_id(child.task_id, group.group_id)
            yield f'{indent}t["{child.task_id}"] = EmptyOperator(task_id="{local}")'


def _local_id(node_id: str, parent_id: str | None) -> str:
    return node_id[len(parent_id) + 1 :] if parent_id else node_id


def _seconds(duration: object) -> float:
    total = getattr(duration, "total_seconds", None)
    return float(total() if callable(total) else duration)  # type: ignore[arg-type]


if __name__ == "__main__":
    args = sys.argv[1:]
    flags = {a for a in args if a.startswith("--")}
    paths = [a for a in args if not a.startswith("--")]
    if len(paths) != 1 or flags - {SAME_SHAPE_FLAG}:
        raise SystemExit(
            f"usage: python -m benchmarks.children.parse_dags DAG_FOLDER_OR_FILE [{SAME_SHAPE_FLAG}]"
        )
    main(paths[0], same_shape=SAME_SHAPE_FLAG in flags)
