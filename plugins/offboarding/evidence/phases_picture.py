"""The phases of a case drawn from its ledger as a small SVG: one bar per phase on a China-time axis.

This is the picture the PDF evidence report embeds (:mod:`offboarding.evidence.report_pdf`). It needs
only the ledger, so an auditor's copy of the case folder draws it without Airflow. A phase is an
action family (``backup``, ``approval``, ``handover``, ``legal``...): its bar runs from its first to its
last entry; a family with a failed or rejected entry is drawn red with a mark at that entry.

Any function with the shape of :data:`TimelinePicture` can replace :func:`phases_svg` (e.g. the cases
page's timeline), as long as its text uses the font family it is given: the PDF embeds only that font.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from offboarding.backup.display import CHINA_TIME
from offboarding.evidence.entry import Entry

TimelinePicture = Callable[[Sequence[Entry], str], str]
"""``(entries, font_family) -> SVG text``: what the PDF report embeds as the case's timeline."""

FAILED_VERBS = frozenset({"failed", "rejected", "denied", "error"})

PHASE_LABELS: dict[str, str] = {
    "case": "案件 case",
    "preflight": "预检 preflight",
    "approval": "审批 approval",
    "backup": "备份 backup",
    "handover": "交接 handover",
    "legal": "法定步骤 legal",
    "deregistration": "注销 deregistration",
    "member": "成员 member",
    "notice": "通知 notice",
}

_WIDTH = 760
_LABEL_WIDTH = 170
_ROW = 22
_TOP = 26
_BOTTOM = 34


@dataclass(frozen=True)
class PhaseBar:
    """One phase of the case: its first and last ledger entry, and the first failure if any."""

    family: str
    start: datetime
    end: datetime
    entries: int
    failed_at: datetime | None = None

    @property
    def label(self) -> str:
        return PHASE_LABELS.get(self.family, self.family)


def phase_bars(entries: Sequence[Entry]) -> list[PhaseBar]:
    """The phases in the order they started (entries whose time cannot be read are left out)."""
    spans: dict[str, list[datetime]] = {}
    failures: dict[str, datetime] = {}
    for entry in entries:
        try:
            at = entry.at_datetime
        except ValueError:
            continue
        spans.setdefault(entry.family, []).append(at)
        if entry.action.rsplit(".", 1)[-1] in FAILED_VERBS and entry.family not in failures:
            failures[entry.family] = at
    bars = [
        PhaseBar(family, min(times), max(times), len(times), failures.get(family))
        for family, times in spans.items()
    ]
    return sorted(bars, key=lambda bar: bar.start)


def phases_svg(entries: Sequence[Entry], font_family: str = "sans-serif") -> str:
    """The phases of the case as an SVG document (text in ``font_family``; every label escaped)."""
    bars = phase_bars(entries)
    height = _TOP + max(len(bars), 1) * _ROW + _BOTTOM
    font = quoteattr(font_family)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="Case phases">',
        f'<rect x="0" y="0" width="{_WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="4" y="16" font-family={font} font-size="12" fill="#222222">'
        "阶段 Phases (北京时间 China time)</text>",
    ]
    if not bars:
        parts.append(
            f'<text x="4" y="{_TOP + 14}" font-family={font} font-size="11" fill="#555555">'
            "No ledger entries (无记录)</text></svg>"
        )
        return "".join(parts)
    first = min(bar.start for bar in bars)
    last = max(bar.end for bar in bars)
    span = max((last - first).total_seconds(), 1.0)
    left, right = _LABEL_WIDTH, _WIDTH - 12

    def x_of(instant: datetime) -> float:
        return left + (right - left) * (instant - first).total_seconds() / span

    axis_y = _TOP + len(bars) * _ROW + 4
    parts.append(
        f'<line x1="{left}" y1="{axis_y}" x2="{right}" y2="{axis_y}" stroke="#888888" stroke-width="1"/>'
    )
    for tick in range(5):
        instant = first + (last - first) * tick / 4
        x = x_of(instant)
        anchor = "start" if tick == 0 else "end" if tick == 4 else "middle"
        parts.append(
            f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#888888"/>'
            f'<text x="{x:.1f}" y="{axis_y + 16}" font-family={font} font-size="9" fill="#444444" '
            f'text-anchor="{anchor}">{escape(_tick_text(instant, span))}</text>'
        )
    for row, bar in enumerate(bars):
        y = _TOP + row * _ROW
        x1 = x_of(bar.start)
        width = max(x_of(bar.end) - x1, 3.0)
        colour = "#c0392b" if bar.failed_at is not None else "#2e7d9a"
        parts.append(
            f'<text x="4" y="{y + 14}" font-family={font} font-size="10" fill="#222222">'
            f"{escape(bar.label)} ({bar.entries})</text>"
            f'<rect x="{x1:.1f}" y="{y + 4}" width="{width:.1f}" height="{_ROW - 8}" fill="{colour}"/>'
        )
        if bar.failed_at is not None:
            fx = x_of(bar.failed_at)
            parts.append(
                f'<path d="M {fx:.1f} {y + 1} l 5 0 l -5 {_ROW - 2} l -5 -{_ROW - 2} z" fill="#7b1d12"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _tick_text(instant: datetime, span_seconds: float) -> str:
    local = instant.astimezone(CHINA_TIME)
    if span_seconds < 600:
        return local.strftime("%H:%M:%S")
    return local.strftime("%m-%d %H:%M")


__all__ = ["PHASE_LABELS", "PhaseBar", "TimelinePicture", "phase_bars", "phases_svg"]
