"""The results table: as plain text for the terminal and as Markdown for the README section."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.results import Row

HEADERS = ("name", "value", "unit", "baseline", "ratio", "goal", "met")


def format_number(value: float | None) -> str:
    """A number as a reader wants it: ``—`` when missing, thousands separated, 3 significant digits."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return f"{value:.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 0.01:
        return f"{value:.3g}" if magnitude < 1 else f"{value:.2f}"
    return f"{value:.2g}"


def format_ratio(ratio: float | None) -> str:
    return "—" if ratio is None else f"{format_number(ratio)}×"


def format_met(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[met]


def cells(row: Row) -> tuple[str, ...]:
    return (
        row.name,
        format_number(row.value),
        row.unit,
        format_number(row.baseline),
        format_ratio(row.ratio),
        row.goal or "—",
        format_met(row.met),
    )


def format_table(rows: Sequence[Row]) -> str:
    """The aligned text table, then every row's notes, then the goals missed (if any)."""
    lines = [tuple(HEADERS), *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    text = []
    for n, line in enumerate(lines):
        text.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            text.append("  ".join("-" * w for w in widths))
    noted = [r for r in rows if r.notes]
    if noted:
        text.append("")
        text.append("Notes:")
        text.extend(f"- {r.name}: {r.notes}" for r in noted)
    missed = [r for r in rows if r.met is False]
    text.append("")
    if missed:
        text.append(f"Goals missed ({len(missed)}): " + ", ".join(r.name for r in missed))
    else:
        text.append("Every goal that was measured is met.")
    return "\n".join(text)


def format_markdown(rows: Sequence[Row]) -> str:
    """A Markdown table (with a notes column) for the README's "Benchmarks" section."""
    header = [*HEADERS, "notes"]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        values = [*cells(row), row.notes]
        out.append("| " + " | ".join(_markdown_cell(v) for v in values) + " |")
    return "\n".join(out)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
