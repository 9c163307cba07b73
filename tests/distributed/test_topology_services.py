"""The services gate and the harness's input checks: fast, and they need no PostgreSQL or Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from offboarding_dev.testing.airflow import free_port
from offboarding_dev.testing.topology import (
    REQUIRE_SERVICES_ENV,
    running_topology,
    services_verdict,
    unreachable_services,
)


def test_each_unreachable_service_is_named_with_its_address() -> None:
    pg_port, redis_port = free_port(), free_port()  # nothing listens there
    problems = unreachable_services(
        postgres_url=f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
        redis_url=f"redis://127.0.0.1:{redis_port}",
        timeout=2.0,
    )
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"PostgreSQL at 127.0.0.1:{pg_port} is not reachable")
    assert problems[1].startswith(f"Redis at 127.0.0.1:{redis_port} is not reachable")


@pytest.mark.services
def test_reachable_services_report_no_problem(services: None) -> None:
    assert unreachable_services() == []


def test_missing_services_skip_unless_required() -> None:
    problems = ["Redis at 127.0.0.1:6379 is not reachable: ConnectionError"]
    assert services_verdict([], {REQUIRE_SERVICES_ENV: "1"}) is None
    must_fail, reason = services_verdict(problems, {}) or (None, "")
    assert must_fail is False
    assert "Redis at 127.0.0.1:6379" in reason and REQUIRE_SERVICES_ENV in reason
    must_fail, reason = services_verdict(problems, {REQUIRE_SERVICES_ENV: "1"}) or (None, "")
    assert must_fail is True
    assert "Redis at 127.0.0.1:6379" in reason and "required" in reason
    must_fail, _ = services_verdict(problems, {REQUIRE_SERVICES_ENV: "0"}) or (None, "")
    assert must_fail is False


def test_bad_arguments_are_refused_before_anything_starts(tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match=r"dags_folder: .*missing is not a directory"),
        running_topology(tmp_path / "missing"),
    ):
        pass
    with (
        pytest.raises(ValueError, match="workers: must be a whole number >= 1, got 0"),
        running_topology(tmp_path, workers=0),
    ):
        pass
    with (
        pytest.raises(ValueError, match="users: 'hr' must be 'name:role'"),
        running_topology(tmp_path, users="admin:admin,hr"),
    ):
        pass
