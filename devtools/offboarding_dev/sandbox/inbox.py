"""The sandbox's inbox page: the robot and app messages as a person would see them in WeCom.

``GET /sandbox/inbox`` is a readable HTML page (no JavaScript; it reloads itself every few seconds) with
one column per place a message lands: each group robot (by a short hash of its key: the key is a
credential) and each member's app-message inbox, newest first, with the time in China and the WeCom
markdown rendered. Every character of a message is escaped first; only the markdown WeCom itself
renders is turned into markup afterwards: ``**bold**``, ``` `code` ```, ``> quote`` lines, ``#``
headings, ``<font color="info|comment|warning">`` and links whose address is http(s).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

CHINA = timezone(timedelta(hours=8), "CST")
REFRESH_SECONDS = 5
FONT_COLOURS = {"info": "#2e7d32", "comment": "#777777", "warning": "#e65100"}

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)")
_FONT = re.compile(r"&lt;font color=&quot;(info|comment|warning)&quot;&gt;(.*?)&lt;/font&gt;")


def render_markdown(text: str) -> str:
    """WeCom markdown as safe HTML: everything escaped, then WeCom's few marks turned into tags."""
    blocks = []
    for line in text.splitlines():
        quoted = line.startswith(">")
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        body = line[1:].lstrip() if quoted else heading.group(2) if heading else line
        rendered = _inline(body)
        if heading:
            blocks.append(f'<div class="h">{rendered}</div>')
        elif quoted:
            blocks.append(f'<div class="q">{rendered}</div>')
        else:
            blocks.append(f"<div>{rendered or '&nbsp;'}</div>")
    return "".join(blocks)


def _inline(text: str) -> str:
    escaped = html.escape(text, quote=True)
    escaped = _FONT.sub(
        lambda m: f'<span style="color:{FONT_COLOURS[m.group(1)]}">{m.group(2)}</span>', escaped
    )
    escaped = _LINK.sub(_link, escaped)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def _link(match: re.Match[str]) -> str:
    # the address is already escaped (&amp; etc.) and starts with http(s)://: safe inside href="..."
    return f'<a href="{match.group(2)}" rel="noreferrer noopener">{match.group(1)}</a>'


def china_time(at: str | None) -> str:
    """``2026-12-04 18:02:05`` (China time) of the sandbox's ISO instant; the text as given if unreadable."""
    if not at:
        return ""
    try:
        instant = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def inboxes(
    robot_messages: Iterable[Mapping[str, Any]],
    app_messages: Iterable[Mapping[str, Any]],
    names: Mapping[str, str],
) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """``(title, messages newest first)`` per group robot, then per member who got app messages."""
    places: dict[str, list[Mapping[str, Any]]] = {}
    for record in robot_messages:
        places.setdefault(f"群机器人 Group robot {record.get('key_hash', '?')}", []).append(record)
    for record in app_messages:
        for userid in record.get("touser") or []:
            name = names.get(userid)
            title = (
                f"应用消息 App messages to {name} ({userid})"
                if name
                else f"应用消息 App messages to {userid}"
            )
            places.setdefault(title, []).append(record)
    return [
        (title, sorted(records, key=lambda r: str(r.get("at")), reverse=True))
        for title, records in places.items()
    ]


def render_inbox(
    robot_messages: Iterable[Mapping[str, Any]],
    app_messages: Iterable[Mapping[str, Any]],
    names: Mapping[str, str],
    *,
    refresh: int = REFRESH_SECONDS,
) -> str:
    """The whole page."""
    columns = []
    for title, records in inboxes(robot_messages, app_messages, names):
        cards = "".join(
            '<article class="msg">'
            f'<div class="meta">{html.escape(china_time(record.get("at")))} (北京时间) · '
            f"{html.escape(str(record.get('msgtype', '')))}</div>"
            f"{render_markdown(str(record.get('content', '')))}</article>"
            for record in records
        )
        columns.append(
            f'<section class="inbox"><h2>{html.escape(title)} <small>({len(records)})</small></h2>{cards}</section>'
        )
    body = "".join(columns) or '<p class="empty">No messages yet (还没有消息).</p>'
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{int(refresh)}">'
        "<title>WeCom sandbox inbox</title><style>"
        "body{font-family:system-ui,'Noto Sans CJK SC',sans-serif;background:#ededed;margin:0;padding:12px;color:#222}"
        "h1{font-size:18px;margin:4px 0 12px}h2{font-size:14px;margin:0 0 8px}small{color:#777}"
        ".wrap{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
        ".inbox{background:#f7f7f7;border-radius:8px;padding:10px;width:440px;max-width:100%}"
        ".msg{background:#fff;border-radius:6px;padding:8px 10px;margin:0 0 8px;font-size:13px;line-height:1.5;"
        "box-shadow:0 1px 1px rgba(0,0,0,.08);overflow-wrap:anywhere}"
        ".meta{color:#888;font-size:11px;margin-bottom:4px}.q{color:#555;border-left:3px solid #ddd;padding-left:6px}"
        ".h{font-weight:600}code{background:#f2f2f2;padding:0 3px;border-radius:3px}a{color:#1565c0}"
        "@media (prefers-color-scheme:dark){body{background:#191919;color:#ddd}.inbox{background:#222}"
        ".msg{background:#2b2b2b}.q{color:#aaa;border-color:#444}code{background:#333}a{color:#64b5f6}}"
        "</style></head><body>"
        f"<h1>WeCom sandbox inbox <small>robot and app messages, newest first; reloads every {int(refresh)} s</small></h1>"
        f'<div class="wrap">{body}</div></body></html>'
    )


__all__ = ["china_time", "inboxes", "render_inbox", "render_markdown"]
