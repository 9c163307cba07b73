"""Helpers for the WeCom client tests: clients wired to the sandbox with fast retry knobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from offboarding.wecom import MemoryTokenCache, RetryPolicy, WeComClient

# Same retry rules as production, only with millisecond waits so tests stay fast.
FAST_RETRY = RetryPolicy(base_seconds=0.005, cap_seconds=0.02, rate_limit_block_seconds=0.05)


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """The production retry rules with millisecond waits."""
    return FAST_RETRY


@pytest.fixture
def calls(sandbox: Any) -> Callable[[str], int]:
    """``calls(path)``: how many times the sandbox saw ``path`` (e.g. ``/cgi-bin/gettoken``) since its reset."""

    def count(path: str) -> int:
        return int(sandbox.control.stats()["calls"].get(path, 0))

    return count


@pytest.fixture
def make_client(sandbox: Any) -> Callable[..., WeComClient]:
    """Build a client for the (freshly reset) sandbox; keyword arguments override the defaults."""

    def build(**overrides: Any) -> WeComClient:
        options: dict[str, Any] = {
            "base_url": sandbox.base_url,
            "token_cache": MemoryTokenCache(),
            "retry": FAST_RETRY,
            "label": "connection wecom_test",
        }
        options.update(overrides)
        corpid = options.pop("corpid", sandbox.corpid)
        secret = options.pop("secret", sandbox.secret)
        return WeComClient(corpid, secret, **options)

    return build


@pytest.fixture
def client(make_client: Callable[..., WeComClient]) -> WeComClient:
    """A client for the sandbox with a private token cache."""
    return make_client()
