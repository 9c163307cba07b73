"""The distributed tests need PostgreSQL and Redis on loopback: skipped with the reason when they are not
reachable, failed instead when ``OFFBOARDING_REQUIRE_SERVICES=1`` (``.ci/run`` sets it)."""

from __future__ import annotations

import pytest

from offboarding_dev.testing.topology import services_verdict, unreachable_services


@pytest.fixture(scope="session")
def services() -> None:
    """Skip (or, when services are required, fail) unless PostgreSQL and Redis answer."""
    verdict = services_verdict(unreachable_services())
    if verdict is None:
        return
    must_fail, reason = verdict
    if must_fail:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
