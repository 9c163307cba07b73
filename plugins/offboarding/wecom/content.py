"""Fit a message into WeCom's byte limits without breaking a character.

WeCom counts message content in UTF-8 bytes: a group robot takes 2048 bytes of text or 4096 bytes of
markdown, an app message 2048 bytes. A longer message is cut at a character boundary and ends with
:data:`TRUNCATION_MARKER`, so the reader knows something is missing.
"""

from __future__ import annotations

TRUNCATION_MARKER = "…(truncated)"

ROBOT_TEXT_MAX_BYTES = 2048
ROBOT_MARKDOWN_MAX_BYTES = 4096
APP_MESSAGE_MAX_BYTES = 2048

#: The robot's limit per message type.
ROBOT_LIMITS: dict[str, int] = {"text": ROBOT_TEXT_MAX_BYTES, "markdown": ROBOT_MARKDOWN_MAX_BYTES}


def utf8_size(text: str) -> int:
    """How many bytes WeCom counts for ``text``."""
    return len(text.encode("utf-8"))


def fit_to_bytes(text: str, max_bytes: int, marker: str = TRUNCATION_MARKER) -> str:
    """``text`` unchanged when it fits in ``max_bytes`` UTF-8 bytes, else cut and ending with ``marker``.

    The cut is at a character boundary (a Chinese character is never split) and the result, marker
    included, is at most ``max_bytes`` bytes.
    """
    if max_bytes <= utf8_size(marker):
        raise ValueError(f"max_bytes must leave room for the truncation marker, got {max_bytes}")
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    room = max_bytes - utf8_size(marker)
    kept = encoded[:room].decode("utf-8", errors="ignore")
    return kept + marker


def message_content(*, text: str | None, markdown: str | None, owner: str) -> tuple[str, str]:
    """``(msgtype, content)`` from exactly one of ``text`` and ``markdown``.

    ``owner`` names the notifier in the error message when both or neither are given or the one
    given is empty.
    """
    given = [(name, value) for name, value in (("text", text), ("markdown", markdown)) if value is not None]
    if len(given) != 1:
        raise ValueError(f"{owner}: give exactly one of text or markdown, got {len(given)}")
    msgtype, content = given[0]
    if not isinstance(content, str) or not content.strip():
        raise ValueError(f"{owner}: {msgtype} must be non-empty text, got {content!r}")
    return msgtype, content
