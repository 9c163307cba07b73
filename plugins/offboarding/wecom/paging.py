"""Paging helpers shared by the API groups: cursor paging, start/limit paging, and ``chunked``.

WeCom pages lists two ways: a ``next_cursor`` string (empty when done; some APIs add ``is_last``) or
``start``/``limit`` with ``has_more``/``next_start``. Write calls take bounded lists (≤100, ≤200, ≤1000),
so inputs are cut with :func:`chunked`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from offboarding.wecom.errors import WeComError

T = TypeVar("T")

Page = dict[str, Any]


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items (the last one may be shorter; none is empty)."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"chunk size must be a positive integer, got {size!r}")
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def iter_cursor(
    fetch: Callable[[str], Page],
    items_key: str,
    *,
    cursor_key: str = "next_cursor",
    path: str = "",
) -> Iterator[Any]:
    """Every item of ``page[items_key]`` across pages; ``fetch(cursor)`` gets one page ("" = first)."""
    cursor = ""
    seen: set[str] = set()
    while True:
        page = fetch(cursor)
        yield from page.get(items_key) or []
        cursor = str(page.get(cursor_key) or "")
        if not cursor or page.get("is_last") is True:
            return
        if cursor in seen:
            raise WeComError(
                0, f"cursor {cursor[:16]}... came back twice", path, hint="WeCom's paging did not advance"
            )
        seen.add(cursor)


def iter_start_limit(
    fetch: Callable[[int], Page],
    items_of: Callable[[Page], Sequence[Any]],
    *,
    path: str = "",
) -> Iterator[Any]:
    """Every item across ``start``/``limit`` pages; ``fetch(start)`` gets one page (0 = first)."""
    start = 0
    while True:
        page = fetch(start)
        yield from items_of(page)
        if not page.get("has_more"):
            return
        next_start = int(page.get("next_start") or 0)
        if next_start <= start:
            raise WeComError(
                0, f"next_start {next_start} after {start}", path, hint="WeCom's paging did not advance"
            )
        start = next_start


def unique_strings(values: Iterable[Any], field: str) -> list[str]:
    """Validate a list of ids (non-empty strings) and drop duplicates, keeping the order."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{field} must be a list of ids, not a single string")
    result: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{field} must hold non-empty string ids, got {value!r}")
        if value not in seen:
            seen.add(value)
            result.append(value)
    return result


def require_id(value: Any, field: str) -> str:
    """``value`` if it is a non-empty string id, else a ValueError naming ``field``."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be a non-empty string, got {value!r}")
    return value
