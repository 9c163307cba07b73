"""Read ``python -X importtime`` output: what the imports after a marker cost, by top-level package."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

MARKER = "=====BENCH-PARSE-STARTS====="
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


@dataclass(frozen=True)
class ImportCost:
    """One module's import: its own time and with everything it imported (microseconds)."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int

    @property
    def package(self) -> str:
        return self.module.split(".", 1)[0]


def parse_importtime(text: str, marker: str | None = MARKER) -> list[ImportCost]:
    """The import lines of ``text``; with ``marker``, only those after the line containing it."""
    lines = text.splitlines()
    if marker is not None:
        starts = [n for n, line in enumerate(lines) if marker in line]
        lines = lines[starts[-1] + 1 :] if starts else []
    costs = []
    for line in lines:
        match = _LINE.match(line)
        if match:
            self_us, cumulative_us, indent, module = match.groups()
            costs.append(ImportCost(module, int(self_us), int(cumulative_us), len(indent) // 2))
    return costs


def by_package(costs: list[ImportCost]) -> list[tuple[str, float]]:
    """Own import time summed per top-level package, in milliseconds, largest first."""
    totals: Counter[str] = Counter()
    for cost in costs:
        totals[cost.package] += cost.self_us
    return [(package, us / 1000) for package, us in totals.most_common()]


def describe(costs: list[ImportCost], top: int = 5) -> str:
    """``modules first imported while parsing: 742 ms in 812 modules; by package: holidays 160 ms, ...``."""
    if not costs:
        return "no module was imported while parsing"
    total_ms = sum(c.self_us for c in costs) / 1000
    heaviest = ", ".join(f"{package} {ms:.0f} ms" for package, ms in by_package(costs)[:top])
    slowest = ", ".join(
        f"{c.module} {c.self_us / 1000:.0f} ms" for c in sorted(costs, key=lambda c: -c.self_us)[:top]
    )
    return (
        f"modules first imported while parsing: {total_ms:.0f} ms in {len(costs)} modules; by package: "
        f"{heaviest}; slowest modules: {slowest}"
    )
