"""One HTTP exchange with WeCom, turned into a JSON body or a typed, redacted error.

This is the only place that touches ``requests`` exceptions: they embed the full URL (with
``access_token=``/``corpsecret=``/``key=``), so they are replaced by errors that name only the API path
and are raised outside the ``except`` block (no chained exception keeps the URL alive).
"""

from __future__ import annotations

import time
from typing import Any

import requests

from offboarding.wecom.errors import WeComError, WeComTransientError
from offboarding.wecom.redact import redact

Timeout = float | tuple[float, float]


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: Any = None,
    timeout: Timeout,
    verify: bool | str = True,
    where: str = "",
) -> tuple[dict[str, Any], float]:
    """Send one request; return (JSON body, seconds taken). Raises for network errors and non-200 answers."""
    started = time.monotonic()
    failure: WeComError | None = None
    response: requests.Response | None = None
    try:
        response = session.request(method, url, params=params, json=json, timeout=timeout, verify=verify)
    except requests.Timeout as exc:
        failure = WeComTransientError(
            None, f"{type(exc).__name__}: no answer in time", path, hint="WeCom did not answer in time"
        )
    except requests.ConnectionError as exc:
        failure = WeComTransientError(
            None, redact(f"{type(exc).__name__}: {exc}"), path, hint="could not reach WeCom"
        )
    except requests.RequestException as exc:
        failure = WeComError(
            None, redact(f"{type(exc).__name__}: {exc}"), path, hint=f"the request failed: check {where}"
        )
    if failure is not None:
        raise failure
    assert response is not None
    seconds = time.monotonic() - started
    status = response.status_code
    if status >= 500 or status == 429:
        raise WeComTransientError(
            None, response.reason or "", path, hint="WeCom answered with a server error", http_status=status
        )
    if status != 200:
        raise WeComError(
            None,
            response.reason or "",
            path,
            hint=f"WeCom answered with an unexpected HTTP status: check the base URL of {where}",
            http_status=status,
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise WeComError(
            None,
            "the answer is not a JSON object",
            path,
            hint=f"WeCom's answer could not be read: check the base URL of {where}",
            http_status=status,
        )
    return body, seconds
