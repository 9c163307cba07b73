"""How often the watchdog runs: ``OFFBOARDING_WATCHDOG_INTERVAL_MINUTES`` (default 15, fractions allowed)."""

from __future__ import annotations

import datetime as dt

from offboarding.settings import positive_duration

INTERVAL_ENV = "OFFBOARDING_WATCHDOG_INTERVAL_MINUTES"
DEFAULT_INTERVAL_MINUTES = 15.0


def watchdog_interval(environ: dict[str, str] | None = None) -> dt.timedelta:
    """The watchdog's schedule; ValueError naming the variable when it is not a positive number."""
    return positive_duration(INTERVAL_ENV, "minutes", DEFAULT_INTERVAL_MINUTES, environ)
