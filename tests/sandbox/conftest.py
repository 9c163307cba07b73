"""Helpers for the sandbox tests: a bare WeCom caller (plain requests, no product client) and waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests


class WeComCaller:
    """Calls a sandbox the way any WeCom client would: gettoken once, then access_token on every call."""

    def __init__(self, base_url: str, corpid: str, secret: str) -> None:
        self.base_url = base_url
        self.corpid = corpid
        self.secret = secret
        self.session = requests.Session()
        self._token: str | None = None

    def gettoken(self, corpid: str | None = None, secret: str | None = None) -> dict[str, Any]:
        params = {
            "corpid": self.corpid if corpid is None else corpid,
            "corpsecret": self.secret if secret is None else secret,
        }
        return self.session.get(f"{self.base_url}/cgi-bin/gettoken", params=params, timeout=30).json()

    @property
    def token(self) -> str:
        if self._token is None:
            answer = self.gettoken()
            assert answer["errcode"] == 0, answer
            self._token = answer["access_token"]
        return self._token

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        params.setdefault("access_token", self.token)
        response = self.session.get(f"{self.base_url}{path}", params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: Any = None, raw: bytes | None = None, **params: Any) -> dict[str, Any]:
        params.setdefault("access_token", self.token)
        url = f"{self.base_url}{path}"
        if raw is not None:
            response = self.session.post(url, params=params, data=raw, timeout=30)
        else:
            response = self.session.post(
                url, params=params, json=body if body is not None else {}, timeout=30
            )
        assert response.status_code == 200, response.text
        return response.json()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)


@pytest.fixture
def wecom(sandbox: Any) -> WeComCaller:
    """A WeCom caller for the shared default-seed sandbox (reset before each test)."""
    return WeComCaller(sandbox.base_url, sandbox.corpid, sandbox.secret)


@pytest.fixture
def caller_for() -> Callable[[Any], WeComCaller]:
    """Make a WeCom caller for another running sandbox (e.g. one with a time scale)."""
    return lambda sb: WeComCaller(sb.base_url, sb.corpid, sb.secret)


@pytest.fixture
def wait() -> Callable[..., Any]:
    """``wait(predicate, timeout=15)``: poll until truthy, else fail."""
    return wait_until
