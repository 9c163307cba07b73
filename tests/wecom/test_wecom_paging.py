"""Paging helpers and per-item result types (pure functions; the API groups use them against the sandbox)."""

from __future__ import annotations

from typing import Any

import pytest

from offboarding.wecom import BatchDeleteResult, ItemFailure, ItemResults, WeComError, chunked, iter_cursor
from offboarding.wecom.paging import iter_start_limit, unique_strings


def test_chunked_cuts_into_bounded_lists() -> None:
    assert [len(c) for c in chunked(range(450), 200)] == [200, 200, 50]
    assert list(chunked([], 100)) == []
    assert list(chunked(iter("abc"), 1)) == [["a"], ["b"], ["c"]]
    with pytest.raises(ValueError, match="chunk size"):
        list(chunked([1], 0))


def test_iter_cursor_follows_next_cursor_until_empty() -> None:
    pages = {"": {"items": [1, 2], "next_cursor": "c1"}, "c1": {"items": [3], "next_cursor": ""}}
    asked: list[str] = []

    def fetch(cursor: str) -> dict[str, Any]:
        asked.append(cursor)
        return pages[cursor]

    assert list(iter_cursor(fetch, "items")) == [1, 2, 3]
    assert asked == ["", "c1"]


def test_iter_cursor_stops_on_is_last_and_refuses_a_stuck_cursor() -> None:
    assert list(iter_cursor(lambda c: {"items": [1], "next_cursor": "x", "is_last": True}, "items")) == [1]
    with pytest.raises(WeComError, match="did not advance"):
        list(iter_cursor(lambda c: {"items": [1], "next_cursor": "same"}, "items", path="/cgi-bin/x"))


def test_iter_start_limit_follows_next_start() -> None:
    def fetch(start: int) -> dict[str, Any]:
        return {"list": [start, start + 1], "has_more": start < 4, "next_start": start + 2}

    assert list(iter_start_limit(fetch, lambda page: page["list"])) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(WeComError, match="did not advance"):
        list(iter_start_limit(lambda s: {"list": [], "has_more": True, "next_start": 0}, lambda p: p["list"]))


def test_unique_strings_keeps_order_and_names_the_field() -> None:
    assert unique_strings(["b", "a", "b"], "userids") == ["b", "a"]
    with pytest.raises(ValueError, match="external_userids"):
        unique_strings(["a", 3], "external_userids")


def test_item_results_ok_merge_and_dict() -> None:
    results = ItemResults(succeeded=["a"])
    assert results.ok
    results.extend(ItemResults(in_progress=["b"], failed=[ItemFailure("c", 40096, "bad id")]))
    assert not results.ok and results.failed_items() == ["c"]
    assert results.to_dict() == {
        "succeeded": ["a"],
        "in_progress": ["b"],
        "failed": [{"item": "c", "errcode": 40096, "errmsg": "bad id"}],
        "ok": False,
    }
    assert BatchDeleteResult(deleted=["x"], already_gone=["y"]).ok
