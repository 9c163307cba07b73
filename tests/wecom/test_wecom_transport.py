"""The client transport: rate limiting, logging without secrets, redaction, call reporting, input checks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from offboarding.wecom import (
    Contacts,
    RateLimiter,
    Tags,
    WeComClient,
    WeComConfigError,
    WeComTransientError,
    redact,
)
from offboarding.wecom.ratelimit import TokenBucket
from offboarding.wecom.redact import RedactingFilter


# -- rate limiter -----------------------------------------------------------------------------------
def test_rate_limiter_bounds_calls_per_second_against_the_sandbox(
    make_client: Callable[..., WeComClient], calls: Callable[[str], int]
) -> None:
    client = make_client(rate_limiter=RateLimiter(calls_per_second=40, burst=1))
    contacts = Contacts(client)
    contacts.get_user("lisi")  # spends the burst
    started = time.monotonic()
    for _ in range(20):
        contacts.get_user("lisi")
    assert time.monotonic() - started >= 20 / 40 * 0.95
    assert calls("/cgi-bin/user/get") == 21


class FakeClock:
    """A clock the test moves by hand (and that moves when someone sleeps)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_token_bucket_spaces_calls_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2, 0.3])
    clock.now += 10  # a long pause refills at most the burst
    assert [bucket.reserve() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_rate_limiter_keeps_one_bucket_per_path_and_is_thread_safe() -> None:
    limiter = RateLimiter(calls_per_second=100, burst=1, sleep=lambda s: None)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            wait = limiter._bucket("/cgi-bin/user/get").reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 100 calls at 100/s with a burst of 1: the last one waits ~0.99 s, and every wait is distinct.
    assert max(waits) == pytest.approx(0.99, abs=0.05)
    assert len({round(w, 4) for w in waits if w > 0}) >= 90
    assert limiter.acquire("/cgi-bin/tag/list") == 0.0  # another path has its own bucket


def test_rate_limiter_refuses_nonsense_rates() -> None:
    with pytest.raises(ValueError, match="calls_per_second"):
        RateLimiter(calls_per_second=0)
    with pytest.raises(ValueError, match=r"per_path\['/cgi-bin/user/get'\]"):
        RateLimiter(per_path={"/cgi-bin/user/get": -1})


# -- logs and messages carry no secrets -------------------------------------------------------------
def test_logs_hold_one_debug_line_per_call_and_no_secret_or_token(
    make_client: Callable[..., WeComClient], sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # root: also captures urllib3's request lines
    client = make_client()
    contacts = Contacts(client)
    contacts.get_user("lisi")
    Tags(client).list_tags()
    sandbox.control.reset()  # forces a 40014 + refresh + replay
    contacts.get_user("wangwu")
    with pytest.raises(WeComConfigError):
        make_client(secret="wrong-secret-for-log-test").access_token()
    token = client.access_token()

    text = caplog.text
    assert token not in text
    assert sandbox.secret not in text and "wrong-secret-for-log-test" not in text
    ours = [
        r.getMessage() for r in caplog.records if r.name == "offboarding.wecom" and r.levelno == logging.DEBUG
    ]
    assert [m.split(" in ")[0] for m in ours] == [
        "GET /cgi-bin/gettoken errcode=0",
        "GET /cgi-bin/user/get errcode=0",
        "GET /cgi-bin/tag/list errcode=0",
        "GET /cgi-bin/user/get errcode=40014",
        "GET /cgi-bin/gettoken errcode=0",
        "GET /cgi-bin/user/get errcode=0",
        "GET /cgi-bin/gettoken errcode=40001",
    ]
    assert any("access_token=***" in r.getMessage() for r in caplog.records if r.name.startswith("urllib3"))


def test_exceptions_and_reprs_hold_no_secret(make_client: Callable[..., WeComClient], sandbox: Any) -> None:
    client = make_client(secret="sekrit-" + sandbox.secret)
    with pytest.raises(WeComConfigError) as caught:
        client.access_token()
    assert "sekrit" not in str(caught.value) and "sekrit" not in repr(caught.value)
    assert "sekrit" not in repr(client)
    assert "sekrit" not in repr(client._tokens)


def test_timeouts_become_transient_errors_naming_only_the_path(
    make_client: Callable[..., WeComClient], sandbox: Any
) -> None:
    from offboarding.wecom import RetryPolicy

    client = make_client(
        timeout=(2.0, 0.05), retry=RetryPolicy(attempts=2, base_seconds=0.001, cap_seconds=0.001)
    )
    token = client.access_token()
    sandbox.control.set_faults(latency_ms=500, paths=["/cgi-bin/user/get"], seed=1)
    with pytest.raises(WeComTransientError) as caught:
        Contacts(client).get_user("lisi")
    assert caught.value.path == "/cgi-bin/user/get"
    assert token not in str(caught.value)
    assert caught.value.__context__ is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET /cgi-bin/user/get?access_token=abc123&userid=lisi",
            "GET /cgi-bin/user/get?access_token=***&userid=lisi",
        ),
        (
            "/cgi-bin/gettoken?corpid=ww1&corpsecret=s3cr3t HTTP/1.1",
            "/cgi-bin/gettoken?corpid=ww1&corpsecret=*** HTTP/1.1",
        ),
        (
            "url='https://x/cgi-bin/webhook/send?key=robot-key-1'",
            "url='https://x/cgi-bin/webhook/send?key=***'",
        ),
        ('{"access_token": "tok", "expires_in": 7200}', '{"access_token": "***", "expires_in": 7200}'),
        ("monkey=banana&turnkey=1", "monkey=banana&turnkey=1"),
    ],
)
def test_redact_masks_credentials_only(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_redacting_filter_rewrites_records() -> None:
    record = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, __file__, 1, '"%s %s"', ("GET", "/x?key=k1"), None
    )
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == '"GET /x?key=***"'


# -- reporting and validation ----------------------------------------------------------------------
def test_on_call_hears_every_exchange(make_client: Callable[..., WeComClient], sandbox: Any) -> None:
    heard: list[tuple[str, int | None]] = []
    client = make_client(on_call=lambda path, errcode, seconds: heard.append((path, errcode)))
    sandbox.control.set_faults(http_5xx=1.0, paths=["/cgi-bin/tag/list"], seed=1)
    Contacts(client).get_user("lisi")
    with pytest.raises(WeComTransientError):
        Tags(client).list_tags()
    assert heard[:2] == [("/cgi-bin/gettoken", 0), ("/cgi-bin/user/get", 0)]
    assert heard[2:] == [("/cgi-bin/tag/list", None)] * client.retry.attempts


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"corpid": "", "secret": "s"}, "corpid"),
        ({"corpid": "ww", "secret": " "}, "secret"),
        ({"corpid": "ww", "secret": "s", "base_url": "qyapi.weixin.qq.com"}, "base_url"),
    ],
)
def test_bad_client_settings_are_refused_by_name(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        WeComClient(**kwargs)


def test_paths_are_checked_and_completed(client: WeComClient) -> None:
    with pytest.raises(ValueError, match="path"):
        client.get("user/get?userid=lisi")
    assert client.get("user/get", {"userid": "lisi"})["userid"] == "lisi"
    assert client.get("/cgi-bin/user/get", {"userid": "lisi"})["userid"] == "lisi"
