"""Rendering a report :class:`Document` as one self-contained HTML page (inline CSS, all text escaped)."""

from __future__ import annotations

from html import escape

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

_STYLE = """
body { font-family: -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1f2328; line-height: 1.5; }
h1 { border-bottom: 2px solid #d0d7de; padding-bottom: .3em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; font-size: 14px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 90%; background: #f6f8fa;
       padding: 0 3px; border-radius: 3px; word-break: break-all; }
strong { color: #b42318; }
ul.facts { list-style: none; padding-left: 0; }
ul.facts li span.label { font-weight: 600; }
""".strip()


def render_text(text: Text) -> str:
    """One :data:`Text` as escaped inline HTML."""
    out = []
    for part in inlines(text):
        if isinstance(part, Code):
            out.append(f"<code>{escape(part.text)}</code>")
        elif isinstance(part, Strong):
            out.append(f"<strong>{escape(part.text)}</strong>")
        else:
            out.append(escape(part))
    return "".join(out)


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{render_text(block.text)}</p>"
    if isinstance(block, Facts):
        rows = "".join(
            f'<li><span class="label">{escape(label)}</span>: {render_text(value)}</li>'
            for label, value in block.rows
        )
        return f'<ul class="facts">{rows}</ul>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{render_text(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        head = "".join(f"<th>{escape(title)}</th>" for title in block.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{render_text(cell)}</td>" for cell in row) + "</tr>" for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    raise TypeError(f"unknown block {type(block).__name__}")


def render_html(document: Document) -> str:
    """The whole document as an HTML page."""
    body = "\n".join(_block(block) for block in document.blocks)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(document.title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n"
        f"<h1>{escape(document.title)}</h1>\n{body}\n</body>\n</html>\n"
    )
