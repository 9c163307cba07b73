"""One result row of a bench, and the goal it is judged against.

A row is what ``make bench`` prints and writes to ``.bench/results.json``: ``name``, ``value``, ``unit``,
``baseline`` (measured in the same run), ``ratio`` (value / baseline), ``goal`` (in words), ``met``
(true/false; null when there is no goal or nothing was measured) and ``notes`` (how it was measured,
and why a goal was missed when that is known).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

Check = Literal["ratio_at_most", "ratio_at_least", "value_at_most", "value_at_least"]


@dataclass(frozen=True)
class Goal:
    """What a row must reach: a bound on its value or on its ratio to the baseline."""

    check: Check
    limit: float
    unit: str = ""

    @classmethod
    def ratio_at_most(cls, limit: float) -> Goal:
        return cls("ratio_at_most", limit)

    @classmethod
    def ratio_at_least(cls, limit: float) -> Goal:
        return cls("ratio_at_least", limit)

    @classmethod
    def at_most(cls, limit: float, unit: str = "") -> Goal:
        return cls("value_at_most", limit, unit)

    @classmethod
    def at_least(cls, limit: float, unit: str = "") -> Goal:
        return cls("value_at_least", limit, unit)

    @property
    def text(self) -> str:
        """The goal in words, e.g. ``ratio ≤ 1.5`` or ``≤ 150 MB``."""
        bound = "≤" if self.check.endswith("at_most") else "≥"
        limit = f"{self.limit:g}"
        if self.check.startswith("ratio"):
            return f"ratio {bound} {limit}"
        return f"{bound} {limit}{' ' + self.unit if self.unit else ''}"

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        """Whether ``value``/``ratio`` reach the goal; None when the needed number is missing."""
        subject = ratio if self.check.startswith("ratio") else value
        if subject is None or (isinstance(subject, float) and math.isnan(subject)):
            return None
        if self.check.endswith("at_most"):
            return subject <= self.limit
        return subject >= self.limit


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    ratio: float | None = None
    goal: str | None = None
    met: bool | None = None
    notes: str = ""

    @classmethod
    def measured(
        cls,
        name: str,
        value: float,
        unit: str,
        *,
        baseline: float | None = None,
        goal: Goal | None = None,
        notes: str = "",
        why_missed: str = "",
    ) -> Row:
        """A measured row: the ratio is computed, the goal judged, and ``why_missed`` added if it is missed."""
        ratio = ratio_of(value, baseline)
        met = goal.met(value, ratio) if goal is not None else None
        if met is False:
            notes = join_notes(notes, f"GOAL MISSED: {why_missed or 'cause not known'}")
        return cls(name, value, unit, baseline, ratio, goal.text if goal else None, met, notes)

    @classmethod
    def not_available(cls, name: str, unit: str, reason: str, goal: Goal | None = None) -> Row:
        """A row that could not be measured (a part of the product missing): no number, never a fake one."""
        return cls(name, None, unit, goal=goal.text if goal else None, notes=f"not available: {reason}")

    @classmethod
    def failed(cls, name: str, error: str) -> Row:
        """A bench that crashed: reported as a missed row so it is never mistaken for a pass."""
        return cls(name, None, "", met=False, notes=f"bench failed: {error}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ratio_of(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``; None when either is missing or the baseline is zero."""
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline


def join_notes(*parts: str) -> str:
    """Notes joined into one sentence list, empty parts left out."""
    return " ".join(p.strip() for p in parts if p and p.strip())
