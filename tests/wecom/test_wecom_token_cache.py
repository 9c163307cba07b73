"""Token caches: one gettoken across processes, encrypted values, private files, URL configuration."""

from __future__ import annotations

import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from offboarding.wecom import (
    Contacts,
    FileTokenCache,
    MemoryTokenCache,
    RedisTokenCache,
    WeComClient,
    default_token_cache,
    token_cache_from_url,
)
from offboarding.wecom.token_seal import TokenSeal, cache_key

WORKER = Path(__file__).with_name("token_worker.py")
PROCESSES = 20
CALLS_EACH = 50
REDIS_URL = "redis://127.0.0.1:6379/0"


def run_workers(sandbox: Any, cache_url: str) -> None:
    """Start PROCESSES workers, release them together, and wait until each made CALLS_EACH calls."""
    argv = [
        sys.executable,
        str(WORKER),
        sandbox.base_url,
        sandbox.corpid,
        sandbox.secret,
        cache_url,
        str(CALLS_EACH),
    ]
    workers = [
        subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            assert worker.stdout.readline().strip() == "ready", worker.stderr.read() if worker.stderr else ""
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
            assert out.strip() == f"done {CALLS_EACH}"
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


def assert_one_gettoken(sandbox: Any) -> None:
    calls = sandbox.control.stats()["calls"]
    assert calls["/cgi-bin/user/get"] == PROCESSES * CALLS_EACH
    assert calls["/cgi-bin/gettoken"] == 1


# -- across processes -------------------------------------------------------------------------------
@pytest.mark.slow
def test_file_cache_twenty_processes_fetch_one_token(sandbox: Any, tmp_path: Path) -> None:
    directory = tmp_path / "token-cache"
    run_workers(sandbox, directory.as_uri())
    assert_one_gettoken(sandbox)

    token = WeComClient(
        sandbox.corpid, sandbox.secret, base_url=sandbox.base_url, token_cache=FileTokenCache(directory)
    ).access_token()
    assert sandbox.control.stats()["calls"]["/cgi-bin/gettoken"] == 1  # read from the file, not fetched
    files = [p for p in directory.iterdir() if p.suffix == ".token"]
    assert [p.name for p in files] == [f"{cache_key(sandbox.corpid, sandbox.secret)}.token"]
    content = files[0].read_bytes()
    assert token.encode() not in content and sandbox.secret.encode() not in content
    assert sandbox.secret not in files[0].name
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


@pytest.fixture
def redis_cache_url() -> Iterator[str]:
    """A Redis cache URL with a key prefix of its own; every key under it is deleted afterwards."""
    prefix = f"offboarding-test-{uuid.uuid4().hex}:"
    yield f"{REDIS_URL}?prefix={prefix}"
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(match=f"{prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.mark.slow
@pytest.mark.services
def test_redis_cache_twenty_processes_fetch_one_token(sandbox: Any, redis_cache_url: str) -> None:
    run_workers(sandbox, redis_cache_url)
    assert_one_gettoken(sandbox)

    cache = token_cache_from_url(redis_cache_url)
    token = WeComClient(
        sandbox.corpid, sandbox.secret, base_url=sandbox.base_url, token_cache=cache
    ).access_token()
    assert isinstance(cache, RedisTokenCache)
    stored = redis.Redis.from_url(REDIS_URL).get(cache.prefix + cache_key(sandbox.corpid, sandbox.secret))
    assert stored is not None
    assert token.encode() not in stored and sandbox.secret.encode() not in stored
    assert TokenSeal(sandbox.corpid, sandbox.secret).unseal(stored).token == token  # type: ignore[union-attr]


@pytest.mark.services
def test_redis_cache_value_expires_with_the_token(redis_cache_url: str) -> None:
    cache = token_cache_from_url(redis_cache_url)
    assert isinstance(cache, RedisTokenCache)
    cache.set("k1", b"sealed", 30)
    ttl = redis.Redis.from_url(REDIS_URL).pttl(cache.prefix + "k1")
    assert 0 < ttl <= 30_000
    cache.invalidate("k1")
    assert cache.get("k1") is None


# -- sealing ---------------------------------------------------------------------------------------
def test_a_sealed_token_needs_the_secret() -> None:
    from offboarding.wecom.token_seal import CachedToken

    blob = TokenSeal("wwcorp", "secret-a").seal(CachedToken("tok-123", 10.0, 5.0))
    assert b"tok-123" not in blob
    assert TokenSeal("wwcorp", "secret-a").unseal(blob) == CachedToken("tok-123", 10.0, 5.0)
    assert TokenSeal("wwcorp", "secret-b").unseal(blob) is None
    assert TokenSeal("wwother", "secret-a").unseal(blob) is None
    assert "tok-123" not in repr(CachedToken("tok-123", 1.0, 1.0))


def test_cache_key_hides_the_secret_and_separates_secrets() -> None:
    key = cache_key("wwcorp", "secret-a")
    assert "secret" not in key and key.startswith("wecom-")
    assert key != cache_key("wwcorp", "secret-b") != cache_key("wwcorp2", "secret-a")


def test_file_cache_keeps_a_loose_directory_private(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o755)
    cache = FileTokenCache(directory)
    cache.set("wecom-abc", b"blob", 60)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert cache.get("wecom-abc") == b"blob"
    cache.invalidate("wecom-abc")
    assert cache.get("wecom-abc") is None
    with pytest.raises(ValueError, match="key"):
        cache.get("../escape")


# -- configuration by URL --------------------------------------------------------------------------
def test_cache_urls_pick_the_backend(tmp_path: Path) -> None:
    assert isinstance(token_cache_from_url("memory://"), MemoryTokenCache)
    assert token_cache_from_url("memory://") is token_cache_from_url("memory://")
    file_cache = token_cache_from_url((tmp_path / "token cache").as_uri())  # percent-encoded space
    assert isinstance(file_cache, FileTokenCache) and file_cache.directory == tmp_path / "token cache"
    redis_cache = token_cache_from_url("redis://:pw-secret@127.0.0.1:6379/3?prefix=x:")
    assert isinstance(redis_cache, RedisTokenCache) and redis_cache.prefix == "x:"
    assert "pw-secret" not in repr(redis_cache)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "unknown token cache scheme"),
        ("file://relative/dir", "absolute path"),
        ("", "scheme"),
    ],
)
def test_bad_cache_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        token_cache_from_url(url)
    assert "OFFBOARDING_TOKEN_CACHE_URL" in str(caught.value)


def test_default_cache_follows_env_then_airflow_home_then_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", (tmp_path / "configured").as_uri())
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    cache = default_token_cache()
    assert isinstance(cache, FileTokenCache) and cache.directory == tmp_path / "configured"

    monkeypatch.delenv("OFFBOARDING_TOKEN_CACHE_URL")
    cache = default_token_cache()
    assert isinstance(cache, FileTokenCache)
    assert cache.directory == tmp_path / "airflow" / "offboarding" / "token-cache"

    monkeypatch.delenv("AIRFLOW_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cache = default_token_cache()
    assert isinstance(cache, FileTokenCache)
    assert cache.directory == tmp_path / "home" / ".cache" / "wecom-offboarding" / "token-cache"


def test_the_hook_style_default_client_works_with_the_env_cache(sandbox: Any) -> None:
    # tests/conftest.py sets OFFBOARDING_TOKEN_CACHE_URL=memory:// for the whole run.
    client = WeComClient(
        sandbox.corpid, sandbox.secret, base_url=sandbox.base_url, token_cache=default_token_cache()
    )
    assert Contacts(client).get_user("wangwu")["userid"] == "wangwu"
