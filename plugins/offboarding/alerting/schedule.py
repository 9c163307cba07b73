"""How often the watchdog runs: ``OFFBOARDING_WATCHDOG_INTERVAL_MINUTES`` (default 15, fractions allowed)."""

from __future__ import annotations

import datetime as dt
import math
import os

INTERVAL_ENV = "OFFBOARDING_WATCHDOG_INTERVAL_MINUTES"
DEFAULT_INTERVAL_MINUTES = 15.0


def watchdog_interval(environ: dict[str, str] | None = None) -> dt.timedelta:
    """The watchdog's schedule; ValueError naming the variable when it is not a positive number."""
    env = os.environ if environ is None else environ
    text = (env.get(INTERVAL_ENV) or "").strip()
    if not text:
        return dt.timedelta(minutes=DEFAULT_INTERVAL_MINUTES)
    try:
        minutes = float(text)
    except ValueError:
        raise ValueError(f"{INTERVAL_ENV} must be a number of minutes such as 15, got {text!r}") from None
    if not math.isfinite(minutes) or minutes <= 0:
        raise ValueError(f"{INTERVAL_ENV} must be a positive number of minutes, got {text!r}")
    return dt.timedelta(minutes=minutes)
