"""Rendering a report :class:`Document` as PDF (fpdf2), with the case's timeline picture.

The PDF says what ``report.md`` and ``report.html`` say (the same :class:`Document`), plus the phases
picture. Chinese text is set in one font embedded as a subset (only the glyphs used), so the file
reads the same on any machine and ``pdftotext`` gets the text back. The font is a deployment setting
(:func:`offboarding.settings.pdf_font`, default Debian's ``fonts-noto-cjk``); a missing font is a
:class:`ReportFontError` naming the setting and the package, never a PDF with empty boxes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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
    plain,
)

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_FAMILY = "report-cjk"
"""The family name the embedded font is registered under (and the timeline picture's text uses)."""

_BODY_SIZE = 9.5
_TABLE_SIZE = 7.5
_INK = (34, 34, 34)
_CODE_INK = (40, 70, 120)
_STRONG_INK = (170, 30, 20)
_HEADER_FILL = (232, 236, 242)


class ReportFontError(RuntimeError):
    """The PDF report's font is missing or cannot be used."""


@dataclass(frozen=True)
class ReportFont:
    """The font file the PDF embeds and its face number in a collection (``.ttc``)."""

    path: Path
    index: int = 0

    @classmethod
    def from_settings(cls) -> ReportFont:
        """The deployment's font (``OFFBOARDING_PDF_FONT``); ReportFontError when it is not there."""
        from offboarding import settings

        try:
            path, index = settings.pdf_font()
        except ValueError as err:
            raise ReportFontError(str(err)) from None
        font = cls(path, index)
        font.check()
        return font

    def check(self) -> None:
        """ReportFontError unless the font file is a readable file."""
        from offboarding import settings

        if not self.path.is_file():
            raise ReportFontError(
                f"the PDF report needs a font with Chinese characters and {self.path} does not exist: "
                f"install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk) or set "
                f"{settings.PDF_FONT_ENV} to a .ttf/.otf/.ttc font that covers Chinese"
            )


def render_pdf(document: Document, *, font: ReportFont, picture_svg: str | None = None) -> bytes:
    """The whole document as PDF bytes; ``picture_svg`` (the timeline) is placed under the title."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(document.title)
    pdf.set_creator("wecom-offboarding")
    pdf.set_auto_page_break(auto=True, margin=14)
    pdf.set_margins(14, 14, 14)
    try:
        pdf.add_font(FONT_FAMILY, fname=str(font.path), collection_font_number=font.index)
    except Exception as err:  # fpdf2/fontTools raise several types for a file that is not a usable font
        raise ReportFontError(
            f"the PDF report's font {font.path} (face {font.index}) cannot be used: {err}"
        ) from None
    pdf.set_font(FONT_FAMILY, size=_BODY_SIZE)
    pdf.set_text_color(*_INK)
    pdf.add_page()
    pdf.set_font_size(15)
    pdf.multi_cell(0, 8, document.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if picture_svg:
        pdf.image(io.BytesIO(picture_svg.encode("utf-8")), w=pdf.epw)
        pdf.ln(3)
    for block in document.blocks:
        _block(pdf, block)
    return bytes(pdf.output())


def _block(pdf: FPDF, block: Block) -> None:
    if isinstance(block, Heading):
        pdf.ln(2 if block.level > 2 else 4)
        pdf.set_font_size(12.5 if block.level == 2 else 10.5)
        pdf.multi_cell(0, 6.5, block.text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font_size(_BODY_SIZE)
        pdf.ln(1)
    elif isinstance(block, Paragraph):
        _write_text(pdf, block.text)
        pdf.ln(6)
    elif isinstance(block, Bullets):
        for item in block.items:
            _write_text(pdf, ("• ", *inlines(item)))
            pdf.ln(5)
        pdf.ln(1)
    elif isinstance(block, Facts):
        _table(pdf, None, block.rows, widths=(32, 68))
    elif isinstance(block, Table):
        _table(pdf, block.headers, block.rows, widths=_column_widths(block))
    else:
        raise TypeError(f"unknown block {type(block).__name__}")


def _write_text(pdf: FPDF, text: Text) -> None:
    for part in inlines(text):
        pdf.set_text_color(*_colour(part))
        pdf.write(4.8, part if isinstance(part, str) else part.text)
    pdf.set_text_color(*_INK)


def _colour(part: object) -> tuple[int, int, int]:
    if isinstance(part, Strong):
        return _STRONG_INK
    if isinstance(part, Code):
        return _CODE_INK
    return _INK


def _table(
    pdf: FPDF,
    headers: tuple[str, ...] | None,
    rows: tuple[tuple[str, Text], ...] | tuple[tuple[Text, ...], ...],
    *,
    widths: tuple[float, ...],
) -> None:
    from fpdf.enums import TableCellFillMode, WrapMode
    from fpdf.fonts import FontFace

    pdf.set_font_size(_TABLE_SIZE)
    with pdf.table(
        col_widths=widths,
        first_row_as_headings=headers is not None,
        headings_style=FontFace(fill_color=_HEADER_FILL),
        cell_fill_mode=TableCellFillMode.NONE,
        line_height=3.6,
        text_align="LEFT",
        wrapmode=WrapMode.CHAR,
        borders_layout="HORIZONTAL_LINES",
        padding=0.8,
    ) as table:
        if headers is not None:
            heading = table.row()
            for title in headers:
                heading.cell(title)
        for row in rows:
            cells = table.row()
            for cell in row:
                cells.cell(plain(cell), style=FontFace(color=_cell_colour(cell)))
    pdf.set_font_size(_BODY_SIZE)
    pdf.ln(2)


def _cell_colour(cell: Text) -> tuple[int, int, int]:
    parts = inlines(cell)
    if any(isinstance(part, Strong) for part in parts):
        return _STRONG_INK
    if parts and all(isinstance(part, Code) for part in parts):
        return _CODE_INK
    return _INK


def _column_widths(table: Table) -> tuple[float, ...]:
    """Relative widths: each column as wide as its longest cell, between 6 and 40 characters."""
    widths = []
    for column, title in enumerate(table.headers):
        longest = max([len(title), *(len(plain(row[column])) for row in table.rows if column < len(row))])
        widths.append(float(min(max(longest, 6), 40)))
    return tuple(widths)


__all__ = ["FONT_FAMILY", "ReportFont", "ReportFontError", "render_pdf"]
