"""The report's document model renders the same content safely to Markdown and HTML."""

from __future__ import annotations

from offboarding.evidence.document import Bullets, Code, Document, Facts, Heading, Paragraph, Strong, Table
from offboarding.evidence.report_html import render_html
from offboarding.evidence.report_markdown import escape_markdown, render_markdown


def _document() -> Document:
    document = Document("Report <1>")
    document.add(
        Heading("审批 Approvals"),
        Paragraph(("plain *text* ", Code("a`b"), " ", Strong("FAILED"))),
        Facts((("状态 Status", "ok"),)),
        Table(("path", "note"), ((Code("dir/a|b.txt"), "x | y"),)),
        Bullets(("one", ("two ", Code("user_id")))),
    )
    return document


def test_markdown_escapes_markup_but_keeps_words_readable() -> None:
    assert escape_markdown("successor_userid") == "successor_userid"
    assert escape_markdown("<b>*bold*</b> _x_") == "\\<b\\>\\*bold\\*\\</b\\> \\_x\\_"
    assert escape_markdown("line one\nline two") == "line one line two"


def test_markdown_rendering() -> None:
    assert render_markdown(_document()) == (
        "# Report \\<1\\>\n\n"
        "## 审批 Approvals\n\n"
        "plain \\*text\\* `` a`b `` **FAILED**\n\n"
        "- **状态 Status**: ok\n\n"
        "| path | note |\n|---|---|\n| `dir/a\\|b.txt` | x \\| y |\n\n"
        "- one\n- two `user_id`\n"
    )


def test_html_rendering_escapes_everything() -> None:
    html = render_html(_document())
    assert "<title>Report &lt;1&gt;</title>" in html
    assert "<h1>Report &lt;1&gt;</h1>" in html
    assert "<p>plain *text* <code>a`b</code> <strong>FAILED</strong></p>" in html
    assert "<td><code>dir/a|b.txt</code></td><td>x | y</td>" in html
    assert '<li><span class="label">状态 Status</span>: ok</li>' in html
