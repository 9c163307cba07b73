"""The REST client's input checks and secret hygiene (no Airflow needed)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from offboarding.airflow_api import AirflowApi, AirflowApiError, redact_url
from offboarding_dev.testing.airflow import free_port


def test_bad_constructor_arguments_name_the_field() -> None:
    with pytest.raises(ValueError, match="api_url"):
        AirflowApi("localhost:8080", token="t")
    with pytest.raises(ValueError, match="username/password"):
        AirflowApi("http://127.0.0.1:8080", username="admin")
    with pytest.raises(ValueError, match="credentials"):
        AirflowApi("http://127.0.0.1:8080")
    with pytest.raises(ValueError, match="api_url: put credentials") as raised:
        AirflowApi("http://admin:Pa55@127.0.0.1:8080", token="t")
    assert "Pa55" not in str(raised.value)
    with pytest.raises(ValueError, match="timeout"):
        AirflowApi("http://127.0.0.1:8080", token="t", timeout=0)


def test_the_api_v2_suffix_is_accepted_in_the_url() -> None:
    assert AirflowApi("http://127.0.0.1:8080/api/v2/", token="t").api_url == "http://127.0.0.1:8080"


def test_repr_shows_neither_password_nor_token() -> None:
    with_password = AirflowApi("http://127.0.0.1:8080", username="hr_wang", password="Pa55-word")
    with_token = AirflowApi("http://127.0.0.1:8080", token="eyJhbGciOi.secret.token")
    assert "Pa55-word" not in repr(with_password) and "hr_wang" in repr(with_password)
    assert "eyJhbGciOi" not in repr(with_token)


def test_an_unreachable_server_is_a_clear_error_without_secrets() -> None:
    port = free_port()  # nobody listens there
    api = AirflowApi(f"http://127.0.0.1:{port}", username="admin", password="Pa55-word", timeout=2)
    with pytest.raises(AirflowApiError, match="cannot reach the Airflow api-server") as raised:
        api.get_dag("offboard_employee")
    assert raised.value.status_code is None
    assert "Pa55-word" not in str(raised.value)


def test_redact_url_hides_secret_query_values() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=S3CR3T&access_token=T0K&key=K3Y"
    redacted = redact_url(url)
    assert "S3CR3T" not in redacted and "T0K" not in redacted and "K3Y" not in redacted
    assert "corpid=ww1" in redacted
    assert redacted.count("***") == 3


def test_answer_human_step_needs_an_option() -> None:
    api = AirflowApi("http://127.0.0.1:8080", token="t")
    with pytest.raises(ValueError, match="chosen_options"):
        api.answer_human_step("d", "r", "t", [])


class _SlowOnce(BaseHTTPRequestHandler):
    """Answers every request, but sleeps past the client's timeout on the first one of each method."""

    seen: ClassVar[list[str]] = []

    def _answer(self) -> None:
        first = self.command not in self.seen
        self.seen.append(self.command)
        if first:
            time.sleep(1.5)
        body = b'{"dag_id": "offboard_employee"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_a_slow_read_is_asked_again_but_a_write_is_sent_once() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowOnce)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = AirflowApi(f"http://127.0.0.1:{server.server_port}", token="t", timeout=0.5)
        assert api.get_dag("offboard_employee") == {"dag_id": "offboard_employee"}
        with pytest.raises(AirflowApiError, match="ReadTimeout"):
            api.trigger_dag_run("offboard_employee", "offboard-lisi", {"userid": "lisi"})
        assert _SlowOnce.seen == ["GET", "GET", "POST"]
    finally:
        server.shutdown()
