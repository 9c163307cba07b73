"""Fault injection: injected errcodes, HTTP 5xx, latency, and writes applied before a lost reply.

A fault never applies the write, except ``apply_then_fail``: the write is applied and the reply is an
injected transient error, as when WeCom did the work but the answer got lost. One seeded RNG decides, so a
test with a seed sees the same sequence every time.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

LOST_REPLY_ERRCODE = -1
FaultKind = Literal["none", "http_5xx", "errcode"]


def _rate(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"faults.{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class FaultSpec:
    """What to inject; ``paths`` None = every WeCom path (never /sandbox/ paths)."""

    errcodes: dict[int, float] = field(default_factory=dict)
    http_5xx: float = 0.0
    latency_ms: int = 0
    paths: tuple[str, ...] | None = None
    apply_then_fail: float = 0.0
    seed: int | None = None

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> FaultSpec:
        """Validate a JSON fault spec; raises ValueError naming the bad field."""
        if not isinstance(spec, dict):
            raise ValueError("faults must be a JSON object")
        known = {"errcodes", "http_5xx", "latency_ms", "paths", "apply_then_fail", "seed"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"faults has unknown field(s) {unknown}; known: {sorted(known)}")
        raw_codes = spec.get("errcodes") or {}
        if not isinstance(raw_codes, dict):
            raise ValueError("faults.errcodes must be an object of errcode -> rate")
        errcodes: dict[int, float] = {}
        for code, rate in raw_codes.items():
            try:
                errcode = int(code)
            except (TypeError, ValueError):
                raise ValueError(f"faults.errcodes key {code!r} is not an integer errcode") from None
            if errcode == 0:
                raise ValueError("faults.errcodes may not inject errcode 0")
            errcodes[errcode] = _rate(rate, f"errcodes[{code!r}]")
        http_5xx = _rate(spec.get("http_5xx", 0.0), "http_5xx")
        if sum(errcodes.values()) + http_5xx > 1.0 + 1e-9:
            raise ValueError("faults: the errcode rates plus http_5xx must not exceed 1")
        latency = spec.get("latency_ms", 0)
        if isinstance(latency, bool) or not isinstance(latency, int) or not 0 <= latency <= 60_000:
            raise ValueError(f"faults.latency_ms must be a whole number from 0 to 60000, got {latency!r}")
        paths = spec.get("paths")
        if paths is not None and (
            not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in paths)
        ):
            raise ValueError("faults.paths must be null or a list of paths such as '/cgi-bin/user/delete'")
        seed = spec.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"faults.seed must be an integer or null, got {seed!r}")
        return cls(
            errcodes=errcodes,
            http_5xx=http_5xx,
            latency_ms=latency,
            paths=tuple(paths) if paths is not None else None,
            apply_then_fail=_rate(spec.get("apply_then_fail", 0.0), "apply_then_fail"),
            seed=seed,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "errcodes": {str(code): rate for code, rate in self.errcodes.items()},
            "http_5xx": self.http_5xx,
            "latency_ms": self.latency_ms,
            "paths": list(self.paths) if self.paths is not None else None,
            "apply_then_fail": self.apply_then_fail,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class Fault:
    """The decision for one call."""

    kind: FaultKind
    errcode: int = 0
    http_status: int = 0


class FaultInjector:
    """Holds the current spec and its RNG; thread-safe."""

    def __init__(self, default: FaultSpec) -> None:
        self._lock = threading.Lock()
        self.default = default
        self.set(default)

    def set(self, spec: FaultSpec) -> None:
        with self._lock:
            self.spec = spec
            self._rng = random.Random(spec.seed)

    def clear(self) -> None:
        self.set(FaultSpec())

    def applies_to(self, path: str) -> bool:
        spec = self.spec
        return spec.paths is None or path in spec.paths

    def latency_seconds(self, path: str) -> float:
        spec = self.spec
        return spec.latency_ms / 1000.0 if spec.latency_ms and self.applies_to(path) else 0.0

    def before_call(self, path: str) -> Fault:
        """Decide whether this call fails before doing anything."""
        spec = self.spec
        if not self.applies_to(path) or (not spec.errcodes and not spec.http_5xx):
            return Fault("none")
        with self._lock:
            draw = self._rng.random()
            if draw < spec.http_5xx:
                return Fault("http_5xx", http_status=self._rng.choice((500, 502, 503)))
            threshold = spec.http_5xx
            for errcode, rate in spec.errcodes.items():
                threshold += rate
                if draw < threshold:
                    return Fault("errcode", errcode=errcode)
        return Fault("none")

    def lose_reply(self, path: str) -> bool:
        """After a write was applied: should its reply be replaced by a transient error?"""
        spec = self.spec
        if not spec.apply_then_fail or not self.applies_to(path):
            return False
        with self._lock:
            return self._rng.random() < spec.apply_then_fail
