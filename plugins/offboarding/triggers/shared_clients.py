"""One WeCom hook (one HTTP session, one connection pool) per corp and secret, per triggerer process.

Every customer-takeover wait polls ``transfer_result`` for its own (member, successor) pair. With a hook
per wait, 10,000 waits would hold 10,000 keep-alive sockets to WeCom; with this registry all waits of a
corp share one ``requests.Session``, whose connection pool keeps at most ``pool_maxsize`` (10) sockets
per host however many waits poll, and one access token (already shared through the token cache).

The key is the connection's id plus a fingerprint of everything the hook reads from it (CorpID, host,
port, scheme, password and extras, i.e. every secret): when a secret is rotated, the next wait that
looks the connection up gets a new hook, and the old one is dropped from the registry (waits still
holding it finish their poll with it). The fingerprint is a SHA-256 digest kept in memory only.

What WeCom lets us batch here: nothing across waits. ``transfer_result`` takes exactly one (handover,
takeover) pair per call and pages with a cursor (up to 1,000 customers a page, WeCom's page size), so a
poll costs one call per transfer kind (on-job, resigned) and page; sharing cuts sockets, TLS handshakes
and token reads, not the number of reads.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

H = TypeVar("H")

_lock = threading.Lock()
_hooks: dict[str, tuple[str, Any]] = {}
"""conn_id → (fingerprint of the connection, the hook made from it)."""


def connection_fingerprint(conn: Any) -> str:
    """A digest of every field a WeCom hook reads from ``conn`` (secrets included; never stored in clear)."""
    fields = [
        getattr(conn, name, None) for name in ("conn_type", "login", "password", "host", "port", "schema")
    ]
    extra = getattr(conn, "extra", None) or ""
    text = json.dumps([*fields, extra], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shared_hook(conn: Any, make: Callable[[str], H]) -> H:
    """The hook of this process for ``conn``: the one made before if the connection is unchanged, else
    ``make(conn.conn_id)`` (run where ``conn`` is the resolved connection), remembered for the next wait."""
    fingerprint = connection_fingerprint(conn)
    with _lock:
        known = _hooks.get(conn.conn_id)
        if known is not None and known[0] == fingerprint:
            return known[1]
        hook = make(conn.conn_id)
        _hooks[conn.conn_id] = (fingerprint, hook)
        return hook


def forget_all() -> None:
    """Drop every shared hook (tests; a process that wants fresh sessions)."""
    with _lock:
        _hooks.clear()


def current_hook(conn_id: str) -> Any | None:
    """The hook this process shares for ``conn_id`` now (None when no wait made one yet)."""
    with _lock:
        known = _hooks.get(conn_id)
    return known[1] if known else None
