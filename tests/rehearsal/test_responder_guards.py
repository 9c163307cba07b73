"""The responder cannot touch production: only runs in rehearsal time, against the sandbox, on this machine.

Each refusal names the run, the connection or the URL and why, and no answer is sent. The Airflow side is
a small stand-in for the REST client (no Airflow starts); the sandbox is a real one, and "real WeCom" is a
local HTTP server that answers like WeCom does to a path it does not know.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest

from offboarding.airflow_api import NotFound
from offboarding_dev.cli import main as cli_main
from offboarding_dev.rehearsal import Responder
from offboarding_dev.rehearsal.command import collect_users
from offboarding_dev.rehearsal.guards import check_api_url, is_loopback_url
from offboarding_dev.sandbox.testing import RunningSandbox, running_sandbox

API = "http://127.0.0.1:9"
DAG_ID, RUN_ID = "offboard_employee", "offboard-lisi"


class FakeAirflow:
    """The part of ``AirflowApi`` the responder uses; one pending approval of one run."""

    def __init__(self, conf: dict[str, Any], connections: dict[str, dict[str, Any]] | None = None) -> None:
        self.conf = conf
        self.connections = connections or {}
        self.answers: list[tuple[str, ...]] = []

    def pending_human_steps(self, dag_id: str = "~", run_id: str = "~") -> list[dict[str, Any]]:
        return [
            {
                "task_instance": {
                    "dag_id": DAG_ID,
                    "dag_run_id": RUN_ID,
                    "task_id": "approve_deletion",
                    "map_index": -1,
                    "try_number": 1,
                    "state": "awaiting_input",
                },
                "options": ["Approve", "Reject"],
                "params": {},
                "assigned_users": [{"id": "admin"}],
                "subject": "Delete lisi?",
                "created_at": "2026-12-01T00:00:00Z",
            }
        ]

    def health(self) -> dict[str, Any]:
        beat = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)
        return {"scheduler": {"latest_scheduler_heartbeat": beat.isoformat()}}

    def get_dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return {"conf": self.conf}

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        if conn_id not in self.connections:
            raise NotFound(f"GET /api/v2/connections/{conn_id}: not found", status_code=404)
        return self.connections[conn_id]

    def answer_human_step(
        self, dag_id: str, run_id: str, task_id: str, options: Any, *_: Any, **__: Any
    ) -> None:
        self.answers.append((dag_id, run_id, task_id, *options))

    def close(self) -> None:
        pass


class _WeComLike(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # WeCom answers an unknown path with an errcode, never the sandbox's marker
        body = json.dumps({"errcode": 40014, "errmsg": "invalid access_token"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def not_the_sandbox() -> Iterator[str]:
    """A loopback server that is not the sandbox (think: a proxy to qyapi.weixin.qq.com)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WeComLike)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as sb:
        yield sb


def rehearsal_conf(**changes: Any) -> dict[str, Any]:
    return {"userid": "lisi", "wecom_conn_id": "wecom_default", "time_scale": 86400} | changes


def one_pass(airflow: FakeAirflow, sandboxes: Any) -> Any:
    responder = Responder(API, {"admin": "pw"}, sandboxes=sandboxes, settle_seconds=0)
    responder._apis["admin"] = airflow  # type: ignore[assignment]  # the stand-in instead of a login
    (report,) = responder.run_once()
    responder.close()
    return report


def test_a_run_against_the_sandbox_in_rehearsal_time_is_answered(sandbox: RunningSandbox) -> None:
    airflow = FakeAirflow(rehearsal_conf())
    report = one_pass(airflow, {"wecom_default": sandbox.base_url})
    assert report.status == "answered", report.detail
    assert airflow.answers == [(DAG_ID, RUN_ID, "approve_deletion", "Approve")]


@pytest.mark.parametrize("scale", [None, 1, 1.0, "86400", True, float("nan")])
def test_a_run_not_in_rehearsal_time_is_not_answered(sandbox: RunningSandbox, scale: Any) -> None:
    conf = rehearsal_conf(time_scale=scale) if scale is not None else {"userid": "lisi"}
    airflow = FakeAirflow(conf)
    report = one_pass(airflow, sandbox.base_url)
    assert report.status == "not_rehearsal"
    assert f"run {RUN_ID} of {DAG_ID} is not in rehearsal time" in report.detail
    assert airflow.answers == []


def test_a_connection_that_is_not_the_sandbox_is_refused(not_the_sandbox: str) -> None:
    airflow = FakeAirflow(rehearsal_conf())
    report = one_pass(airflow, {"wecom_default": not_the_sandbox})
    assert report.status == "not_rehearsal"
    assert f"connection wecom_default: {not_the_sandbox} is not the WeCom sandbox" in report.detail
    assert RUN_ID in report.detail
    assert airflow.answers == []


def test_a_connection_without_a_declared_sandbox_is_refused() -> None:
    airflow = FakeAirflow(rehearsal_conf(wecom_conn_id="wecom_company"))
    report = one_pass(airflow, {"wecom_default": "http://127.0.0.1:9"})
    assert report.status == "not_rehearsal"
    assert "no sandbox URL declared for its WeCom connection wecom_company" in report.detail
    assert airflow.answers == []


def test_a_stored_connection_pointing_elsewhere_is_refused_though_the_declared_url_is_a_sandbox(
    sandbox: RunningSandbox, not_the_sandbox: str
) -> None:
    port = int(not_the_sandbox.rsplit(":", 1)[1])
    stored = {
        "conn_type": "wecom",
        "host": "127.0.0.1",
        "schema": "http",
        "port": port,
        "login": sandbox.corpid,
    }
    airflow = FakeAirflow(rehearsal_conf(), {"wecom_default": stored})
    report = one_pass(airflow, {"wecom_default": sandbox.base_url})
    assert report.status == "not_rehearsal"
    assert f"connection wecom_default points at {not_the_sandbox}, which does not answer" in report.detail
    assert airflow.answers == []
    # No host at all is the real WeCom.
    airflow = FakeAirflow(
        rehearsal_conf(), {"wecom_default": {"conn_type": "wecom", "login": sandbox.corpid}}
    )
    assert "points at the real WeCom" in one_pass(airflow, sandbox.base_url).detail
    # Another corp than the sandbox plays.
    stored = {"conn_type": "wecom", "host": sandbox.base_url, "login": "ww0000real0000"}
    airflow = FakeAirflow(rehearsal_conf(), {"wecom_default": stored})
    report = one_pass(airflow, sandbox.base_url)
    assert report.status == "not_rehearsal" and "is corp ww0000real0000" in report.detail
    # The stored connection that is the declared sandbox passes.
    stored = {"conn_type": "wecom", "host": sandbox.base_url, "login": sandbox.corpid}
    airflow = FakeAirflow(rehearsal_conf(), {"wecom_default": stored})
    assert one_pass(airflow, sandbox.base_url).status == "answered"


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:8080", True),
        ("http://[::1]:8080", True),
        ("http://airflow.example.com", False),
        ("https://10.0.0.5:8080", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_a_non_loopback_api_url_is_refused_unless_allowed(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
    if loopback:
        Responder(url, {"admin": "pw"})
        return
    with pytest.raises(ValueError, match="--allow-remote-airflow") as err:
        Responder(url, {"admin": "pw"})
    assert f"api_url: {url} is not on this machine" in str(err.value)
    check_api_url(url, allow_remote_airflow=True)
    assert Responder(url, {"admin": "pw"}, allow_remote_airflow=True).api_url == url


def test_the_cli_refuses_a_remote_airflow_without_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    # refused before any password is read or prompted for
    code = cli_main(["rehearse-responder", "--api-url", "http://airflow.example.com", "--user", "admin"])
    assert code == 2
    err = capsys.readouterr().err
    assert "http://airflow.example.com is not on this machine" in err and "--allow-remote-airflow" in err


def _args(**values: Any) -> SimpleNamespace:
    return SimpleNamespace(**({"users": None, "users_file": None, "user": None, "password": None} | values))


def test_passwords_on_the_command_line_are_warned_about() -> None:
    warnings: list[str] = []
    users = collect_users(_args(users="admin:pw1"), environ={}, warn=warnings.append, interactive=False)
    assert users == {"admin": "pw1"}
    assert warnings and "--users puts passwords on the command line" in warnings[0]
    assert "pw1" not in warnings[0]
    warnings.clear()
    users = collect_users(
        _args(user="hr", password="pw2"), environ={}, warn=warnings.append, interactive=False
    )
    assert users == {"hr": "pw2"}
    assert (
        "--password puts passwords on the command line" in warnings[0] and "AIRFLOW_PASSWORD" in warnings[0]
    )


def test_the_password_comes_from_the_environment_or_a_prompt_without_a_warning() -> None:
    warnings: list[str] = []
    env = {"AIRFLOW_PASSWORD": "pw3", "OFFBOARDING_REHEARSAL_USERS": "admin:pw4"}
    assert collect_users(_args(user="hr"), environ=env, warn=warnings.append, interactive=False) == {
        "hr": "pw3",
        "admin": "pw4",
    }
    prompted = collect_users(
        _args(user="hr"), environ={}, warn=warnings.append, prompt=lambda _: "pw5", interactive=True
    )
    assert prompted == {"hr": "pw5"} and warnings == []
    with pytest.raises(ValueError, match="--user: no password for hr: set AIRFLOW_PASSWORD"):
        collect_users(_args(user="hr"), environ={}, warn=warnings.append, interactive=False)
    with pytest.raises(ValueError, match="--password: give --user"):
        collect_users(_args(password="x"), environ={}, warn=warnings.append, interactive=False)
