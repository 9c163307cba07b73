"""Connections a case may use: an allow-list of types, and secrets only over https (or to loopback).

Each refusal happens before any request: the sandbox (a real HTTP server on loopback) receives nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.hooks.connection_rules import (
    PLAIN_HTTP_HOSTS_ENV,
    ConnectionRefused,
    check_case_connections,
    require_secure_url,
)
from offboarding.hooks.webhook import WeComWebhookHook
from offboarding.hooks.wecom import WeComHook


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, conn: dict[str, Any]) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def wecom_fields(sandbox: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {"contact_secret": sandbox.secret, "agent_id": sandbox.agent_id},
        **overrides,
    }


def nothing_sent(sandbox: Any) -> None:
    stats = sandbox.control.stats()
    assert stats["calls"] == {}, stats


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(PLAIN_HTTP_HOSTS_ENV, raising=False)


# -- the WeCom hook: type wecom only --------------------------------------------------------------------


@pytest.mark.parametrize("conn_type", ["http", "https", "generic", "wecom_webhook", None])
def test_the_wecom_hook_refuses_a_connection_of_another_type_before_any_request(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, conn_type: str | None
) -> None:
    fields = wecom_fields(sandbox)
    if conn_type is not None:
        fields["conn_type"] = conn_type
    set_conn(monkeypatch, "wecom_other", fields)
    with pytest.raises(ConnectionRefused) as refused:
        WeComHook("wecom_other").contacts.get_user("lisi")
    message = str(refused.value)
    assert f"connection wecom_other has type {conn_type!r}; expected 'wecom'" in message
    assert sandbox.secret not in message
    assert isinstance(refused.value, ValueError | AirflowFailException)  # no retries inside a task
    ok, text = WeComHook("wecom_other").test_connection()
    assert not ok and "expected 'wecom'" in text
    nothing_sent(sandbox)


@pytest.mark.parametrize(
    "host",
    ["http://qyapi.example.com", "http://10.1.2.3:8900", "qyapi.example.com:80/", "ftp://127.0.0.1"],
)
def test_the_wecom_hook_sends_secrets_only_over_https_unless_loopback(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    fields = {"conn_type": "wecom", "host": host, "login": "ww1", "password": "app-secret-1"}
    if host == "qyapi.example.com:80/":
        fields.update(host="qyapi.example.com", schema="http")  # http given as the schema field
    set_conn(monkeypatch, "wecom_plain", fields)
    with pytest.raises(ConnectionRefused, match=r"connection wecom_plain points at .*only sent over https"):
        WeComHook("wecom_plain").contacts.get_user("lisi")
    assert not WeComHook("wecom_plain").test_connection()[0]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("https://qyapi.weixin.qq.com", True),
        ("http://127.0.0.1:8900", True),
        ("http://127.9.9.9", True),
        ("http://[::1]:8900", True),
        ("http://localhost:8900", True),
        ("http://localhost.example.com", False),
        ("http://qyapi.weixin.qq.com", False),
        ("http://wecom-sandbox:8900", False),
    ],
)
def test_which_urls_may_carry_secrets(host: str, allowed: bool) -> None:
    if allowed:
        assert require_secure_url("c", host) == host
    else:
        with pytest.raises(ConnectionRefused, match="only sent over https"):
            require_secure_url("c", host)


def test_the_deployment_may_allow_plain_http_to_a_named_host_but_never_to_wecom(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PLAIN_HTTP_HOSTS_ENV, "wecom-sandbox, qyapi.weixin.qq.com")
    assert require_secure_url("c", "http://wecom-sandbox:8900") == "http://wecom-sandbox:8900"
    with pytest.raises(ConnectionRefused):
        require_secure_url("c", "http://qyapi.weixin.qq.com")
    with pytest.raises(ConnectionRefused):
        require_secure_url("c", "http://other-host:8900")


def test_the_sandbox_on_loopback_still_works(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "wecom_sandbox", {"conn_type": "wecom", **wecom_fields(sandbox)})
    assert WeComHook("wecom_sandbox").contacts.get_user("lisi")["userid"] == "lisi"


# -- the robot hook: type wecom_webhook only ---------------------------------------------------------------


@pytest.mark.parametrize("conn_type", ["http", "generic", "wecom", None])
def test_a_robot_connection_of_another_type_is_refused_before_any_request(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, conn_type: str | None
) -> None:
    fields: dict[str, Any] = {"host": sandbox.base_url, "password": sandbox.webhook_key}
    if conn_type is not None:
        fields["conn_type"] = conn_type
    set_conn(monkeypatch, "robot_other", fields)
    with pytest.raises(ConnectionRefused, match=f"has type {conn_type!r}; expected 'wecom_webhook'"):
        WeComWebhookHook("robot_other").send_text("hello")
    assert sandbox.control.stats()["calls"] == {}


def test_a_robot_over_plain_http_to_another_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(
        monkeypatch,
        "robot_plain",
        {"conn_type": "wecom_webhook", "host": "http://qyapi.weixin.qq.com", "password": "robot-key-1"},
    )
    with pytest.raises(ConnectionRefused, match="only sent over https") as refused:
        WeComWebhookHook("robot_plain").send_text("hello")
    assert "robot-key-1" not in str(refused.value)
    ok, text = WeComWebhookHook("robot_plain").test_connection()
    assert not ok and "https" in text


# -- the case's connections, checked before the case starts -------------------------------------------------


def test_check_case_connections_names_the_form_field(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, "wecom_ok", {"conn_type": "wecom", **wecom_fields(sandbox)})
    set_conn(monkeypatch, "robot_http", {"conn_type": "http", "host": sandbox.base_url, "password": "k-1"})
    set_conn(
        monkeypatch, "robot_ok", {"conn_type": "wecom_webhook", "host": sandbox.base_url, "password": "k"}
    )
    assert check_case_connections("wecom_ok", None) == {"wecom_conn_id": sandbox.base_url}
    assert check_case_connections("wecom_ok", "robot_ok")["notify.webhook_conn_id"] == sandbox.base_url
    with pytest.raises(
        AirflowFailException, match=r"notify\.webhook_conn_id: connection robot_http has type"
    ):
        check_case_connections("wecom_ok", "robot_http")
    with pytest.raises(AirflowFailException, match=r"wecom_conn_id: .*missing_conn"):
        check_case_connections("missing_conn", None)
    nothing_sent(sandbox)


def test_the_compose_rehearsal_connection_passes_with_the_rehearsal_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = Path(__file__).resolve().parents[2]
    lines = (root / "deploy" / "rehearsal.env").read_text(encoding="utf-8").splitlines()
    env = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", env["AIRFLOW_CONN_WECOM_DEFAULT"].strip("'"))
    with pytest.raises(ConnectionRefused):
        WeComHook().base_url  # noqa: B018 - plain http to a non-loopback host needs the deployment's consent
    monkeypatch.setenv(PLAIN_HTTP_HOSTS_ENV, env[PLAIN_HTTP_HOSTS_ENV])
    assert WeComHook().base_url == "http://wecom-sandbox:8900"
