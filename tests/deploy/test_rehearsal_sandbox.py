"""The `rehearsal` profile for real: start the sandbox with the command line docker-compose.yaml gives it
(bound to loopback and a free port instead of 0.0.0.0:8900, since no container network exists here), run
the compose healthcheck against it, and sign in with the connection deploy/rehearsal.env hands to Airflow."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_PORT = "8900"


def compose_sandbox() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text(encoding="utf-8"))["services"][
        "wecom-sandbox"
    ]


def rehearsal_connection() -> dict:
    for line in (ROOT / "deploy" / "rehearsal.env").read_text(encoding="utf-8").splitlines():
        if line.startswith("AIRFLOW_CONN_WECOM_DEFAULT="):
            return json.loads(line.partition("=")[2].strip("'"))
    raise AssertionError("deploy/rehearsal.env does not set AIRFLOW_CONN_WECOM_DEFAULT")


@pytest.fixture
def sandbox_port() -> Iterator[int]:
    command = list(compose_sandbox()["command"])
    assert command[0] == "python"
    command[0] = sys.executable
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = "0"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        selector = selectors.DefaultSelector()
        assert process.stdout is not None
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        line = ""
        while "listening on" not in line:
            assert time.monotonic() < deadline and process.poll() is None, f"sandbox did not start: {line!r}"
            if selector.select(timeout=1):
                line = process.stdout.readline()
        yield int(line.split("listening on http://127.0.0.1:")[1].split()[0])
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_compose_healthcheck_passes_against_the_running_sandbox(sandbox_port: int) -> None:
    kind, *check = compose_sandbox()["healthcheck"]["test"]
    assert kind == "CMD"
    check = [arg.replace(f":{COMPOSE_PORT}/", f":{sandbox_port}/") for arg in check]
    if check[0] == "python":  # the image's python; here the project's
        check[0] = sys.executable
    assert subprocess.run(check, capture_output=True, timeout=30, check=False).returncode == 0


def test_rehearsal_connection_signs_in_to_the_sandbox(sandbox_port: int) -> None:
    conn = rehearsal_connection()
    base = conn["host"].replace(f"wecom-sandbox:{COMPOSE_PORT}", f"127.0.0.1:{sandbox_port}")
    for secret in (conn["password"], conn["extra"]["contact_secret"], conn["extra"]["customer_secret"]):
        answer = requests.get(
            f"{base}/cgi-bin/gettoken", params={"corpid": conn["login"], "corpsecret": secret}, timeout=10
        ).json()
        assert answer["errcode"] == 0, answer["errmsg"]
    wrong = requests.get(
        f"{base}/cgi-bin/gettoken", params={"corpid": conn["login"], "corpsecret": "not-it"}, timeout=10
    ).json()
    assert wrong["errcode"] != 0  # the check above can fail
