"""Repeated timings on a shared machine: medians, and a baseline measured alternately with the subject."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def median(values: Sequence[float]) -> float:
    """The median; refuses an empty list (a bench that measured nothing must not report a number)."""
    if not values:
        raise ValueError("median of no measurements: the bench measured nothing")
    return float(statistics.median(values))


@dataclass(frozen=True)
class Paired:
    """Timings of a subject and its baseline, taken alternately (ABAB) so load changes hit both alike."""

    subject: list[float]
    baseline: list[float]

    @property
    def subject_median(self) -> float:
        return median(self.subject)

    @property
    def baseline_median(self) -> float:
        return median(self.baseline)

    def spread(self) -> str:
        """The range of both series, for the notes (``subject 0.61-0.90 s, baseline 5-7 ms``)."""
        return (
            f"subject {min(self.subject):.3g}-{max(self.subject):.3g}, "
            f"baseline {min(self.baseline):.3g}-{max(self.baseline):.3g} over {len(self.subject)} runs each"
        )


def alternate(subject: Callable[[], float], baseline: Callable[[], float], repeats: int) -> Paired:
    """Run ``baseline`` then ``subject``, ``repeats`` times; each returns one measurement."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    subject_values: list[float] = []
    baseline_values: list[float] = []
    for _ in range(repeats):
        baseline_values.append(baseline())
        subject_values.append(subject())
    return Paired(subject_values, baseline_values)


def seconds(action: Callable[[], object]) -> float:
    """Wall seconds ``action`` took."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
