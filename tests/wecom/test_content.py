"""Message sizing for WeCom's byte limits (``offboarding.wecom.content``), without a server."""

from __future__ import annotations

import pytest

from offboarding.wecom.content import (
    ROBOT_LIMITS,
    TRUNCATION_MARKER,
    fit_to_bytes,
    message_content,
    utf8_size,
)


def test_text_that_fits_is_unchanged() -> None:
    assert fit_to_bytes("离职交接", 2048) == "离职交接"


def test_a_long_text_is_cut_at_a_character_boundary_and_marked() -> None:
    text = "交" * 1000  # 3000 bytes
    cut = fit_to_bytes(text, ROBOT_LIMITS["text"])
    assert cut.endswith(TRUNCATION_MARKER)
    assert utf8_size(cut) <= 2048
    assert set(cut.removesuffix(TRUNCATION_MARKER)) == {"交"}  # no broken character
    assert utf8_size(cut) > 2048 - 3  # as much as fits


def test_the_limit_must_leave_room_for_the_marker() -> None:
    with pytest.raises(ValueError, match="room for the truncation marker"):
        fit_to_bytes("x" * 100, utf8_size(TRUNCATION_MARKER))


def test_exactly_one_of_text_and_markdown() -> None:
    assert message_content(text="hi", markdown=None, owner="robot") == ("text", "hi")
    with pytest.raises(ValueError, match=r"^robot: give exactly one of text or markdown, got 2$"):
        message_content(text="a", markdown="b", owner="robot")
    with pytest.raises(ValueError, match=r"^robot: markdown must be non-empty text"):
        message_content(text=None, markdown=" ", owner="robot")
