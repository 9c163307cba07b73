"""CaseReleasedTrigger: serialized exactly; waits on the case endpoint until the hold ends.

Runs against a small HTTP server that answers like the api-server: ``POST /auth/token`` and
``GET /offboarding/api/cases/{case_id}`` (held a few times, then released or rescinded).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from offboarding.triggers.case_controls import CaseReleasedTrigger

CONN_ID = "offboarding_airflow_api"
HELD = {"since": "2026-12-04T09:00:00+00:00", "by": "legal_wang", "reason": "litigation hold"}
RESCIND = {"at": "2026-12-04T10:00:00+00:00", "by": "ops", "reason": "the person stays", "action_id": 3}


def case(hold: Any = None, rescind: Any = None, run_id: str = "offboard-lisi") -> dict[str, Any]:
    return {
        "case_id": "offboard-lisi",
        "dag_id": "offboard_employee",
        "run_id": run_id,
        "kind": "person",
        "state": "on_hold" if hold else "open",
        "hold": hold,
        "rescind": rescind,
        "last_working_day": "2026-11-20",
        "corrections": {},
        "history": [],
    }


class FakeApiServer:
    """Answers the case endpoint from a script: each GET takes the next answer (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any]] = []
        self.gets = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(201, {"access_token": "jwt"})

            def do_GET(self) -> None:
                if (
                    self.path != "/offboarding/api/cases/offboard-lisi"
                    or self.headers["Authorization"] != "Bearer jwt"
                ):
                    self._send(404, {"detail": "not found"})
                    return
                status, body = server.answers[min(server.gets, len(server.answers) - 1)]
                server.gets += 1
                self._send(status, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApiServer]:
    server = FakeApiServer()
    conn = {"conn_type": "http", "host": server.url, "login": "viewer", "password": "viewer-pw"}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    yield server
    server.httpd.shutdown()


def trigger(**changes: Any) -> CaseReleasedTrigger:
    kwargs = {
        "case_id": "offboard-lisi",
        "run_id": "offboard-lisi",
        "conn_id": CONN_ID,
        "poll_interval_seconds": 0.05,
        "what": "deleting lisi",
        **changes,
    }
    return CaseReleasedTrigger(**kwargs)


async def first_event(t: CaseReleasedTrigger) -> dict[str, Any]:
    events = t.run()
    try:
        event = await asyncio.wait_for(events.__anext__(), 10)
    finally:
        await events.aclose()
    return event.payload


def test_serialize_is_exact_and_recreates_the_same_trigger() -> None:
    classpath, kwargs = trigger().serialize()
    assert classpath == "offboarding.triggers.case_controls.CaseReleasedTrigger"
    assert kwargs == {
        "case_id": "offboard-lisi",
        "run_id": "offboard-lisi",
        "conn_id": CONN_ID,
        "poll_interval_seconds": 0.05,
        "what": "deleting lisi",
    }
    module, _, name = classpath.rpartition(".")
    again = getattr(importlib.import_module(module), name)(**kwargs)
    assert again.serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"case_id": ""}, "case_id"),
        ({"conn_id": " "}, "conn_id"),
        ({"poll_interval_seconds": 0}, "poll_interval_seconds"),
        ({"poll_interval_seconds": float("nan")}, "poll_interval_seconds"),
    ],
)
def test_bad_arguments_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trigger(**changes)


async def test_fires_released_once_the_hold_is_gone(api: FakeApiServer) -> None:
    api.answers = [(200, case(hold=HELD)), (200, case(hold=HELD)), (200, case())]
    assert await first_event(trigger()) == {"status": "released", "case_id": "offboard-lisi"}
    assert api.gets == 3


async def test_a_busy_api_server_is_read_again(api: FakeApiServer) -> None:
    api.answers = [(200, case(hold=HELD)), (503, {"detail": "busy"}), (200, case())]
    assert (await first_event(trigger()))["status"] == "released"


async def test_fires_rescinded_when_the_case_was_rescinded(api: FakeApiServer) -> None:
    api.answers = [(200, case(hold=HELD)), (200, case(hold=HELD, rescind=RESCIND))]
    assert (await first_event(trigger()))["status"] == "rescinded"


async def test_an_unknown_case_or_another_run_ends_the_wait_with_an_error(api: FakeApiServer) -> None:
    assert (await first_event(trigger(case_id="offboard-nobody")))["status"] == "error"
    api.answers = [(200, case(hold=HELD, run_id="offboard-lisi-2"))]
    event = await first_event(trigger())
    assert event["status"] == "error" and "offboard-lisi-2" in event["message"]


async def test_a_missing_connection_ends_the_wait_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", raising=False)
    event = await first_event(trigger())
    assert event["status"] == "error"
    assert "viewer-pw" not in event["message"]
