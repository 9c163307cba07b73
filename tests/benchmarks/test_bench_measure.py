"""Medians, alternating baseline/subject runs, and measurement children with their own rusage."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.measure import alternate, median
from benchmarks.processes import ChildFailed, open_files, rss_bytes, run_child, uss_bytes


def test_median_refuses_no_measurement() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    with pytest.raises(ValueError, match="measured nothing"):
        median([])


def test_alternate_runs_baseline_then_subject_each_round() -> None:
    order: list[str] = []

    def measure(name: str, value: float) -> float:
        order.append(name)
        return value

    paired = alternate(lambda: measure("s", 2.0), lambda: measure("b", 1.0), 3)
    assert order == ["b", "s", "b", "s", "b", "s"]
    assert paired.subject_median == 2.0 and paired.baseline_median == 1.0
    assert "over 3 runs each" in paired.spread()
    with pytest.raises(ValueError, match="repeats"):
        alternate(lambda: 1.0, lambda: 1.0, 0)


CHILD = """
from benchmarks.processes import write_result
block = bytearray({mib} * 1024 * 1024)
block[::4096] = b"x" * len(block[::4096])
write_result({{"touched": len(block)}})
print("done")
"""


def test_a_child_reports_its_own_peak_memory_not_its_parents(tmp_path: Path) -> None:
    ballast = bytearray(300 * 1024 * 1024)  # this process is big; the child must not inherit our peak
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = run_child([sys.executable, "-c", CHILD.format(mib=8)], env={}, workdir=tmp_path, timeout=60)
    large = run_child([sys.executable, "-c", CHILD.format(mib=80)], env={}, workdir=tmp_path, timeout=60)
    assert small.result == {"touched": 8 * 1024 * 1024}
    assert small.max_rss_bytes < 100 * 1024 * 1024 < 300 * 1024 * 1024
    # 72 MiB more touched; the interpreter's own share differs by a few MiB from one start to the next.
    assert large.max_rss_bytes - small.max_rss_bytes > 60 * 1024 * 1024
    assert large.cpu_seconds > 0 and large.wall_seconds > 0
    assert "done" in large.output
    del ballast


def test_a_failing_child_says_how_it_ended(tmp_path: Path) -> None:
    with pytest.raises(ChildFailed, match=r"exited with 3:\n    boom"):
        run_child(
            [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
            env={},
            workdir=tmp_path,
            timeout=60,
        )
    with pytest.raises(ChildFailed, match="wrote no result"):
        run_child([sys.executable, "-c", "pass"], env={}, workdir=tmp_path, timeout=60)
    with pytest.raises(ChildFailed, match="did not finish within 1 s"):
        run_child([sys.executable, "-c", "import time; time.sleep(30)"], env={}, workdir=tmp_path, timeout=1)


def test_this_process_memory_and_files_are_read_from_proc() -> None:
    assert rss_bytes() > uss_bytes() > 0
    assert open_files() >= 3
