"""Draw a :class:`~offboarding.cases_page.timeline.Timeline` as SVG, on the server, without JavaScript.

Rows, top to bottom: the time axis (Asia/Shanghai), legal deadlines (diamonds, a dashed line down the
chart), one bar per phase, one row per human step (asked → answered, the due time as a tick, the
answer as a dot with who and when), then incidents and lifecycle actions (stall ``!``, failure ``×``,
hold ``Ⅱ``, release ``▶``, rescind ``↺``, reschedule ``↦``, correct ``✎``). A solid line marks now.

Text and axes are ``currentColor`` and the fills are mid-tone colours, so it reads in the light and the
dark theme; every mark has a ``<title>`` and an ``aria-label`` with the full sentence (screen readers,
hover), and :func:`timeline_list` repeats them as an HTML list under the picture.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from offboarding.cases_page.timeline import DONE, FAILED, Marker, Timeline
from offboarding.legal_time.clock import LOCAL_TZ, LOCAL_TZ_NAME

WIDTH = 1100
LEFT = 220
RIGHT = 30
AXIS = 34
ROW = 24
LABEL_ROW = 16
PHASE_COLORS = {DONE: "#2da44e", FAILED: "#cf222e"}
WAITING_COLOR = "#d29922"
DEADLINE_COLOR = "#8250df"
EVENT_STYLE = {
    "stall": ("!", "#cf222e"),
    "failure": ("×", "#cf222e"),
    "hold": ("Ⅱ", "#bf8700"),
    "release": ("▶", "#2da44e"),
    "rescind": ("↺", "#cf222e"),
    "reschedule": ("↦", "#4f8fd6"),
    "correct": ("✎", "#4f8fd6"),
}
_STEPS = [
    60,
    300,
    900,
    1800,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86400,
    2 * 86400,
    7 * 86400,
    14 * 86400,
    30 * 86400,
    91 * 86400,
]


def _plain(moment: dt.datetime) -> dt.datetime:
    """A stdlib aware UTC datetime (pendulum's arithmetic with stdlib values is not closed)."""
    return dt.datetime.fromtimestamp(moment.timestamp(), dt.UTC)


class _Axis:
    def __init__(self, start: dt.datetime, end: dt.datetime) -> None:
        start, end = _plain(start), _plain(end)
        span = max((end - start).total_seconds(), 60.0)
        pad = span * 0.03
        self.start = start - dt.timedelta(seconds=pad)
        self.end = end + dt.timedelta(seconds=pad)
        self.span = (self.end - self.start).total_seconds()
        self.width = WIDTH - LEFT - RIGHT

    def x(self, moment: dt.datetime) -> float:
        return LEFT + self.width * (moment.timestamp() - self.start.timestamp()) / self.span

    def ticks(self) -> list[tuple[dt.datetime, str]]:
        step = next((s for s in _STEPS if self.span / s <= 9), _STEPS[-1])
        local = self.start.astimezone(LOCAL_TZ)
        if step >= 86400:
            first = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
            pattern = "%m-%d"
        else:
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            elapsed = (local - midnight).total_seconds()
            first = midnight + dt.timedelta(seconds=(elapsed // step + 1) * step)
            pattern = "%m-%d %H:%M" if step >= 3600 else "%H:%M"
        ticks = []
        moment = first
        while moment <= self.end.astimezone(LOCAL_TZ):
            ticks.append((moment.astimezone(dt.UTC), moment.strftime(pattern)))
            moment = moment + dt.timedelta(seconds=step)
        return ticks


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M")


def _levels(xs: list[float], gap: float = 240.0, levels: int = 3) -> list[int]:
    """A text line for each label so that labels close together do not overlap."""
    last = [-1e9] * levels
    chosen = []
    for x in xs:
        level = next(
            (i for i in range(levels) if x - last[i] >= gap), min(range(levels), key=lambda i: last[i])
        )
        last[level] = x
        chosen.append(level)
    return chosen


def _mark(text: str, body: str) -> str:
    return (
        f'<g role="listitem" aria-label="{escape(text, quote=True)}"><title>{escape(text)}</title>{body}</g>'
    )


def _label(x: float, y: float, text: str, *, anchor: str = "start", weight: str = "400") -> str:
    if anchor == "start" and x + 6.2 * len(text) > WIDTH - 4:  # would run off the right edge: end at x
        anchor, x = "end", x - 18
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" fill="currentColor" text-anchor="{anchor}" '
        f'font-weight="{weight}">{escape(text)}</text>'
    )


def render_timeline_svg(timeline: Timeline) -> str:
    """The timeline as an ``<svg>`` element."""
    axis = _Axis(timeline.start, timeline.end)
    parts: list[str] = []
    y = AXIS
    # -- legal deadlines row ------------------------------------------------------------------------------
    deadlines_y = y
    deadline_rows = 3 * LABEL_ROW + 8
    y += deadline_rows
    phases_y = y
    y += ROW * max(len(timeline.phases), 1)
    humans_y = y
    y += ROW * len(timeline.human_steps)
    events_y = y + 6
    y = events_y + 3 * LABEL_ROW + 14
    height = y + 6

    # axis and grid
    for moment, text in axis.ticks():
        x = axis.x(moment)
        parts.append(
            f'<line x1="{x:.1f}" y1="{AXIS - 6}" x2="{x:.1f}" y2="{height - 6}" stroke="currentColor" '
            'stroke-opacity=".12"/>'
            f'<text x="{x:.1f}" y="{AXIS - 12}" font-size="11" fill="currentColor" text-anchor="middle" '
            f'fill-opacity=".8">{escape(text)}</text>'
        )
    parts.append(
        f'<text x="8" y="{AXIS - 12}" font-size="11" fill="currentColor" fill-opacity=".8">'
        f"time ({LOCAL_TZ_NAME})</text>"
    )
    # row labels
    parts.append(_label(8, deadlines_y + 16, "Legal deadlines 法定期限", weight="600"))
    parts.append(_label(8, events_y + 16, "Incidents & actions 事件", weight="600"))

    # deadlines: diamond, dashed line through the chart, staggered labels
    xs = [axis.x(d.at) for d in timeline.deadlines]
    for deadline, x, level in zip(timeline.deadlines, xs, _levels(xs), strict=True):
        ty = deadlines_y + 12 + level * LABEL_ROW
        body = (
            f'<line x1="{x:.1f}" y1="{ty + 4}" x2="{x:.1f}" y2="{events_y - 2}" stroke="{DEADLINE_COLOR}" '
            'stroke-dasharray="4 3" stroke-width="1.5"/>'
            f'<path d="M{x:.1f} {ty - 5} l5 5 l-5 5 l-5 -5 z" fill="{DEADLINE_COLOR}"/>'
            + _label(x + 8, ty + 4, f"{deadline.title} {_local(deadline.at)}")
        )
        parts.append(_mark(f"Legal deadline: {deadline.text}", body))

    # phases
    for index, phase in enumerate(timeline.phases):
        top = phases_y + index * ROW
        x1, x2 = axis.x(phase.start), axis.x(phase.end)
        width = max(x2 - x1, 3)
        color = PHASE_COLORS.get(phase.state, WAITING_COLOR)
        stroke = ' stroke="#cf222e" stroke-width="3"' if phase.stalled else ""
        hatch = ' fill-opacity=".55"' if phase.ongoing else ""
        suffix = " — stalled" if phase.stalled else (" — now" if phase.ongoing else "")
        body = (
            _label(LEFT - 8, top + 16, phase.name, anchor="end")
            + f'<rect x="{x1:.1f}" y="{top + 4}" width="{width:.1f}" height="{ROW - 8}" rx="3" '
            f'fill="{color}"{hatch}{stroke}/>' + _label(x1 + width + 6, top + 16, f"{phase.state}{suffix}")
        )
        parts.append(_mark(phase.text, body))
    if not timeline.phases:
        parts.append(_label(LEFT, phases_y + 16, "no step has started yet"))

    # human steps
    for index, step in enumerate(timeline.human_steps):
        top = humans_y + index * ROW
        x1 = axis.x(step.asked_at)
        end = step.answered_at or timeline.now
        x2 = axis.x(end)
        owners = ", ".join(step.owners) or "anyone allowed"
        color = "#cf222e" if step.stalled else "#4f8fd6"
        body = _label(LEFT - 8, top + 16, f"▸ {step.task_id.rpartition('.')[2][:26]}", anchor="end")
        dashes = "" if step.answered_at else ' stroke-dasharray="6 3"'
        body += (
            f'<line x1="{x1:.1f}" y1="{top + 12}" x2="{max(x2, x1 + 2):.1f}" y2="{top + 12}" stroke="{color}" '
            f'stroke-width="4" stroke-linecap="round"{dashes}/>'
        )
        if step.due is not None:
            xd = axis.x(step.due)
            body += (
                f'<line x1="{xd:.1f}" y1="{top + 4}" x2="{xd:.1f}" y2="{top + 20}" stroke="currentColor" '
                'stroke-width="2"/>'
            )
        if step.answered_at:
            body += f'<circle cx="{x2:.1f}" cy="{top + 12}" r="5" fill="{color}"/>'
            text = f"{owners} · answered by {step.answered_by} {_local(step.answered_at)}"
        else:
            text = f"{owners} · {'STALLED, ' if step.stalled else ''}waiting for an answer"
            if step.due is not None:
                text += f" (due {_local(step.due)})"
        body += _label(max(x2, x1) + 9, top + 16, text)
        parts.append(_mark(step.text, body))

    # holds: a band from the hold to its release (or now) across the phases
    held_since = None
    for event in [*timeline.events, None]:
        if event is not None and event.kind == "hold" and held_since is None:
            held_since = event.at
        elif held_since is not None and (event is None or event.kind in ("release", "rescind")):
            until = event.at if event is not None else timeline.now
            x1, x2 = axis.x(held_since), axis.x(until)
            text = f"on hold {_local(held_since)} → {_local(until) if event is not None else 'now'}"
            parts.append(
                _mark(
                    text,
                    f'<rect x="{x1:.1f}" y="{phases_y}" width="{max(x2 - x1, 2):.1f}" '
                    f'height="{events_y - phases_y}" fill="#bf8700" fill-opacity=".15"/>',
                )
            )
            held_since = None

    # incidents and actions
    xs = [axis.x(e.at) for e in timeline.events]
    # each incident or action on its own text line (cycling through three): labels may run left or right
    for index, (event, x) in enumerate(zip(timeline.events, xs, strict=True)):
        level = index % 3
        symbol, color = EVENT_STYLE.get(event.kind, ("•", "currentColor"))
        ty = events_y + 14 + level * LABEL_ROW
        body = (
            f'<line x1="{x:.1f}" y1="{phases_y}" x2="{x:.1f}" y2="{ty - 8}" stroke="{color}" '
            'stroke-opacity=".6"/>'
            f'<circle cx="{x:.1f}" cy="{ty - 4}" r="8" fill="{color}"/>'
            f'<text x="{x:.1f}" y="{ty}" font-size="11" text-anchor="middle" fill="#ffffff" '
            f'font-weight="700">{escape(symbol)}</text>'
            + _label(x + 11, ty, f"{_title(event)} {_local(event.at)}")
        )
        parts.append(_mark(f"{event.kind}: {event.text}", body))

    # now
    xn = axis.x(timeline.now)
    parts.append(
        _mark(
            f"now: {_local(timeline.now)} ({LOCAL_TZ_NAME})",
            f'<line x1="{xn:.1f}" y1="{AXIS - 6}" x2="{xn:.1f}" y2="{height - 6}" stroke="currentColor" '
            f'stroke-width="1.5"/><text x="{xn:.1f}" y="{AXIS - 1}" font-size="10" fill="currentColor" '
            'text-anchor="middle" font-weight="700">now</text>',
        )
    )
    title = f"Timeline of {timeline.who} ({timeline.case_id}), times in {LOCAL_TZ_NAME}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="list" aria-label="{escape(title, quote=True)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" class="timeline" '
        'style="color:inherit;font-family:inherit">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )


def _title(event: Marker) -> str:
    if event.kind in ("stall", "failure"):
        return event.title
    who, _, reason = event.detail.partition(": ")
    reason = reason.split(" (")[0]
    return f"{event.title} {who}" + (f" — {reason[:32]}" if reason else "")


def timeline_list(timeline: Timeline) -> str:
    """The same marks as text (for readers without the picture, and for copy-paste)."""
    items = [f"<li>{escape(d.text)}</li>" for d in timeline.deadlines]
    items += [f"<li>{escape(h.text)}</li>" for h in timeline.human_steps]
    items += [f"<li>{escape(e.kind)}: {escape(e.text)}</li>" for e in timeline.events]
    return f'<details class="tl-list"><summary>Timeline as text</summary><ul>{"".join(items)}</ul></details>'


def render_timeline(timeline: Timeline) -> str:
    """The timeline section of a case's page."""
    return (
        f'<section class="tl" aria-label="Timeline"><h2>Timeline 时间线 — {escape(timeline.who)} '
        f"<code>{escape(timeline.case_id)}</code> <span class='muted'>({escape(timeline.run_state)})</span></h2>"
        f'<div class="tl-scroll">{render_timeline_svg(timeline)}</div>{timeline_list(timeline)}</section>'
    )


TIMELINE_STYLE = """
.tl h2{font-size:16px;margin:8px 0}
.tl-scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px;padding:4px;margin-bottom:6px}
.tl-list{font-size:12px;margin-bottom:12px}
"""
