"""The sandbox application: routes a request to a WeCom endpoint, the download URL or the control API.

For a WeCom call, in order: count it, add latency, maybe inject a fault (which changes nothing), check the
method, the per-minute rate limit and the access token with its scope, then run the endpoint under the
world lock after settling whatever became due. A write may then lose its reply (``apply_then_fail``).
"""

from __future__ import annotations

import time
from typing import Any

from offboarding_dev.sandbox.clock import SandboxClock
from offboarding_dev.sandbox.config import SandboxConfig
from offboarding_dev.sandbox.control_api import ControlApi
from offboarding_dev.sandbox.endpoints import all_routes
from offboarding_dev.sandbox.endpoints.base import Answer, Call, WeComRoute
from offboarding_dev.sandbox.endpoints.wedrive import serve_download
from offboarding_dev.sandbox.errors import WeComAnswer
from offboarding_dev.sandbox.faults import LOST_REPLY_ERRCODE, FaultInjector, FaultSpec
from offboarding_dev.sandbox.http_types import Request, Response
from offboarding_dev.sandbox.ratelimit import MinuteLimiter
from offboarding_dev.sandbox.seeds import build_world
from offboarding_dev.sandbox.stats import CallStats
from offboarding_dev.sandbox.tokens import TokenStore

DOWNLOAD_PREFIX = "/wedrive/download/"
CONTROL_PREFIX = "/sandbox/"


def default_faults(config: SandboxConfig) -> FaultSpec:
    """The fault spec the command line asked for (the --fault-rate is split evenly over the errcodes)."""
    codes = config.fault_errcodes
    per_code = config.fault_rate / len(codes) if codes and config.fault_rate else 0.0
    return FaultSpec(
        errcodes={code: per_code for code in codes} if per_code else {},
        http_5xx=config.http_5xx_rate,
        latency_ms=config.latency_ms,
    )


class SandboxApp:
    """One sandboxed corp: its world, clock, tokens, limits, faults and statistics."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = SandboxClock(config.time_scale)
        self.world = build_world(config.seed, self.clock.now())
        self.seed = config.seed
        self.tokens = TokenStore(config.token_ttl_seconds)
        self.rate_limiter = MinuteLimiter(config.rate_limit_per_minute)
        self.faults = FaultInjector(default_faults(config))
        self.stats = CallStats()
        self.routes: dict[str, WeComRoute] = all_routes()
        self.durations = config.durations
        self.control = ControlApi(self)

    # ----- reset ------------------------------------------------------------------------------------
    def reset(self, seed: str) -> None:
        """A fresh world from ``seed``; stats, faults, tokens, limits and messages start over."""
        world = build_world(seed, self.clock.now())  # raises ValueError before anything changes
        with self.world.lock:
            self.world = world
            self.seed = seed
            self.clock.reanchor()
        self.tokens.clear()
        self.rate_limiter.clear()
        self.faults.set(self.faults.default)
        self.stats.reset()

    # ----- dispatch ---------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            return self.control.handle(request)
        if path.startswith(DOWNLOAD_PREFIX):
            return serve_download(self, request)
        route = self.routes.get(path)
        if route is None:
            return Response.json({"errcode": 404, "errmsg": f"unknown path {path}"}, status=404)
        return self._wecom_call(route, request)

    def _wecom_call(self, route: WeComRoute, request: Request) -> Response:
        path = route.path
        delay = self.faults.latency_seconds(path)
        if delay:
            time.sleep(delay)
        fault = self.faults.before_call(path)
        if fault.kind == "http_5xx":
            self.stats.record_fault()
            self.stats.record_call(path, None)
            return Response(
                status=fault.http_status,
                body=b"<html>sandbox injected error</html>",
                content_type="text/html",
            )
        if fault.kind == "errcode":
            self.stats.record_fault()
            return self._error(path, WeComAnswer(fault.errcode, "injected by the sandbox"), request)
        try:
            now = self.clock.now()
            self._check_method(route, request)
            if not self.rate_limiter.allow(path, now):
                raise WeComAnswer(45009, "per corp per API minute limit reached")
            scopes = self._check_token(route, request, now)
            world = self.world
            with world.lock:
                world.settle_due(now)
                answer = route.handler(Call(self, request, now, scopes))
        except WeComAnswer as refused:
            return self._error(path, refused, request)
        return self._success(path, answer, request, now)

    def _success(self, path: str, answer: Answer, request: Request, now: float) -> Response:
        if answer.write is not None:
            self.stats.record_write(path, now, answer.write)
            if self.faults.lose_reply(path):
                self.stats.record_fault()
                return self._error(path, WeComAnswer(LOST_REPLY_ERRCODE, "injected after applying"), request)
        self.stats.record_call(path, 0)
        payload: dict[str, Any] = {"errcode": 0, "errmsg": answer.errmsg}
        payload.update(answer.payload)
        return Response.json(payload)

    def _error(self, path: str, refused: WeComAnswer, request: Request) -> Response:
        self.stats.record_call(path, refused.errcode)
        return Response.json(refused.body(request.client_ip))

    @staticmethod
    def _check_method(route: WeComRoute, request: Request) -> None:
        if request.method != route.method:
            raise WeComAnswer(43001 if route.method == "GET" else 43002)

    def _check_token(self, route: WeComRoute, request: Request, now: float) -> frozenset[str]:
        if route.scopes is None:
            return frozenset()
        value = request.query.get("access_token", "")
        if not value:
            raise WeComAnswer(41001)
        token = self.tokens.lookup(value)
        if token is None:
            raise WeComAnswer(40014)
        if token.expires_at <= now:
            raise WeComAnswer(42001)
        if route.scopes and not (route.scopes & token.scopes):
            raise WeComAnswer(48002, "this secret may not call this API")
        return token.scopes
