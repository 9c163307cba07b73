"""``make demo`` for real: sandboxes + ``airflow standalone`` + sample cases, as a subprocess.

The product's main job (the issue): with AUTO_ANSWER the sample cases finish unattended within 10
minutes, and Ctrl-C stops the responder, Airflow and the sandboxes, leaving no process behind.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboarding_dev.testing.airflow import free_port

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

ISSUE_BUDGET_SECONDS = 600  # "The sample cases finish within 10 minutes with AUTO_ANSWER."
SAMPLE_RUN_IDS = ("offboard-lisi", "offboard-sunqi")


class DemoProcess:
    """``python -m offboarding_dev.demo`` in its own session (like a terminal's foreground job)."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.home = tmp_path / "airflow-home"
        self.output = tmp_path / "demo.out"
        command = [
            sys.executable,
            "-m",
            "offboarding_dev.demo",
            "--port",
            str(free_port()),
            "--home",
            str(self.home),
            "--sandbox-port",
            "0",
            "--company-sandbox-port",
            "0",
            *args,
        ]
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def wait_for_output(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.process.poll() is None, f"the demo exited early:\n{self.tail()}"
            assert time.monotonic() < deadline, f"no {needle!r} after {timeout}s:\n{self.tail()}"
            time.sleep(1)

    def sandbox_urls(self) -> list[str]:
        return sorted(set(re.findall(r"WeCom sandbox\b.*?(http://127\.0\.0\.1:\d+)", self.text())))

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[list[DemoProcess]]:
    started: list[DemoProcess] = []
    yield started
    for demo in started:  # only if a test failed half-way: never leave a demo running
        demo.kill()


def processes_of(home: Path) -> list[int]:
    """Live processes whose AIRFLOW_HOME is ``home`` (the demo's Airflow components)."""
    marker = f"AIRFLOW_HOME={home}\0".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ and state != "Z":
            found.append(int(entry))
    return found


def accepts_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, int(port))) == 0


def assert_everything_stopped(demo: DemoProcess) -> None:
    urls = demo.sandbox_urls()
    assert urls, demo.tail()
    deadline = time.monotonic() + 15
    while processes_of(demo.home) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_of(demo.home) == [], "Airflow processes survived the demo"
    assert [u for u in urls if accepts_connections(u)] == [], "a WeCom sandbox survived the demo"


def test_the_sample_cases_finish_unattended_within_the_issue_budget(
    tmp_path: Path, demo_process: list[DemoProcess]
) -> None:
    started = time.monotonic()
    demo = DemoProcess(tmp_path, "--auto-answer", "--exit-when-done", "--timeout", str(ISSUE_BUDGET_SECONDS))
    demo_process.append(demo)
    try:
        code = demo.process.wait(ISSUE_BUDGET_SECONDS + 120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo did not exit:\n{demo.tail()}")
    elapsed = time.monotonic() - started
    out = demo.text()
    assert code == 0, demo.tail(120)
    assert elapsed < ISSUE_BUDGET_SECONDS, f"took {elapsed:.0f}s"
    assert "Airflow UI        http://127.0.0.1:" in out and "log in as admin / " in out
    summary = out.split("all sample cases finished", 1)[1]
    for run_id in SAMPLE_RUN_IDS:
        assert re.search(rf"{run_id}\s+success", summary), summary
    assert "responder: answered offboard-lisi approve_deletion as approver: Approve" in out
    assert (
        "responder: answered offboard-lisi account_deregistration.confirm_deregistration_outcome as lisi"
        in out
    )

    passwords = demo.home / "simple_auth_manager_passwords.json"
    assert stat.S_IMODE(passwords.stat().st_mode) == 0o600
    assert {"admin", "hr", "approver", "legal_rep", "finance", "lisi", "sunqi"} <= set(
        json.loads(passwords.read_text())
    )
    sessions = list((demo.home / "rehearsals").iterdir())
    assert len(sessions) == 1
    for run_id in SAMPLE_RUN_IDS:
        assert (sessions[0] / "data" / "cases" / run_id).is_dir()
    assert_everything_stopped(demo)


def test_ctrl_c_stops_the_responder_airflow_and_the_sandboxes(
    tmp_path: Path, demo_process: list[DemoProcess]
) -> None:
    demo = DemoProcess(tmp_path, "--auto-answer")
    demo_process.append(demo)
    demo.wait_for_output("Ctrl-C stops everything.", timeout=400)
    demo.wait_for_output("triggered offboard-sunqi", timeout=60)
    assert processes_of(demo.home), "Airflow should be running now"
    os.killpg(demo.process.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the foreground group
    try:
        code = demo.process.wait(120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo did not stop on Ctrl-C:\n{demo.tail()}")
    assert code == 0, demo.tail()
    assert "SIGINT: stopped the responder, Airflow and the WeCom sandboxes" in demo.text()
    assert_everything_stopped(demo)


def test_sigterm_while_airflow_starts_stops_everything_it_started(
    tmp_path: Path, demo_process: list[DemoProcess]
) -> None:
    demo = DemoProcess(tmp_path)
    demo_process.append(demo)
    demo.wait_for_output("starting Airflow on", timeout=120)
    deadline = time.monotonic() + 120
    while len(processes_of(demo.home)) < 3:  # standalone has spawned its components
        assert time.monotonic() < deadline, demo.tail()
        time.sleep(0.2)
    demo.process.send_signal(signal.SIGTERM)  # only the demo: Airflow and the sandboxes are its to stop
    try:
        code = demo.process.wait(120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the demo did not stop on SIGTERM:\n{demo.tail()}")
    assert code == 0, demo.tail()
    assert "SIGTERM: stopped the responder, Airflow and the WeCom sandboxes" in demo.text()
    assert "Airflow UI" not in demo.text()
    assert_everything_stopped(demo)
