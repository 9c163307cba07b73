"""Render a bulk-trigger report as plain text: the rows that need attention, then a summary table."""

from __future__ import annotations

from offboarding.bulk.trigger import BulkReport, Outcome

_ORDER = (
    Outcome.TRIGGERED,
    Outcome.ALREADY_TRIGGERED,
    Outcome.WOULD_TRIGGER,
    Outcome.INVALID,
    Outcome.FAILED,
    Outcome.NOT_ATTEMPTED,
    Outcome.REFUSED_OPEN_CASE,
)


def render_report(report: BulkReport) -> str:
    """Problems by row number, what was (or would be) triggered, and the counts per outcome."""
    lines: list[str] = []
    if report.file_problems:
        lines.append("The sheet cannot be used:")
        lines.extend(f"  - {problem}" for problem in report.file_problems)
        lines.append("Nothing was triggered.")
        return "\n".join(lines) + "\n"

    invalid = [r for r in report.results if r.outcome is Outcome.INVALID]
    if invalid:
        lines.append(f"Invalid rows ({len(invalid)}; row numbers as in the sheet, header = row 1):")
        for result in invalid:
            for problem in result.problems:
                lines.append(f"  row {result.row}: {problem}")
        if report.blocked:
            lines.append(
                "Nothing was triggered: fix these rows, or pass --skip-invalid to trigger the valid rows."
            )
        lines.append("")

    if report.dry_run:
        planned = [r for r in report.results if r.outcome is Outcome.WOULD_TRIGGER]
        if planned:
            lines.append(f"Would trigger on DAG {report.dag_id} (dry run, nothing sent):")
            lines.extend(f"  row {r.row}: {r.case_id}  {r.label}".rstrip() for r in planned)
            lines.append("")

    trouble = [
        r
        for r in report.results
        if r.outcome in (Outcome.FAILED, Outcome.NOT_ATTEMPTED, Outcome.REFUSED_OPEN_CASE)
    ]
    if trouble:
        lines.append("Not triggered:")
        lines.extend(f"  row {r.row}: {r.case_id}: {r.outcome.value}: {r.detail}" for r in trouble)
        lines.append("")

    counts = report.counts()
    shown = [
        o
        for o in _ORDER
        if counts[o] or o in (Outcome.TRIGGERED, Outcome.ALREADY_TRIGGERED, Outcome.INVALID, Outcome.FAILED)
    ]
    if report.dry_run:
        shown = [o for o in shown if o not in (Outcome.TRIGGERED, Outcome.ALREADY_TRIGGERED, Outcome.FAILED)]
    width = max(len(o.value) for o in shown)
    lines.append(f"Summary for DAG {report.dag_id}:")
    lines.append(f"  {'outcome':<{width}}  rows")
    lines.append(f"  {'-' * width}  ----")
    lines.extend(f"  {o.value:<{width}}  {counts[o]:>4}" for o in shown)
    return "\n".join(lines) + "\n"
