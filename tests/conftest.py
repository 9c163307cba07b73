"""Shared fixtures: a real WeCom sandbox over HTTP for every test that needs WeCom."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never talk to the real WeCom, and never leave token files or an airflow.cfg in a user's home.
# These must be set before Airflow is first imported.
os.environ.setdefault("OFFBOARDING_TOKEN_CACHE_URL", "memory://")
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="offboarding-test-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO / "plugins"))
os.environ.setdefault("OFFBOARDING_INCLUDE_DIR", str(REPO / "include"))


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Any]:
    """One sandbox process for the session (seed ``default``), reset before each test that uses it."""
    from offboarding_dev.sandbox.testing import running_sandbox

    with running_sandbox(seed="default") as sb:
        yield sb


@pytest.fixture
def sandbox(sandbox_server: Any) -> Any:
    sandbox_server.control.reset(seed="default")
    return sandbox_server
