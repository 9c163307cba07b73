"""A tiny document model for the case report, rendered to both Markdown and HTML.

The report is built once as blocks and rendered twice, so ``report.md`` and ``report.html`` always say
the same thing. Inline text is a plain ``str`` (escaped on output), :class:`Code` (identifiers, paths,
hashes) or :class:`Strong`; a :data:`Text` is one inline or a tuple of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Code:
    """An identifier shown verbatim: a userid, a path, an action, a hash."""

    text: str


@dataclass(frozen=True)
class Strong:
    """Text that must stand out, e.g. a failed status."""

    text: str


Inline = str | Code | Strong
Text = Inline | tuple[Inline, ...]


@dataclass(frozen=True)
class Heading:
    """A section title (level 2 or 3; the document title is level 1)."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of text."""

    text: Text


@dataclass(frozen=True)
class Facts:
    """Labelled values, e.g. ``Case (案件): offboard-zhangsan``."""

    rows: tuple[tuple[str, Text], ...]


@dataclass(frozen=True)
class Table:
    """A table with a header row."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Text, ...], ...]


@dataclass(frozen=True)
class Bullets:
    """A bulleted list."""

    items: tuple[Text, ...]


Block = Heading | Paragraph | Facts | Table | Bullets


@dataclass
class Document:
    """A titled list of blocks."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        """Append blocks in order."""
        self.blocks.extend(blocks)


def inlines(text: Text) -> tuple[Inline, ...]:
    """A :data:`Text` as a tuple of inlines."""
    return text if isinstance(text, tuple) else (text,)


def plain(text: Text) -> str:
    """A :data:`Text` without any markup (for titles and tests)."""
    return "".join(part if isinstance(part, str) else part.text for part in inlines(text))
