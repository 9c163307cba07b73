"""The benches, by name, in the order ``make bench`` runs them.

Each bench module is imported only when it runs (most import Airflow), and exposes
``run(size: Size, workdir: Path) -> list[Row]``.
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from pathlib import Path

from benchmarks.results import Row
from benchmarks.sizes import Size


@dataclass(frozen=True)
class Bench:
    """A named bench: what it measures and the module that runs it."""

    name: str
    what: str
    module: str


BENCHES: tuple[Bench, ...] = (
    Bench(
        "parse_cost",
        "time to parse dags/ as the DAG processor does, vs a one-task DAG",
        "benchmarks.parse_cost",
    ),
    Bench(
        "waiting_cost",
        "10,000 legal waits in one triggerer: memory, CPU, worker slots, WeCom calls, vs poke-mode sensors",
        "benchmarks.waiting_cost",
    ),
    Bench(
        "wecom_calls_person",
        "WeCom calls of person cases vs the minimum they need",
        "benchmarks.wecom_economy",
    ),
    Bench(
        "company_10k",
        "a company of 10,000 members: calls vs the batching minimum, time, load",
        "benchmarks.company",
    ),
    Bench(
        "backup_throughput",
        "1 GB of WeDrive files: operator vs curl, and peak memory",
        "benchmarks.backup_throughput",
    ),
    Bench("cases_page", "time to the first cases page with 10,000 cases", "benchmarks.cases_page"),
    Bench(
        "capacity",
        "10,000 cases in flight on the distributed deployment vs none: new cases, scheduler, triggerer, "
        "api-server, database, WeCom reads and sockets",
        "benchmarks.capacity",
    ),
    Bench(
        "mass_layoff",
        "a mass layoff: N persons from one HR export, as N person cases (up to every backup verified) "
        "and as one layoff list (through its deletion), on one deployment",
        "benchmarks.mass_layoff",
    ),
)
NAMES = tuple(b.name for b in BENCHES)


def select(names: list[str] | None) -> list[Bench]:
    """The benches named (all when ``names`` is empty), in run order; an unknown name is refused."""
    if not names:
        return list(BENCHES)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise ValueError(f"--only: unknown bench {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    return [b for b in BENCHES if b.name in names]


def run_bench(bench: Bench, size: Size, workdir: Path) -> list[Row]:
    """Run one bench; a crash becomes one failed row carrying the error (the other benches still run)."""
    try:
        module = importlib.import_module(bench.module)
        rows = module.run(size, workdir)
    except Exception as err:
        last = traceback.extract_tb(err.__traceback__)[-1]
        where = f" (at {Path(last.filename).name}:{last.lineno})"
        return [Row.failed(bench.name, f"{type(err).__name__}: {err}{where}")]
    return list(rows)
