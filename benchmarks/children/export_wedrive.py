"""Run ``ExportWeDriveFilesOperator`` once in a fresh process, for its time and its peak memory.

``python -m benchmarks.children.export_wedrive SPEC.json`` (spec: the case ``params``). The parent reads
the process' peak RSS (VmHWM); this script adds its RSS before the export (Airflow and the operator
imported) and the wall time of ``execute()`` alone.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.processes import rss_bytes, write_result
from benchmarks.task_context import MemoryTaskInstance, run_task

TASK_ID = "backup.export_wedrive_files"


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        params = json.load(handle)["params"]
    from offboarding.operators.backup import ExportWeDriveFilesOperator

    operator = ExportWeDriveFilesOperator(task_id="export_wedrive_files")
    rss_before = rss_bytes()
    started = time.perf_counter()
    result = run_task(
        operator, params, task_id=TASK_ID, run_id=f"offboard-{params['userid']}", ti=MemoryTaskInstance()
    )
    seconds = time.perf_counter() - started
    write_result(
        {
            "seconds": seconds,
            "bytes": result["bytes"],
            "downloaded": result["downloaded"],
            "reused": result["reused"],
            "rss_before_export": rss_before,
        }
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m benchmarks.children.export_wedrive SPEC.json")
    main(sys.argv[1])
