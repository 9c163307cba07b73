"""Each WeCom error class against the sandbox: what is raised, what it says, and how often it calls."""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from offboarding.wecom import (
    Contacts,
    MemoryTokenCache,
    RetryPolicy,
    WeComClient,
    WeComConfigError,
    WeComCreatorCannotBeDeleted,
    WeComDataError,
    WeComRateLimited,
    WeComTransientError,
)
from offboarding_dev.sandbox.testing import running_sandbox

USER_GET = "/cgi-bin/user/get"
GETTOKEN = "/cgi-bin/gettoken"


# -- configuration errors: first call, no retry, actionable ------------------------------------------
def test_bad_secret_fails_on_the_first_call_with_one_http_call(
    make_client: Callable[..., WeComClient], sandbox: Any, calls: Callable[[str], int]
) -> None:
    client = make_client(secret="not-the-secret-xyz")
    with pytest.raises(WeComConfigError) as caught:
        Contacts(client).get_user("lisi")
    err = caught.value
    assert err.errcode == 40001
    text = str(err)
    assert "WeCom rejected the corp secret (40001)" in text
    assert "connection wecom_test" in text and sandbox.corpid in text
    assert "not-the-secret-xyz" not in text
    assert calls(GETTOKEN) == 1
    assert calls(USER_GET) == 0


def test_bad_corpid_is_a_config_error_naming_the_corpid(
    make_client: Callable[..., WeComClient], calls: Callable[[str], int]
) -> None:
    with pytest.raises(WeComConfigError) as caught:
        make_client(corpid="wwnosuchcorp").access_token()
    assert caught.value.errcode == 40013
    assert "wwnosuchcorp" in str(caught.value) and "CorpID" in str(caught.value)
    assert calls(GETTOKEN) == 1


@pytest.fixture(scope="module")
def split_secrets_sandbox() -> Iterator[Any]:
    """A sandbox where the app secret differs from the contacts-sync secret (member writes need the latter)."""
    with running_sandbox(extra_args=("--app-secret", "app-only-secret")) as sb:
        yield sb


def test_member_write_with_the_app_secret_is_a_config_error(split_secrets_sandbox: Any) -> None:
    sb = split_secrets_sandbox
    sb.control.reset()
    client = WeComClient(
        sb.corpid,
        "app-only-secret",
        base_url=sb.base_url,
        token_cache=MemoryTokenCache(),
        label="connection x",
    )
    with pytest.raises(WeComConfigError) as caught:
        Contacts(client).delete_user("lisi")
    assert caught.value.errcode == 48002
    assert "contacts-sync" in str(caught.value)
    assert sb.control.stats()["calls"].get("/cgi-bin/user/delete") == 1  # not retried
    assert sb.control.user("lisi")["deleted"] is False


# -- data errors: never retried, carry the item ----------------------------------------------------
def test_unknown_user_is_a_data_error_carrying_the_userid(
    client: WeComClient, calls: Callable[[str], int]
) -> None:
    with pytest.raises(WeComDataError) as caught:
        Contacts(client).get_user("no_such_person")
    assert caught.value.errcode == 60111
    assert caught.value.item == "no_such_person"
    assert "no_such_person" in str(caught.value)
    assert calls(USER_GET) == 1


def test_creator_cannot_be_deleted_and_says_what_to_do(client: WeComClient) -> None:
    with pytest.raises(WeComCreatorCannotBeDeleted) as caught:
        Contacts(client).delete_user("zhangsan")
    assert isinstance(caught.value, WeComDataError)
    assert caught.value.item == "zhangsan"
    assert "transfer the creator role" in str(caught.value)


def test_errors_survive_pickling_with_their_fields(client: WeComClient) -> None:
    with pytest.raises(WeComDataError) as caught:
        Contacts(client).get_user("no_such_person")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is WeComDataError
    assert (copy.errcode, copy.item, copy.path, str(copy)) == (
        60111,
        "no_such_person",
        USER_GET,
        str(caught.value),
    )


# -- transient errors: retried with backoff --------------------------------------------------------
@pytest.mark.parametrize("errcode", [6000, 45033])
def test_transient_errcode_is_retried_up_to_the_attempt_limit(
    make_client: Callable[..., WeComClient], sandbox: Any, calls: Callable[[str], int], errcode: int
) -> None:
    client = make_client(retry=RetryPolicy(attempts=4, base_seconds=0.001, cap_seconds=0.002))
    Contacts(client).get_user("lisi")  # token fetched before the faults start
    sandbox.control.set_faults(errcodes={str(errcode): 1.0}, paths=[USER_GET], seed=1)
    with pytest.raises(WeComTransientError) as caught:
        Contacts(client).get_user("lisi")
    assert caught.value.errcode == errcode
    assert calls(USER_GET) == 1 + 4


def test_system_busy_is_retried_at_most_three_times(
    make_client: Callable[..., WeComClient], sandbox: Any, calls: Callable[[str], int]
) -> None:
    client = make_client(retry=RetryPolicy(attempts=10, base_seconds=0.001, cap_seconds=0.002))
    client.access_token()
    sandbox.control.set_faults(errcodes={"-1": 1.0}, paths=[USER_GET], seed=1)
    with pytest.raises(WeComTransientError) as caught:
        Contacts(client).get_user("lisi")
    assert caught.value.errcode == -1
    assert calls(USER_GET) == 1 + 3


def test_http_5xx_is_retried_then_succeeds(
    make_client: Callable[..., WeComClient], sandbox: Any, calls: Callable[[str], int]
) -> None:
    client = make_client(retry=RetryPolicy(attempts=30, base_seconds=0.001, cap_seconds=0.002))
    client.access_token()
    sandbox.control.set_faults(http_5xx=0.6, paths=[USER_GET], seed=7)
    for _ in range(10):
        assert Contacts(client).get_user("wangwu")["userid"] == "wangwu"
    assert calls(USER_GET) > 10  # some calls needed retries
    assert sandbox.control.stats()["injected_faults"] == calls(USER_GET) - 10


def test_http_5xx_error_after_retries_names_the_status(
    make_client: Callable[..., WeComClient], sandbox: Any
) -> None:
    client = make_client(retry=RetryPolicy(attempts=2, base_seconds=0.001, cap_seconds=0.002))
    client.access_token()
    sandbox.control.set_faults(http_5xx=1.0, paths=[USER_GET], seed=1)
    with pytest.raises(WeComTransientError) as caught:
        Contacts(client).get_user("lisi")
    assert caught.value.errcode is None and caught.value.http_status in (500, 502, 503)
    assert f"HTTP {caught.value.http_status}" in str(caught.value)


def test_unreachable_server_is_a_transient_error_without_secrets() -> None:
    client = WeComClient(
        "wwcorp",
        "very-secret-value",
        base_url="http://127.0.0.1:9",  # discard port: nothing listens
        token_cache=MemoryTokenCache(),
        retry=RetryPolicy(attempts=2, base_seconds=0.001, cap_seconds=0.002),
    )
    with pytest.raises(WeComTransientError) as caught:
        client.access_token()
    text = str(caught.value)
    assert "very-secret-value" not in text and "corpsecret=very" not in text
    assert caught.value.__cause__ is None and caught.value.__context__ is None


# -- rate limiting (45009) ------------------------------------------------------------------------
def test_rate_limited_waits_the_block_before_each_retry_then_raises(
    make_client: Callable[..., WeComClient], sandbox: Any, calls: Callable[[str], int]
) -> None:
    client = make_client(retry=RetryPolicy(rate_limit_block_seconds=0.2, rate_limit_retries=2))
    client.access_token()
    sandbox.control.set_faults(errcodes={"45009": 1.0}, paths=[USER_GET], seed=1)
    started = time.monotonic()
    with pytest.raises(WeComRateLimited):
        Contacts(client).get_user("lisi")
    assert time.monotonic() - started >= 2 * 0.2
    assert calls(USER_GET) == 3


def test_rate_limited_call_succeeds_after_waiting(
    make_client: Callable[..., WeComClient], sandbox: Any
) -> None:
    client = make_client(retry=RetryPolicy(rate_limit_block_seconds=0.05, rate_limit_retries=20))
    client.access_token()
    sandbox.control.set_faults(errcodes={"45009": 0.5}, paths=[USER_GET], seed=3)
    started = time.monotonic()
    for _ in range(6):
        assert Contacts(client).get_user("lisi")["userid"] == "lisi"
    blocked = int(sandbox.control.stats()["errors"].get("45009", 0))
    assert blocked >= 1
    assert time.monotonic() - started >= blocked * 0.05
