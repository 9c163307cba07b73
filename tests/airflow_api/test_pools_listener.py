"""A fresh deployment gets the offboarding pools when a scheduler/triggerer/dag-processor job starts.

A task whose pool does not exist is never scheduled by Airflow 3.3 (only a log line and a DAG warning):
the plugin's listener creates the missing pools, and leaves the slots of existing ones alone.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from offboarding.settings import DEFAULT_POOLS
from offboarding_dev.testing.airflow import REPO_PLUGINS_FOLDER, airflow_executable

pytestmark = pytest.mark.airflow

START_A_JOB = """
import json
from airflow.jobs.job import Job
from airflow.models.pool import Pool
Job()  # what `airflow scheduler`, `triggerer` and `dag-processor` do first: on_starting(component=job)
print(json.dumps({p.pool: p.slots for p in Pool.get_pools()}))
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_PLUGINS_FOLDER),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        }
    )
    return env


def _pools_after_a_job_start(env: dict[str, str]) -> dict[str, int]:
    python = str(airflow_executable().parent / "python")
    out = subprocess.run(
        [python, "-c", START_A_JOB], env=env, capture_output=True, text=True, timeout=180, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_a_job_start_creates_the_missing_pools_and_keeps_existing_slots(tmp_path: Path) -> None:
    env = _env(tmp_path)
    airflow = str(airflow_executable())
    subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, timeout=300, check=True)

    pools = _pools_after_a_job_start(env)
    assert {name: pools.get(name) for name in DEFAULT_POOLS} == {
        name: slots for name, (slots, _) in DEFAULT_POOLS.items()
    }

    subprocess.run(
        [airflow, "pools", "set", "offboarding_wecom_writes", "3", "resized by ops"],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert _pools_after_a_job_start(env)["offboarding_wecom_writes"] == 3
