"""``running_sandbox``: start the sandbox as a subprocess for a test (or a rehearsal) and stop it after."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import requests

from offboarding_dev.sandbox.cli import build_parser
from offboarding_dev.sandbox.config import DEFAULT_CORPID, DEFAULT_SECRET
from offboarding_dev.sandbox.control import SandboxControl

_LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass
class RunningSandbox:
    """A running sandbox process and what a client needs to talk to it."""

    base_url: str
    port: int
    corpid: str
    secret: str
    agent_id: int
    webhook_key: str
    webhook_keys: tuple[str, ...]
    control: SandboxControl
    process: subprocess.Popen[str] = field(repr=False)

    def webhook_url(self, key: str | None = None) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={key or self.webhook_key}"

    def __repr__(self) -> str:  # no secret, no webhook key
        return f"RunningSandbox(base_url={self.base_url!r}, corpid={self.corpid!r}, agent_id={self.agent_id})"


@contextlib.contextmanager
def running_sandbox(
    seed: str = "default",
    time_scale: float = 1.0,
    corpid: str = DEFAULT_CORPID,
    secret: str = DEFAULT_SECRET,
    extra_args: Sequence[str] = (),
    *,
    host: str = "127.0.0.1",
    startup_timeout: float = 30.0,
) -> Iterator[RunningSandbox]:
    """Start ``python -m offboarding_dev.sandbox --port 0 ...``, wait until it answers, yield, terminate."""
    argv = [
        "--host",
        host,
        "--port",
        "0",
        "--seed",
        seed,
        "--time-scale",
        repr(float(time_scale)),
        "--corpid",
        corpid,
        "--secret",
        secret,
        *extra_args,
    ]
    options = build_parser().parse_args(argv)  # bad arguments fail here, with argparse's message
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "offboarding_dev.sandbox", *argv],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base_url = _wait_for_listening_line(process, startup_timeout)
        threading.Thread(target=_drain, args=(process,), daemon=True).start()
        control = SandboxControl(base_url)
        _wait_until_answering(control, process, startup_timeout)
        keys = tuple(options.webhook_keys or ("sandbox-robot-key",))
        yield RunningSandbox(
            base_url=base_url,
            port=int(base_url.rsplit(":", 1)[1]),
            corpid=corpid,
            secret=secret,
            agent_id=options.agent_id,
            webhook_key=keys[0],
            webhook_keys=keys,
            control=control,
            process=process,
        )
    finally:
        _stop(process)


def _wait_for_listening_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    result: list[str] = []

    def read() -> None:
        line = process.stdout.readline() if process.stdout else ""
        result.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    line = result[0] if result else ""
    match = _LISTENING.search(line)
    if match is None:
        _stop(process)
        raise RuntimeError(
            f"the WeCom sandbox did not start (exit code {process.returncode}); first output line: {line!r}"
        )
    return match.group(1)


def _drain(process: subprocess.Popen[str]) -> None:
    if process.stdout is not None:
        for _ in process.stdout:
            pass


def _wait_until_answering(control: SandboxControl, process: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            control.info()
            return
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the WeCom sandbox at {control.base_url} never answered") from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        with contextlib.suppress(Exception):
            process.stdout.close()
