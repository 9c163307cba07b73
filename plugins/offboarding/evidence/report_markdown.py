"""Rendering a report :class:`Document` as Markdown that reads well as plain text too."""

from __future__ import annotations

import re

from offboarding.evidence.document import (
    Block,
    Bullets,
    Code,
    Document,
    Facts,
    Heading,
    Paragraph,
    Strong,
    Table,
    Text,
    inlines,
)

_SPECIAL = re.compile(r"([\\`*\[\]<>|]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|^#|&(?=#?[A-Za-z0-9]+;))")


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown syntax and raw HTML so text from WeCom or a form shows as written.

    Underscores inside words (``successor_userid``) are left alone: they never start emphasis.
    """
    return _SPECIAL.sub(r"\\\1", " ".join(text.splitlines()))


def _code(text: str) -> str:
    text = " ".join(text.splitlines())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def render_text(text: Text, *, in_table: bool = False) -> str:
    """One :data:`Text` as inline Markdown."""
    out = []
    for part in inlines(text):
        if isinstance(part, Code):
            rendered = _code(part.text)
            out.append(rendered.replace("|", "\\|") if in_table else rendered)
        elif isinstance(part, Strong):
            out.append(f"**{escape_markdown(part.text)}**")
        else:
            out.append(escape_markdown(part))
    return "".join(out)


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {escape_markdown(block.text)}"
    if isinstance(block, Paragraph):
        return render_text(block.text)
    if isinstance(block, Facts):
        return "\n".join(
            f"- **{escape_markdown(label)}**: {render_text(value)}" for label, value in block.rows
        )
    if isinstance(block, Bullets):
        return "\n".join(f"- {render_text(item)}" for item in block.items)
    if isinstance(block, Table):
        header = "| " + " | ".join(escape_markdown(title) for title in block.headers) + " |"
        rule = "|" + "|".join("---" for _ in block.headers) + "|"
        rows = [
            "| " + " | ".join(render_text(cell, in_table=True) for cell in row) + " |" for row in block.rows
        ]
        return "\n".join([header, rule, *rows])
    raise TypeError(f"unknown block {type(block).__name__}")


def render_markdown(document: Document) -> str:
    """The whole document as Markdown."""
    parts = [f"# {escape_markdown(document.title)}", *(_block(block) for block in document.blocks)]
    return "\n\n".join(parts) + "\n"
