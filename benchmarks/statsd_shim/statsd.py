"""A minimal ``statsd`` client for the capacity bench's Airflow processes (the lock has no statsd package).

Airflow's ``[metrics] statsd_on`` imports ``statsd.StatsClient``; this module is put first on the
components' ``PYTHONPATH`` by the bench only, and sends the plain StatsD line protocol over UDP to
the bench's listener (``benchmarks.capacity``), which reads ``scheduler.scheduler_loop_duration``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import time
from typing import Any


class _Timer:
    def __init__(self, client: StatsClient, stat: str) -> None:
        self.client, self.stat, self._start = client, stat, 0.0

    def start(self) -> _Timer:
        self._start = time.perf_counter()
        return self

    def stop(self, send: bool = True) -> None:
        if send:
            self.client.timing(self.stat, (time.perf_counter() - self._start) * 1000.0)


class StatsClient:
    def __init__(
        self, host: str = "localhost", port: int = 8125, prefix: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        self._addr = (host, int(port))
        self._prefix = f"{prefix}." if prefix else ""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def _send(self, text: str) -> None:
        with contextlib.suppress(OSError):
            self._sock.sendto(f"{self._prefix}{text}".encode(), self._addr)

    def timing(self, stat: str, delta: float | dt.timedelta, rate: float = 1) -> None:
        ms = delta.total_seconds() * 1000.0 if isinstance(delta, dt.timedelta) else float(delta)
        self._send(f"{stat}:{ms:.3f}|ms")

    def timer(self, stat: str, rate: float = 1) -> _Timer:
        return _Timer(self, stat)

    def incr(self, stat: str, count: int = 1, rate: float = 1) -> None:
        self._send(f"{stat}:{count}|c")

    def decr(self, stat: str, count: int = 1, rate: float = 1) -> None:
        self._send(f"{stat}:{-count}|c")

    def gauge(self, stat: str, value: float, rate: float = 1, delta: bool = False) -> None:
        self._send(f"{stat}:{'+' if delta and value >= 0 else ''}{value}|g")
