"""Shared fixtures: a real WeCom sandbox over HTTP for every test that needs WeCom."""

from __future__ import annotations

import json
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
# The deployment's evidence key (required to record evidence): one test key for every test, as the
# Airflow Connection the operators read and as the variable the verifier command and the tests read.
TEST_EVIDENCE_KEY = "test-evidence-key-0123456789abcdefghijklmnopqrstuvwxyz"
os.environ.setdefault("OFFBOARDING_EVIDENCE_KEY", TEST_EVIDENCE_KEY)
os.environ.setdefault(
    "AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY",
    json.dumps({"conn_type": "generic", "password": os.environ["OFFBOARDING_EVIDENCE_KEY"]}),
)


@pytest.fixture
def evidence_key() -> Any:
    """The tests' evidence key (the same the operators read from the connection)."""
    from offboarding.evidence.keys import KEY_ENV, EvidenceKey

    return EvidenceKey.from_text(os.environ[KEY_ENV])


@pytest.fixture
def backup_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The deployment's storage roots: the root named ``test`` is ``tmp_path/backups`` (returned), the
    default root is under ``tmp_path/data``. A case's ``backup_target`` is a root's *name*: a test using
    ``"test"`` needs this fixture (autouse under tests/operators), else it is refused or, read as a path,
    lands in the working directory."""
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OFFBOARDING_BACKUP_ROOTS", f"test={tmp_path / 'backups'}")
    return tmp_path / "backups"


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


@pytest.fixture(autouse=True)
def case_controls() -> Iterator[Any]:
    """The case controls the tasks read (``GET /offboarding/api/cases/{id}`` in a deployment), in memory:
    no hold, no rescind unless the test records one (``case_controls.hold(case_id)``, ...)."""
    from offboarding_dev.testing.controls import controls_in_memory

    with controls_in_memory() as memory:
        yield memory


@pytest.fixture(autouse=True)
def member_cases() -> Iterator[dict[str, Any]]:
    """The member's other cases ``check_case`` reads (``GET /offboarding/api/cases/{id}/series`` in a
    deployment): none, unless a test puts a series under the first case id."""
    from offboarding_dev.testing.controls import member_cases_in_memory

    with member_cases_in_memory() as series:
        yield series


@pytest.fixture(autouse=True)
def open_cases() -> Iterator[dict[str, str]]:
    """The other open cases of a layoff list's persons that its ``check_case`` reads (the open runs of the
    case DAGs in a deployment): none, unless a test puts ``{"lisi": "offboard-lisi (running)"}``."""
    from offboarding_dev.testing.controls import open_cases_in_memory

    with open_cases_in_memory() as cases:
        yield cases


@pytest.fixture(scope="session")
def services() -> None:
    """PostgreSQL and Redis on loopback (the distributed tests, the capacity benches): skipped with the reason
    when they are not reachable, failed instead when ``OFFBOARDING_REQUIRE_SERVICES=1`` (``.ci/run`` sets it)."""
    from offboarding_dev.testing.topology import services_verdict, unreachable_services

    verdict = services_verdict(unreachable_services())
    if verdict is None:
        return
    must_fail, reason = verdict
    if must_fail:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
