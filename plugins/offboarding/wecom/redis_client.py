"""One way to open a Redis client for the WeCom client's shared state: with socket timeouts.

A Redis client without timeouts waits forever on a host that stopped answering (a half-open TCP
connection, a paused VM): every task that fetches a token, posts to a robot or asks the rate limiter
would hang with it. Every Redis client of the product is opened here, with a connect timeout, a read
timeout and a periodic health check. Our own query parameter ``prefix=`` (the token cache's key prefix)
is taken out of the URL before redis-py sees it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

#: Seconds to open the TCP connection (and the TLS handshake for ``rediss://``).
CONNECT_TIMEOUT_SECONDS = 5.0
#: Seconds to wait for any reply; every command we send is short (no blocking pops).
SOCKET_TIMEOUT_SECONDS = 10.0
#: Seconds of idleness after which a pooled connection is checked with PING before use.
HEALTH_CHECK_SECONDS = 30


def split_prefix(url: str) -> tuple[str, str | None]:
    """``url`` without our ``prefix=`` query parameter, and that parameter's value (or None)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), None)
    rest = urlencode([(k, v) for k, v in query if k != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


def redis_from_url(
    url: str,
    *,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    socket_timeout: float = SOCKET_TIMEOUT_SECONDS,
) -> redis.Redis:
    """A client for ``redis://``, ``rediss://`` or ``unix://`` ``url`` that never waits forever."""
    clean_url, _ = split_prefix(url)
    return redis.Redis.from_url(
        clean_url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=socket_timeout,
        health_check_interval=HEALTH_CHECK_SECONDS,
    )


def where(url: str) -> str:
    """``host:port/db`` of ``url`` for messages (never its password)."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or '/0'}"
