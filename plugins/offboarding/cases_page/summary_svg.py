"""The summary strip at the top of the cases page: open cases by phase (an SVG bar chart) and the numbers
someone acts on — stalled now, failed, on hold, legal deadlines within 7 days — each a link to the list
filtered to exactly those cases.

Drawn on the server, no JavaScript; text and axes use ``currentColor`` so the chart reads in the light
and the dark theme; every bar has a ``<title>`` (screen readers, hover) and is a link.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from offboarding.cases_page.overview import Summary

BAR_COLOR = "#4f8fd6"  # readable on white and on the dark theme's background
ROW = 20
LABEL_WIDTH = 190
BAR_WIDTH = 260


def _href(base_path: str, **params: str | int) -> str:
    return f"{base_path}?{urlencode(params)}"


def bar_chart_svg(items: Sequence[tuple[str, int, str]], *, title: str) -> str:
    """Horizontal bars (label, value, link), one row each, longest bar = the largest value."""
    if not items:
        return f'<svg role="img" aria-label="{escape(title, quote=True)}: none" width="1" height="1"></svg>'
    largest = max(value for _, value, _ in items) or 1
    height = ROW * len(items) + 4
    width = LABEL_WIDTH + BAR_WIDTH + 60
    rows = []
    for index, (label, value, href) in enumerate(items):
        y = index * ROW + 2
        length = max(2, round(BAR_WIDTH * value / largest))
        text = f"{label}: {value} open case{'s' if value != 1 else ''}"
        rows.append(
            f'<a href="{escape(href, quote=True)}" target="_self"><g role="listitem" aria-label="{escape(text, quote=True)}">'
            f"<title>{escape(text)}</title>"
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" fill="currentColor" font-size="12">'
            f"{escape(label[:30])}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 6}" rx="2" fill="{BAR_COLOR}"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 14}" fill="currentColor" font-size="12" '
            f'font-weight="600">{value}</text></g></a>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="list" aria-label="{escape(title, quote=True)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" class="chart">'
        f"<title>{escape(title)}</title>{''.join(rows)}</svg>"
    )


def _number(value: int, label: str, href: str, css: str) -> str:
    return (
        f'<a class="tile {css if value else ""}" href="{escape(href, quote=True)}" target="_self">'
        f'<span class="n">{value}</span><span class="l">{escape(label)}</span></a>'
    )


def render_summary(summary: Summary, *, base_path: str = "/offboarding/cases") -> str:
    """The strip's HTML (a ``<section>``)."""
    phases = [
        (phase, count, _href(base_path, phase=phase))
        for phase, count in summary.by_phase
        if phase != "not started"
    ]
    not_started = dict(summary.by_phase).get("not started", 0)
    if not_started:
        phases.append(("not started (queued)", not_started, _href(base_path, state="queued")))
    chart = bar_chart_svg(phases, title=f"Open cases by phase ({summary.open_cases} open)")
    tiles = "".join(
        (
            _number(summary.open_cases, "open cases", _href(base_path, state="open"), ""),
            _number(summary.stalled, "stalled now", _href(base_path, stalled="true"), "bad"),
            _number(summary.on_hold, "on hold", _href(base_path, held="true"), "warn"),
            _number(
                summary.due_soon,
                f"legal deadlines in the next {summary.due_days} days",
                _href(base_path, due_within_days=summary.due_days),
                "warn",
            ),
        )
    )
    return (
        '<section class="summary" aria-label="Summary of open cases">'
        f'<div class="tiles">{tiles}</div>'
        f"<figure><figcaption>Open cases by phase 各阶段在办案件</figcaption>{chart}</figure>"
        "</section>"
    )


SUMMARY_STYLE = """
.summary{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap;margin:0 0 16px;padding:12px;
 border:1px solid var(--line);border-radius:8px}
.tiles{display:flex;gap:12px;flex-wrap:wrap}
.tile{display:flex;flex-direction:column;min-width:110px;padding:8px 12px;border:1px solid var(--line);
 border-radius:8px;text-decoration:none;color:inherit}
.tile .n{font-size:28px;font-weight:700;line-height:1.1}
.tile .l{font-size:12px;color:var(--muted)}
.tile.bad .n{color:var(--bad)}
.tile.warn .n{color:var(--warn)}
figure{margin:0}
figcaption{font-size:12px;color:var(--muted);margin-bottom:4px}
.chart a:hover rect{opacity:.8}
"""
