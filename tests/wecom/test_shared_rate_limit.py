"""WeCom's per-API limit counts the whole deployment: the rate limiter is shared through Redis.

The Redis tests use the real Redis on 127.0.0.1:6379, database 15, under a key prefix of their own
that they delete afterwards. Two worker processes acquire slots of the same corp and API together: with
the shared limiter their combined rate stays within the limit; with a limiter per process (what every
deployment had before) the same two processes together go twice as fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboarding.wecom.ratelimit import (
    CONCURRENCY_ENV,
    DEFAULT_CALLS_PER_SECOND,
    WECOM_CALLS_PER_MINUTE_PER_API,
    RateLimiter,
    RedisRateLimiter,
    configured_concurrency,
    default_rate_limiter,
    rate_limiter_for,
)

WORKER = Path(__file__).with_name("rate_worker.py")
REDIS_URL = "redis://127.0.0.1:6379/15"
RATE = 40.0
CALLS_EACH = 40


def _max_in_any_second(instants: list[float]) -> int:
    instants = sorted(instants)
    most, start = 0, 0
    for end, moment in enumerate(instants):
        while moment - instants[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def _run_two_workers(limiter: str, prefix: str) -> list[float]:
    argv = [sys.executable, str(WORKER), limiter, prefix, str(RATE), str(CALLS_EACH)]
    workers = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        instants: list[float] = []
        for worker in workers:
            out, _ = worker.communicate(timeout=60)
            assert worker.returncode == 0
            instants.extend(json.loads(out.strip().splitlines()[-1]))
        return instants
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import redis

    prefix = f"offboarding-test:rate:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5, socket_timeout=5)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.mark.services
def test_two_processes_together_stay_within_the_shared_rate(redis_prefix: str) -> None:
    instants = _run_two_workers(REDIS_URL, redis_prefix)
    assert len(instants) == 2 * CALLS_EACH
    # 80 calls at 40/s with a burst of 1: about two seconds, never more than 40 in any second
    # (+1 for a sleep that overslept and bunched two slots together).
    assert max(instants) - min(instants) >= (2 * CALLS_EACH - 1) / RATE - 0.1
    assert _max_in_any_second(instants) <= RATE + 1


@pytest.mark.services
def test_a_limiter_per_process_lets_two_processes_exceed_the_rate(redis_prefix: str) -> None:
    """What bug 9d was: each process keeps to the rate, together they go twice as fast."""
    instants = _run_two_workers("local", redis_prefix)
    assert _max_in_any_second(instants) > 1.5 * RATE


@pytest.mark.services
def test_corps_and_paths_have_schedules_of_their_own(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, calls_per_second=1.0, prefix=redis_prefix)
    assert limiter.reserve("/cgi-bin/user/get", "corp-a") == 0.0
    assert limiter.reserve("/cgi-bin/user/get", "corp-a") == pytest.approx(1.0, abs=0.05)
    assert limiter.reserve("/cgi-bin/user/get", "corp-b") == 0.0
    assert limiter.reserve("/cgi-bin/user/delete", "corp-a") == 0.0
    slept: list[float] = []
    limiter._sleep = slept.append
    assert limiter.acquire("/cgi-bin/tag/list", "corp-a") == 0.0 and slept == []


@pytest.mark.services
def test_a_burst_goes_at_once_then_the_rate_holds(redis_prefix: str) -> None:
    limiter = RedisRateLimiter(REDIS_URL, calls_per_second=10.0, burst=3, prefix=redis_prefix)
    waits = [limiter.reserve("/cgi-bin/user/get", "corp") for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3:] == pytest.approx([0.1, 0.2], abs=0.02)


def test_the_default_is_shared_when_the_token_cache_is_in_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "redis://127.0.0.1:6379/15?prefix=x:")
    monkeypatch.delenv(CONCURRENCY_ENV, raising=False)
    limiter = default_rate_limiter()
    assert isinstance(limiter, RedisRateLimiter) and limiter.shared
    assert limiter is default_rate_limiter()  # one per process
    assert "127.0.0.1:6379/15" in repr(limiter) and "x:" not in repr(limiter)


def test_otherwise_each_process_keeps_to_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "file:///tmp/offboarding-test-token-cache")
    monkeypatch.setenv(CONCURRENCY_ENV, "8")
    limiter = default_rate_limiter()
    assert isinstance(limiter, RateLimiter) and not limiter.shared
    assert limiter.calls_per_second == DEFAULT_CALLS_PER_SECOND / 8
    # Eight processes at their share, each with a second's burst, stay within WeCom's minute.
    assert 8 * (limiter.calls_per_second * 61) < WECOM_CALLS_PER_MINUTE_PER_API
    monkeypatch.delenv(CONCURRENCY_ENV)
    assert (
        rate_limiter_for("memory://", configured_concurrency()).calls_per_second == DEFAULT_CALLS_PER_SECOND
    )  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["0", "-2", "many", "1.5"])
def test_a_bad_concurrency_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(CONCURRENCY_ENV, value)
    with pytest.raises(ValueError, match=rf"^{CONCURRENCY_ENV}='{value}': must be a whole number >= 1"):
        configured_concurrency()


def test_a_client_uses_the_deployment_limiter_and_names_its_corp(monkeypatch: pytest.MonkeyPatch) -> None:
    from offboarding.wecom import WeComClient

    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "memory://")
    monkeypatch.delenv(CONCURRENCY_ENV, raising=False)
    first = WeComClient("wwcorp1", "secret", base_url="http://127.0.0.1:9")
    second = WeComClient("wwcorp2", "secret", base_url="http://127.0.0.1:9")
    assert first.rate_limiter is second.rate_limiter is default_rate_limiter()


def test_every_redis_client_has_socket_timeouts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Bug 9e: a Redis that stops answering must fail a call, not hang the task forever."""
    from offboarding.wecom.redis_token_cache import RedisTokenCache
    from offboarding.wecom.shared_state import RedisSharedState, robot_state_for

    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", f"{REDIS_URL}?prefix=t:")
    state = robot_state_for("robot-x", tmp_path)
    assert isinstance(state, RedisSharedState)
    clients = {
        "token cache": RedisTokenCache(REDIS_URL)._redis,
        "robot queue": state._redis,
        "rate limiter": RedisRateLimiter(REDIS_URL)._redis,
    }
    for name, client in clients.items():
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs.get("socket_connect_timeout"), name
        assert kwargs.get("socket_timeout"), name
        assert kwargs.get("db") == 15, name  # our prefix= is not passed to redis-py
