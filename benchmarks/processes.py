"""Fresh processes for measurements: run a child with its own rusage, read a process' memory from /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.environment import REPO

KIB = 1024
MB = 1_000_000
PEAK_KEY = "_peak_rss_bytes"


class ChildFailed(RuntimeError):
    """A measurement child exited non-zero or timed out; the message ends with its last output lines."""


@dataclass(frozen=True)
class ChildRun:
    """How a child process ended and what it cost (its own rusage, not its children's)."""

    returncode: int
    wall_seconds: float
    cpu_seconds: float
    max_rss_bytes: int
    output: str
    result: dict[str, Any]


def python_module(module: str, *args: str) -> list[str]:
    """``[python, -m, module, *args]`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def run_child(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    workdir: Path,
    timeout: float,
    result_name: str = "result.json",
) -> ChildRun:
    """Run ``argv`` (cwd: the repository) until it exits; its JSON result is read from ``workdir/result_name``.

    The child gets the result path in ``BENCH_RESULT_PATH``; its stdout and stderr go to a log file in
    ``workdir`` (Airflow logs a lot). CPU comes from ``wait4`` on this very child; peak RSS from the
    child's own ``VmHWM`` (written by :func:`write_result`), because Linux carries ``ru_maxrss`` over
    ``execve`` from the forked (or vforked) image of this process, which would report our size, not its.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    result_path = workdir / result_name
    result_path.unlink(missing_ok=True)
    log_path = workdir / f"{result_path.stem}.log"
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(argv),
            cwd=REPO,
            env={**env, "BENCH_RESULT_PATH": str(result_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        status, rusage = _wait(process, timeout)
    wall = time.perf_counter() - started
    returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
    process.returncode = returncode  # reaped by wait4: keep Popen from waiting again
    output = log_path.read_text("utf-8", errors="replace")
    if status is None:
        raise ChildFailed(f"{' '.join(argv[-3:])} did not finish within {timeout:.0f} s{_tail(output)}")
    if returncode != 0:
        raise ChildFailed(f"{' '.join(argv[-3:])} exited with {returncode}{_tail(output)}")
    if not result_path.is_file():
        raise ChildFailed(f"{' '.join(argv[-3:])} wrote no result{_tail(output)}")
    result = json.loads(result_path.read_text("utf-8"))
    return ChildRun(
        returncode=returncode,
        wall_seconds=wall,
        cpu_seconds=rusage.ru_utime + rusage.ru_stime if rusage else 0.0,
        max_rss_bytes=int(result.pop(PEAK_KEY, 0)),
        output=output,
        result=result,
    )


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int | None, Any]:
    deadline = time.monotonic() + timeout
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            return status, rusage
        if time.monotonic() > deadline:
            process.kill()
            os.wait4(process.pid, 0)
            return None, None
        time.sleep(0.02)


def _tail(output: str, lines: int = 15) -> str:
    tail = [line for line in output.splitlines() if line.strip()][-lines:]
    return (":\n    " + "\n    ".join(tail)) if tail else " (no output)"


def write_result(result: Mapping[str, Any]) -> None:
    """For children: write ``result`` (and this process' peak RSS) where the parent reads it."""
    path = os.environ.get("BENCH_RESULT_PATH")
    if not path:
        raise SystemExit("BENCH_RESULT_PATH is not set: run this through benchmarks.processes.run_child")
    Path(path).write_text(json.dumps({**result, PEAK_KEY: peak_rss_bytes()}, default=str), "utf-8")


def peak_rss_bytes(pid: int | str = "self") -> int:
    """The highest resident set size this process image reached (``VmHWM``, reset by ``execve``)."""
    return _status_kib(pid, "VmHWM") * KIB


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process now (``VmRSS``)."""
    return _status_kib(pid, "VmRSS") * KIB


def uss_bytes(pid: int | str = "self") -> int:
    """Unique set size: the private pages only a process holds (what one more such process adds)."""
    private = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            private += int(line.split()[1])
    return private * KIB


def open_files(pid: int | str = "self") -> int:
    """How many file descriptors (files, sockets) a process holds."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def _status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise ValueError(f"/proc/{pid}/status has no {field}")
