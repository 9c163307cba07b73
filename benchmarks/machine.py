"""The machine a run happened on, for the results file and the README table."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (``unknown`` elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def describe_machine() -> dict[str, Any]:
    """CPU, cores, memory, load at the start, Python and Airflow versions."""
    try:
        airflow_version = metadata.version("apache-airflow")
    except metadata.PackageNotFoundError:
        airflow_version = "not installed"
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": memory_gb(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "airflow": airflow_version,
    }


def summary(machine: dict[str, Any]) -> str:
    """One line: ``2 cores (Intel ...), 23.5 GB, load 11.2 at start, Python 3.11.7, Airflow 3.3.2``."""
    load = machine.get("load_average_at_start") or ["?"]
    return (
        f"{machine.get('cores')} cores ({machine.get('cpu')}), {machine.get('memory_gb')} GB, "
        f"load {load[0]} at start, Python {machine.get('python')}, Airflow {machine.get('airflow')}"
    )
