"""Full size (``make bench``) or quick size (``--quick``, used by the tests): each bench picks its numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Size:
    """Which size a run is; ``pick(quick, full)`` returns the number for it."""

    quick: bool = False

    @property
    def label(self) -> str:
        return "quick" if self.quick else "full"

    def pick(self, quick: T, full: T) -> T:
        return quick if self.quick else full
