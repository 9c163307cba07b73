"""One wait done as a poke-mode sensor: the task process it keeps alive, and what its pokes cost.

``python -m benchmarks.children.poke_sensor SPEC.json``. Loads what a task process holds while a poke-mode
sensor runs: the Task SDK runtime (``airflow.sdk.execution_time.task_runner``) and the parsed DAG file
(``offboard_employee``), then a ``DateTimeSensor(mode="poke")`` for a 45-day deadline. Measures the
process' RSS and USS (private memory: what one more such process adds), the CPU of one time poke and of
one transfer-result poke (``read_takeover_status`` against the sandbox), and its CPU over an idle window
in which it pokes at the sensor's default interval. The worker's supervisor process that runs beside
each task process in Airflow 3 (and its heartbeats to the API server) is not included.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import pendulum

from benchmarks.processes import rss_bytes, uss_bytes, write_result


def cpu_of(action: Any, repeats: int) -> float:
    """Median CPU seconds of one call of ``action``."""
    samples = []
    for _ in range(repeats):
        started = time.process_time()
        action()
        samples.append(time.process_time() - started)
    return statistics.median(samples)


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec: dict[str, Any] = json.load(handle)
    import airflow.sdk.execution_time.task_runner  # noqa: F401 - what a task process runs in
    from airflow.dag_processing.dagbag import DagBag
    from airflow.providers.standard.sensors.date_time import DateTimeSensor

    from offboarding.hooks.wecom import WeComHook
    from offboarding.steps.takeover import read_takeover_status

    bag = DagBag(dag_folder=spec["dag_file"])
    if not bag.dags:
        raise SystemExit(f"{spec['dag_file']} holds no DAG: {bag.import_errors}")
    target = pendulum.now("UTC").add(days=45).isoformat()
    sensor = DateTimeSensor(task_id="wait_for_notice_period_end", target_time=target, mode="poke")
    context: dict[str, Any] = {}
    time_poke = cpu_of(lambda: sensor.poke(context), 200)
    member, successor = spec["pair"]
    contacts = WeComHook("wecom_default").customer_contacts
    read_takeover_status(contacts, member, successor)  # the token and the connection, once
    transfer_poke = cpu_of(lambda: read_takeover_status(contacts, member, successor), 5)

    rss, uss = rss_bytes(), uss_bytes()
    window = float(spec["window"])
    interval = float(sensor.poke_interval)
    pokes = 0
    started_cpu, started = time.process_time(), time.monotonic()
    while (left := window - (time.monotonic() - started)) > 0:
        sensor.poke(context)
        pokes += 1
        time.sleep(min(interval, left))
    cpu_window = time.process_time() - started_cpu
    write_result(
        {
            "rss": rss,
            "uss": uss,
            "poke_interval": interval,
            "cpu_per_time_poke": time_poke,
            "cpu_per_transfer_poke": transfer_poke,
            "window": window,
            "pokes_in_window": pokes,
            "cpu_window": cpu_window,
        }
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m benchmarks.children.poke_sensor SPEC.json")
    main(sys.argv[1])
