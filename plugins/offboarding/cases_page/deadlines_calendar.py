"""The deadlines calendar: the next 30 days of legal deadlines and human-step due dates, by day.

Built from the open cases (:mod:`offboarding.cases_page.overview`, the same single SELECT as the summary)
and the PRC working-day calendar (:mod:`offboarding.legal_time`): every day says whether it is a working
day, a holiday / bridged day off (a weekday off) or a make-up working day (调休, a weekend day worked).
Filterable by owner (a human step's assignees; a case's ``hr_owner`` for its legal deadlines). Things
already overdue are listed first. :func:`render_calendar` is the HTML page; :mod:`offboarding.cases_page.ics`
makes the same entries an iCalendar feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import quote, urlencode

from offboarding.cases_page.overview import Deadline, OpenCase
from offboarding.legal_time.calendar import calendar_note, is_working_day
from offboarding.legal_time.clock import LOCAL_TZ, LOCAL_TZ_NAME

CALENDAR_DAYS = 30
WORKING, WEEKEND, DAY_OFF, MAKE_UP = "working day", "weekend", "holiday / day off", "make-up working day"
_WEEKDAYS = "一二三四五六日"


@dataclass
class CalendarDay:
    day: dt.date
    kind: str  # WORKING | WEEKEND | DAY_OFF | MAKE_UP
    estimated: bool
    entries: list[Deadline] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.day:%a} 周{_WEEKDAYS[self.day.weekday()]}"


@dataclass
class DeadlineCalendar:
    first: dt.date
    days: list[CalendarDay]
    overdue: list[Deadline]
    owner: str | None
    owners: list[str]  # every owner with an entry (for the filter)

    @property
    def entries(self) -> list[Deadline]:
        return [*self.overdue, *(e for d in self.days for e in d.entries)]

    def to_json(self) -> dict[str, object]:
        return {
            "first": self.first.isoformat(),
            "owner": self.owner,
            "owners": self.owners,
            "overdue": [e.to_json() for e in self.overdue],
            "days": [
                {
                    "day": d.day.isoformat(),
                    "kind": d.kind,
                    "estimated": d.estimated,
                    "entries": [e.to_json() for e in d.entries],
                }
                for d in self.days
            ],
        }


def day_kind(day: dt.date) -> str:
    """Working day, weekend, holiday / day off, or make-up working day, by the PRC calendar."""
    working = is_working_day(day)
    weekend = day.weekday() >= 5
    if working:
        return MAKE_UP if weekend else WORKING
    return WEEKEND if weekend else DAY_OFF


def build_calendar(
    cases: Sequence[OpenCase], *, now: dt.datetime, owner: str | None = None, days: int = CALENDAR_DAYS
) -> DeadlineCalendar:
    """The calendar from today (Asia/Shanghai) for ``days`` days; only ``owner``'s entries when given."""
    today = now.astimezone(LOCAL_TZ).date()
    entries = [d for c in cases for d in c.deadlines]
    owners = sorted({o for e in entries for o in e.owners})
    if owner:
        entries = [e for e in entries if owner in e.owners]
    entries.sort(key=lambda e: (e.at, e.case_id))
    calendar_days = [
        CalendarDay(day, day_kind(day), calendar_note(day) == "estimated")
        for day in (today + dt.timedelta(days=n) for n in range(days))
    ]
    by_day = {d.day: d for d in calendar_days}
    overdue = []
    for entry in entries:
        if entry.at < now:
            if entry.kind != "legal deadline":  # a legal deadline that passed is reached, not late
                overdue.append(entry)
        elif entry.local_day in by_day:
            by_day[entry.local_day].entries.append(entry)
    return DeadlineCalendar(today, calendar_days, overdue, owner, owners)


def _entry(entry: Deadline, ui: str) -> str:
    local = entry.at.astimezone(LOCAL_TZ).strftime("%H:%M")
    css = "legal" if entry.kind == "legal deadline" else "human"
    owners = ", ".join(entry.owners) or "no owner named"
    link = f"/offboarding/cases?{urlencode({'dag_id': entry.dag_id, 'run_id': entry.run_id})}"
    return (
        f'<li class="{css}"><span class="t">{escape(local)}</span> '
        f'<span class="k">{escape(entry.kind)}</span> <b>{escape(entry.title)}</b> — '
        f'<a href="{escape(link, quote=True)}" target="_self">{escape(entry.who)}</a> '
        f'<span class="muted">({escape(owners)})</span></li>'
    )


def render_calendar(calendar: DeadlineCalendar, *, style: str, ui: str = "") -> str:
    """The calendar page (HTML)."""
    options = "".join(
        f'<option value="{escape(o, quote=True)}"{" selected" if o == calendar.owner else ""}>{escape(o)}</option>'
        for o in calendar.owners
    )
    ics = "/offboarding/calendar.ics" + (f"?owner={quote(calendar.owner, safe='')}" if calendar.owner else "")
    form = (
        '<form method="get" action="/offboarding/calendar">'
        f'<label>Owner<select name="owner"><option value="">everyone</option>{options}</select></label>'
        "<button type='submit'>Show</button></form>"
    )
    cells = []
    for day in calendar.days:
        badge = "" if day.kind in (WORKING, WEEKEND) else f'<span class="badge">{escape(day.kind)}</span>'
        if day.estimated and day.kind != WORKING:
            badge += '<span class="muted"> (estimated calendar)</span>'
        items = "".join(_entry(e, ui) for e in day.entries) or '<li class="muted">—</li>'
        cells.append(
            f'<div class="day {day.kind.split()[0].replace("/", "")}"><div class="dh">{escape(day.heading)} '
            f"{badge}</div><ul>{items}</ul></div>"
        )
    overdue = ""
    if calendar.overdue:
        shown = "".join(
            f"<li>{escape(e.at.astimezone(LOCAL_TZ).strftime('%Y-%m-%d'))} "
            + _entry(e, ui).removeprefix('<li class="human">').removeprefix('<li class="legal">')
            for e in calendar.overdue[:200]
        )
        more = (
            f"<li class='muted'>… and {len(calendar.overdue) - 200} more</li>"
            if len(calendar.overdue) > 200
            else ""
        )
        overdue = (
            f'<details class="overdue"><summary>Overdue human steps 已逾期 ({len(calendar.overdue)}) — '
            "due before today and not answered</summary>"
            f"<ul>{shown}{more}</ul></details>"
        )
    title = f"Deadlines, next {len(calendar.days)} days" + (f" — {calendar.owner}" if calendar.owner else "")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{style}{CALENDAR_STYLE}</style></head><body>"
        f"<h1>{escape(title)} 截止日历</h1>"
        f'<div class="tools"><a href="/offboarding/cases" target="_self">← cases</a>'
        f'<a href="{escape(ics, quote=True)}">iCalendar feed (.ics){" for " + escape(calendar.owner) if calendar.owner else ""}</a>'
        f'<span class="muted">times in {LOCAL_TZ_NAME}; working days by the PRC calendar (holidays, 调休)</span></div>'
        f"{form}{overdue}<div class='cal'>{''.join(cells)}</div></body></html>"
    )


CALENDAR_STYLE = """
.cal{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:8px}
.day{border:1px solid var(--line);border-radius:6px;padding:6px 8px;font-size:12px;min-height:54px}
.day ul,.overdue ul{margin:4px 0 0;padding-left:16px}
.dh{font-weight:600}
.day.weekend,.day.holiday{background:var(--head)}
.day.holiday .badge{background:var(--bad);color:#fff}
.day.make-up .badge{background:var(--warn);color:#fff}
.badge{border-radius:8px;padding:0 6px;font-size:11px;margin-left:4px;white-space:nowrap}
li.legal .k{color:#8250df;font-weight:600}
li.human .k{color:#4f8fd6;font-weight:600}
.t{font-variant-numeric:tabular-nums}
.overdue summary{font-size:14px;color:var(--bad);font-weight:600;cursor:pointer}
.overdue{font-size:12px;margin-bottom:10px}
"""
