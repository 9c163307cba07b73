"""Access tokens: fetched once, refreshed ahead of expiry, replaced once when WeCom rejects them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from offboarding.wecom import Contacts, MemoryTokenCache, WeComClient, WeComTokenError
from offboarding.wecom.token_seal import CachedToken, TokenSeal
from offboarding_dev.sandbox.testing import running_sandbox

GETTOKEN = "/cgi-bin/gettoken"


def test_many_calls_share_one_token(client: WeComClient, calls: Callable[[str], int]) -> None:
    contacts = Contacts(client)
    for userid in ["lisi", "wangwu", "zhaoliu"] * 10:
        contacts.get_user(userid)
    assert calls(GETTOKEN) == 1


def test_clients_sharing_a_cache_fetch_one_token(
    make_client: Callable[..., WeComClient], calls: Callable[[str], int]
) -> None:
    cache = MemoryTokenCache()
    for _ in range(5):
        Contacts(make_client(token_cache=cache)).get_user("lisi")
    assert calls(GETTOKEN) == 1


def test_rejected_token_is_replaced_once_and_the_call_replayed(
    make_client: Callable[..., WeComClient], sandbox: Any, calls: Callable[[str], int]
) -> None:
    # WeCom may invalidate a token early; simulate that with a token it never issued (40014).
    cache = MemoryTokenCache()
    seal = TokenSeal(sandbox.corpid, sandbox.secret)
    now = time.time()
    cache.set(seal.key, seal.seal(CachedToken("forged-token-0001", now + 7200, now + 6900)), 7200)
    client = make_client(token_cache=cache)
    assert Contacts(client).get_user("lisi")["userid"] == "lisi"
    stats = sandbox.control.stats()
    assert stats["errors"].get("40014") == 1
    assert calls(GETTOKEN) == 1
    assert stats["calls"]["/cgi-bin/user/get"] == 2
    assert seal.unseal(cache.get(seal.key)).token != "forged-token-0001"  # type: ignore[union-attr]


def test_only_the_failed_token_is_dropped(
    make_client: Callable[..., WeComClient], sandbox: Any, calls: Callable[[str], int]
) -> None:
    cache = MemoryTokenCache()
    first, second = make_client(token_cache=cache), make_client(token_cache=cache)
    Contacts(first).get_user("lisi")
    Contacts(second).get_user("lisi")
    sandbox.control.reset()  # WeCom forgets every token
    Contacts(second).get_user("lisi")  # 40014 -> second fetches a new token into the shared cache
    Contacts(first).get_user("lisi")  # 40014 on its old copy -> takes the cached new one, no fetch
    assert calls(GETTOKEN) == 1
    assert sandbox.control.stats()["errors"].get("40014") == 2


def test_a_token_rejected_twice_raises(make_client: Callable[..., WeComClient], sandbox: Any) -> None:
    client = make_client()
    client.access_token()
    sandbox.control.set_faults(errcodes={"40014": 1.0}, paths=["/cgi-bin/user/get"], seed=1)
    with pytest.raises(WeComTokenError) as caught:
        Contacts(client).get_user("lisi")
    assert caught.value.errcode == 40014
    assert sandbox.control.stats()["calls"]["/cgi-bin/user/get"] == 2


def test_on_token_hears_each_new_token(make_client: Callable[..., WeComClient], sandbox: Any) -> None:
    heard: list[str] = []
    client = make_client(on_token=heard.append)
    Contacts(client).get_user("lisi")
    Contacts(client).get_user("wangwu")
    sandbox.control.reset()
    Contacts(client).get_user("lisi")
    assert len(heard) == 2 and heard[0] != heard[1]
    assert heard[1] == client.access_token()


@pytest.fixture(scope="module")
def short_token_sandbox() -> Iterator[Any]:
    """A sandbox whose tokens live 2 seconds."""
    with running_sandbox(extra_args=("--token-ttl", "2")) as sb:
        yield sb


def test_expired_token_is_refreshed_on_42001(short_token_sandbox: Any) -> None:
    sb = short_token_sandbox
    sb.control.reset()
    cache = MemoryTokenCache()
    client = WeComClient(sb.corpid, sb.secret, base_url=sb.base_url, token_cache=cache)
    token = client.access_token()
    # Pretend the cache believed the token lives long (as WeCom's expires_in may overstate it).
    seal = TokenSeal(sb.corpid, sb.secret)
    now = time.time()
    cache.set(seal.key, seal.seal(CachedToken(token, now + 7200, now + 6900)), 7200)
    client._tokens.forget()
    time.sleep(2.2)
    assert Contacts(client).get_user("lisi")["userid"] == "lisi"
    stats = sb.control.stats()
    assert stats["errors"].get("42001") == 1
    assert stats["calls"][GETTOKEN] == 2


def test_token_is_refreshed_ahead_of_expiry(short_token_sandbox: Any) -> None:
    sb = short_token_sandbox
    sb.control.reset()
    client = WeComClient(sb.corpid, sb.secret, base_url=sb.base_url, token_cache=MemoryTokenCache())
    contacts = Contacts(client)
    deadline = time.monotonic() + 4.5
    while time.monotonic() < deadline:
        contacts.get_user("lisi")
        time.sleep(0.05)
    stats = sb.control.stats()
    assert stats["errors"].get("42001", 0) == 0  # never used an expired token
    assert stats["calls"][GETTOKEN] >= 3  # refreshed before each 2 s lifetime ran out
