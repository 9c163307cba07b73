"""The command line: pick the benches and the size, run them, print the table, write the results."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from benchmarks.environment import REPO, prepare_this_process
from benchmarks.machine import describe_machine, summary
from benchmarks.registry import BENCHES, NAMES, run_bench, select
from benchmarks.results import Row
from benchmarks.sizes import Size
from benchmarks.table import format_markdown, format_table

DEFAULT_OUTPUT = REPO / ".bench" / "results.json"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the offboarding product against the limits that matter. Timings are medians of "
        "repeated runs with a baseline measured in the same run.",
        epilog="Benches: " + "; ".join(f"{b.name}: {b.what}" for b in BENCHES),
    )
    parser.add_argument(
        "--quick", action="store_true", help="run everything at small sizes (seconds, for tests)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this bench (repeatable): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where to write the results JSON (default: .bench/results.json); a .md table is written beside it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs of the children)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        benches = select(args.only)
    except ValueError as err:
        parser.error(str(err))
    size = Size(quick=args.quick)
    workdir = Path(tempfile.mkdtemp(prefix="offboarding-bench-"))
    prepare_this_process(workdir)
    machine = describe_machine()
    started = dt.datetime.now(dt.UTC)
    rows: list[Row] = []
    log_path = args.output.parent / "bench.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with output_to(log_path) as terminal:
            _say(terminal, f"[bench] Airflow, sandbox and operator logs go to {log_path}")
            for bench in benches:
                began = time.perf_counter()
                _say(terminal, f"[bench] {bench.name} ({size.label}): {bench.what} ...")
                rows.extend(run_bench(bench, size, workdir / bench.name))
                _say(terminal, f"[bench] {bench.name} done in {time.perf_counter() - began:.0f} s")
    finally:
        if args.keep:
            print(f"[bench] scratch folder kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "date": started.isoformat(timespec="seconds"),
        "size": size.label,
        "machine": machine,
        "rows": [r.to_json() for r in rows],
    }
    write_results(args.output, report, rows)
    print(f"Benchmarks {size.label}, {started:%Y-%m-%d %H:%M} UTC, {summary(machine)}")
    print(format_table(rows))
    print(f"\nResults written to {args.output}")
    return 1 if any(r.notes.startswith("bench failed") for r in rows) else 0


def write_results(output: Path, report: dict[str, object], rows: list[Row]) -> None:
    """The JSON report, and the same table as Markdown beside it (``results.md``)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")
    output.with_suffix(".md").write_text(format_markdown(rows) + "\n", "utf-8")


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[TextIO]:
    """Send everything written to stdout/stderr (Airflow's logs, the sandbox's) to ``log_path``.

    Redirects the file descriptors, so loggers that captured ``sys.stdout`` earlier and child processes
    are redirected too. Yields the terminal (the original stderr) for progress lines.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    with log_path.open("w", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


def _say(terminal: TextIO, text: str) -> None:
    print(text, file=terminal, flush=True)
