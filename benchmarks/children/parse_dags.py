"""Parse a DAG folder (or one file) the way Airflow's DAG processor does, timing only the parse.

``python -m benchmarks.children.parse_dags PATH``: import Airflow's DagBag, pre-import the ``airflow.*``
modules each file names (the processor does this before it forks a parsing process,
``[dag_processor] parsing_pre_import_modules``), then time ``DagBag(dag_folder=PATH)``. Writes
``{"parse_seconds", "dags", "tasks", "import_errors", "files": [...]}``. With ``-X importtime`` a marker
line on stderr separates Airflow's own imports from those the DAG files cause.
"""

from __future__ import annotations

import importlib
import sys
import time

from benchmarks.importtime import MARKER
from benchmarks.processes import write_result


def main(path: str) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.file import iter_airflow_imports, list_py_file_paths

    for file_path in list_py_file_paths(path):
        for module in iter_airflow_imports(file_path):
            try:
                importlib.import_module(module)
            except Exception as err:  # the processor logs and goes on; so does the bench
                print(f"pre-import of {module} failed: {err}", file=sys.stderr)
    sys.stderr.write(f"{MARKER}\n")
    sys.stderr.flush()
    started = time.perf_counter()
    bag = DagBag(dag_folder=path)
    parse_seconds = time.perf_counter() - started
    write_result(
        {
            "parse_seconds": parse_seconds,
            "dags": len(bag.dags),
            "tasks": sum(len(dag.tasks) for dag in bag.dags.values()),
            "import_errors": {str(k): str(v)[-500:] for k, v in bag.import_errors.items()},
            "files": [
                {"file": str(s.file), "seconds": _seconds(s.duration), "tasks": s.task_num}
                for s in bag.dagbag_stats
            ],
        }
    )


def _seconds(duration: object) -> float:
    total = getattr(duration, "total_seconds", None)
    return float(total() if callable(total) else duration)  # type: ignore[arg-type]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m benchmarks.children.parse_dags DAG_FOLDER_OR_FILE")
    main(sys.argv[1])
