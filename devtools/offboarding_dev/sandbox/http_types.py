"""The sandbox's own request/response values, independent of http.server (so handlers stay testable)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any


@dataclass
class Request:
    """One HTTP request as the sandbox sees it."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    client_ip: str = "127.0.0.1"

    @property
    def host(self) -> str:
        """The Host the client used (for URLs the sandbox hands out)."""
        return self.headers.get("Host") or self.headers.get("host") or "127.0.0.1"

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not valid UTF-8 JSON."""
        if not self.body.strip():
            return {}
        return json.loads(self.body.decode("utf-8"))

    def cookies(self) -> dict[str, str]:
        raw = self.headers.get("Cookie") or self.headers.get("cookie") or ""
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(raw)
        except CookieError:
            return {}
        return {name: morsel.value for name, morsel in jar.items()}


@dataclass
class Response:
    """One HTTP response: either a body or a stream of known length."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    length: int | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200) -> Response:
        return cls(status=status, body=json.dumps(payload, ensure_ascii=False).encode("utf-8"))
