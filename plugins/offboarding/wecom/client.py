"""``WeComClient``: the transport every WeCom API group goes through.

One ``requests.Session`` (TLS verified), one access token per (CorpID, secret) shared through a token
cache, a client-side rate limiter per corp and API path (shared by the deployment through Redis when
its token cache is there, see :mod:`offboarding.wecom.ratelimit`), retries with backoff for transient failures, typed
errors decided on ``errcode`` only, and one DEBUG log line per call (method, path, errcode, duration —
never a URL, token or secret).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from offboarding.wecom.errors import (
    WeComDataError,
    WeComError,
    WeComTokenError,
    WeComTransientError,
    error_for,
)
from offboarding.wecom.http import Timeout, exchange
from offboarding.wecom.ratelimit import Limiter, default_rate_limiter
from offboarding.wecom.redact import install_log_redaction, redact
from offboarding.wecom.retry import RetryPolicy, run_with_retries
from offboarding.wecom.token_cache import TokenCache, token_cache_from_url
from offboarding.wecom.tokens import DEFAULT_REFRESH_MARGIN_SECONDS, AccessTokens

log = logging.getLogger("offboarding.wecom")

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
GETTOKEN_PATH = "/cgi-bin/gettoken"
ONE_MIB = 1024 * 1024

OnCall = Callable[[str, int | None, float], None]


def api_path(path: str) -> str:
    """``user/get`` -> ``/cgi-bin/user/get``; absolute paths are kept."""
    if not path or "?" in path or "://" in path:
        raise ValueError(f"path must be a WeCom API path like 'user/get', got {path!r}")
    return path if path.startswith("/") else f"/cgi-bin/{path}"


class WeComClient:
    """Calls WeCom for one corp with one secret.

    ``label`` names where the secret is configured (e.g. ``connection wecom_default``) so configuration
    errors can say what to fix. ``on_call(path, errcode, seconds)`` is told about every HTTP exchange
    (errcode None when WeCom never answered); ``on_token(token)`` about each new token (e.g. to register
    it with a log masker).
    """

    def __init__(
        self,
        corpid: str,
        secret: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: Timeout = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        token_cache: TokenCache | None = None,
        rate_limiter: Limiter | None = None,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        label: str = "",
        on_call: OnCall | None = None,
        on_token: Callable[[str], None] | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(corpid, str) or not corpid.strip():
            raise ValueError("corpid must be the WeCom CorpID (a non-empty string)")
        if not isinstance(secret, str) or not secret.strip():
            raise ValueError("secret must be the app's corp secret (a non-empty string)")
        scheme = urlsplit(base_url).scheme if isinstance(base_url, str) else ""
        if scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL, got {redact(str(base_url))!r}")
        self.corpid = corpid.strip()
        self._secret = secret.strip()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.verify = verify
        self.label = label
        self.retry = retry or RetryPolicy()
        self.rate_limiter = rate_limiter if rate_limiter is not None else default_rate_limiter()
        self.session = session or requests.Session()
        self.on_call = on_call
        self._sleep = sleep
        # Without a cache, every client of this process shares tokens through the process' memory cache.
        self.token_cache = token_cache if token_cache is not None else token_cache_from_url("memory://")
        self._tokens = AccessTokens(
            self.corpid,
            self._secret,
            self.token_cache,
            self._fetch_token,
            refresh_margin=refresh_margin,
            on_token=on_token,
        )
        install_log_redaction()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"WeComClient(corpid={self.corpid!r}, base_url={self.base_url!r}{label})"

    @property
    def where(self) -> str:
        """Where this client's settings come from, for error hints."""
        return self.label or "the WeCom connection"

    # -- public calls ---------------------------------------------------------------------------
    def get(
        self, path: str, params: dict[str, Any] | None = None, *, item: str | None = None
    ) -> dict[str, Any]:
        """GET an authenticated API; the JSON body on errcode 0, else a typed :class:`WeComError`."""
        return self._call("GET", api_path(path), params, None, item)

    def post(
        self,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        *,
        item: str | None = None,
    ) -> dict[str, Any]:
        """POST JSON to an authenticated API; the JSON body on errcode 0, else a typed :class:`WeComError`."""
        return self._call("POST", api_path(path), params, json if json is not None else {}, item)

    def access_token(self) -> str:
        """The current access token (fetched if needed). For checks only: never log or return it to XCom.

        WeCom: ``gettoken``, https://developer.work.weixin.qq.com/document/path/91039
        """
        return run_with_retries(self.retry, self._tokens.current, sleep=self._sleep, what=GETTOKEN_PATH)

    def stream(self, url: str, cookies: dict[str, str], chunk_size: int = ONE_MIB) -> Iterator[bytes]:
        """Stream a download (e.g. a WeDrive ``download_url``) with its cookies; no token involved."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1 byte, got {chunk_size}")
        path = urlsplit(url).path or "/"
        response = run_with_retries(
            self.retry, lambda: self._open_download(url, path, cookies), sleep=self._sleep, what=path
        )
        return self._read_download(response, path, chunk_size)

    # -- internals ------------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, item: str | None
    ) -> dict[str, Any]:
        return run_with_retries(
            self.retry,
            lambda: self._call_with_token(method, path, params, body, item),
            sleep=self._sleep,
            what=path,
        )

    def _call_with_token(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, item: str | None
    ) -> dict[str, Any]:
        token = self._tokens.current()
        try:
            return self._exchange(method, path, {**(params or {}), "access_token": token}, body, item)
        except WeComTokenError as err:
            rejected = err
        log.info("WeCom rejected the access token on %s (%s); fetching a new one", path, rejected.errcode)
        fresh = self._tokens.replace(failed=token)
        return self._exchange(method, path, {**(params or {}), "access_token": fresh}, body, item)

    def _fetch_token(self) -> tuple[str, float]:
        body = self._exchange(
            "GET", GETTOKEN_PATH, {"corpid": self.corpid, "corpsecret": self._secret}, None, None
        )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeComError(
                body.get("errcode", 0),
                "gettoken answered without an access_token",
                GETTOKEN_PATH,
                hint=f"WeCom's answer had no token: check the base URL of {self.where}",
            )
        return token, float(body.get("expires_in") or 7200)

    def _exchange(
        self, method: str, path: str, params: dict[str, Any], body: Any, item: str | None
    ) -> dict[str, Any]:
        self.rate_limiter.acquire(path, self.corpid)
        started = time.monotonic()
        try:
            answer, seconds = exchange(
                self.session,
                method,
                self.base_url + path,
                path,
                params=params,
                json=body,
                timeout=self.timeout,
                verify=self.verify,
                where=self.where,
            )
        except WeComError as err:
            self._report(method, path, None, time.monotonic() - started, err.http_status)
            raise
        errcode = _errcode(answer)
        self._report(method, path, errcode, seconds, None)
        if errcode is None:
            raise WeComError(
                None,
                f"errcode {answer.get('errcode')!r} is not a number",
                path,
                hint=f"the answer does not look like WeCom's: check the base URL of {self.where}",
            )
        if errcode != 0:
            raise error_for(
                errcode, str(answer.get("errmsg", "")), path, corp=self.corpid, where=self.where, item=item
            )
        return answer

    def _report(
        self, method: str, path: str, errcode: int | None, seconds: float, status: int | None
    ) -> None:
        outcome = f"errcode={errcode}" if errcode is not None else f"failed http={status or '-'}"
        log.debug("%s %s %s in %.3fs", method, path, outcome, seconds)
        if self.on_call is not None:
            self.on_call(path, errcode, seconds)

    def _open_download(self, url: str, path: str, cookies: dict[str, str]) -> requests.Response:
        self.rate_limiter.acquire(path, self.corpid)
        started = time.monotonic()
        failure: WeComError | None = None
        try:
            response = self.session.get(
                url, cookies=cookies, stream=True, timeout=self.timeout, verify=self.verify
            )
        except requests.RequestException as exc:
            failure = WeComTransientError(
                None, redact(f"{type(exc).__name__}: {exc}"), path, hint="download failed"
            )
        if failure is not None:
            self._report("GET", path, None, time.monotonic() - started, None)
            raise failure
        status = response.status_code
        self._report("GET", path, None if status != 200 else 0, time.monotonic() - started, status)
        if status == 200:
            return response
        response.close()
        if status >= 500 or status == 429:
            raise WeComTransientError(
                None, response.reason or "", path, hint="download failed", http_status=status
            )
        raise WeComDataError(
            None,
            response.reason or "",
            path,
            hint="the download was refused: the ticket may have expired (2 h); fetch a new download ticket",
            http_status=status,
        )

    def _read_download(self, response: requests.Response, path: str, chunk_size: int) -> Iterator[bytes]:
        failure: WeComError | None = None
        with response:
            try:
                yield from response.iter_content(chunk_size=chunk_size)
            except requests.RequestException as exc:
                failure = WeComTransientError(
                    None, redact(f"{type(exc).__name__}: {exc}"), path, hint="the download broke off"
                )
        if failure is not None:
            raise failure


def _errcode(body: dict[str, Any]) -> int | None:
    """WeCom's errcode (missing means success, as in some gettoken answers); None when it is not a number."""
    value = body.get("errcode", 0)
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
