"""Cases-page tests share the alerting tests' real Airflow (tests/alerting/e2e_airflow.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerting"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from offboarding_dev.testing.airflow import stop_shared_airflows

    stop_shared_airflows()
