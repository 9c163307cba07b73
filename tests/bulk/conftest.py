"""One real ``airflow standalone`` (stub DAGs, see ``offboarding_dev.testing.airflow``) for the bulk CLI tests.

``stub_airflow()`` is shared per test process, so tests/airflow_api uses the same Airflow.
"""

from __future__ import annotations

import pytest

from offboarding_dev.testing.airflow import RunningAirflow, stop_shared_airflows, stub_airflow


@pytest.fixture(scope="session")
def airflow() -> RunningAirflow:
    return stub_airflow()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    stop_shared_airflows()
