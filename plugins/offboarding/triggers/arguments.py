"""Checks of a trigger's arguments, made when it is built (in the worker) so a bad one fails the task there."""

from __future__ import annotations

import math
from typing import Any


def require_names(**values: Any) -> None:
    """Each value must be a non-empty string; a ValueError naming the first that is not."""
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")


def poll_seconds(value: Any) -> float:
    """``poll_interval_seconds`` as a positive, finite float; a ValueError naming it otherwise."""
    try:
        interval = float(value)
    except (TypeError, ValueError):
        interval = math.nan
    if not math.isfinite(interval) or interval <= 0:
        raise ValueError(f"poll_interval_seconds must be a positive number, got {value!r}")
    return interval
