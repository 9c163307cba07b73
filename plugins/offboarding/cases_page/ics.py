"""The deadlines calendar as an iCalendar feed (RFC 5545), written by hand (no dependency).

Every entry is a ``VEVENT`` at its instant in UTC (``DTSTART:20270110T160000Z``: 24:00 Asia/Shanghai of
10 January), so every calendar program shows it in its own time zone correctly without a ``VTIMEZONE``;
``X-WR-TIMEZONE:Asia/Shanghai`` tells the ones that care which zone the deadlines belong to. Text is
escaped (``\\``, ``;``, ``,``, newlines) and lines are folded at 75 octets (UTF-8 safe), CRLF line ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from urllib.parse import urlencode

from offboarding.cases_page.overview import Deadline
from offboarding.legal_time.clock import LOCAL_TZ_NAME

PRODID = "-//offboarding//deadlines calendar//EN"
EVENT_LENGTH = "PT15M"


def escape_text(value: str) -> str:
    """RFC 5545 TEXT escaping."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _uid(entry: Deadline) -> str:
    key = f"{entry.dag_id}/{entry.run_id}/{entry.task_id or entry.title}/{entry.kind}"
    return "".join(c if c.isalnum() or c in "-._/" else "_" for c in key) + "@offboarding"


def to_ics(
    entries: Iterable[Deadline], *, now: dt.datetime, owner: str | None = None, base_url: str = ""
) -> str:
    """The feed (text with CRLF line ends)."""
    name = f"Offboarding deadlines{f' — {owner}' if owner else ''}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{LOCAL_TZ_NAME}",
    ]
    for entry in entries:
        link = f"{base_url}/offboarding/cases?{urlencode({'dag_id': entry.dag_id, 'run_id': entry.run_id})}"
        description = (
            f"{entry.kind}: {entry.title}\n{entry.who} ({entry.case_id})\n{entry.at_local}\n"
            f"owners: {', '.join(entry.owners) or 'none named'}\n{link}"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_uid(entry)}",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(entry.at)}",
            f"DURATION:{EVENT_LENGTH}",
            f"SUMMARY:{escape_text(f'[{entry.kind}] {entry.title} — {entry.who}')}",
            f"DESCRIPTION:{escape_text(description)}",
            f"CATEGORIES:{escape_text(entry.kind)}",
            f"URL:{link}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


__all__ = ["escape_text", "fold", "to_ics"]
