"""``WeComWebhookHook``'s connection handling: base URL, conn type, the UI "Test" button, robot ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offboarding.hooks.webhook import WeComWebhookHook, robot_id


def set_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "wecom_webhook", **fields})
    )


def test_default_base_url_and_host_forms(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    set_conn(monkeypatch, "robot_a", password="k-123456")
    set_conn(monkeypatch, "robot_b", host="qyapi.example.com", password="k-123456")
    set_conn(monkeypatch, "robot_c", host="http://127.0.0.1", port=8900, password="k-123456")
    assert WeComWebhookHook("robot_a").base_url == "https://qyapi.weixin.qq.com"
    assert WeComWebhookHook("robot_b").base_url == "https://qyapi.example.com"
    assert WeComWebhookHook("robot_c").base_url == "http://127.0.0.1:8900"


def test_the_test_button_checks_fields_without_posting(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    set_conn(monkeypatch, "robot_ok", host="http://127.0.0.1:9", password="k-123456")
    set_conn(monkeypatch, "robot_nokey", host="http://127.0.0.1:9")
    assert WeComWebhookHook("robot_ok").test_connection() == (
        True,
        "Robot key present; messages go to http://127.0.0.1:9/cgi-bin/webhook/send",
    )
    ok, message = WeComWebhookHook("robot_nokey").test_connection()
    assert not ok and "robot key (Password) is empty" in message


def test_a_connection_of_another_type_is_refused(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_ROBOT_WRONG_TYPE", json.dumps({"conn_type": "wecom", "password": "k-123456"})
    )
    with pytest.raises(ValueError, match="has type 'wecom'; expected 'wecom_webhook'"):
        WeComWebhookHook("robot_wrong_type").send_text("x")


def test_an_empty_conn_id_is_refused() -> None:
    with pytest.raises(ValueError, match="wecom_webhook_conn_id must name"):
        WeComWebhookHook("  ")


def test_the_robot_id_does_not_reveal_the_key() -> None:
    assert robot_id("secret-key-1") == robot_id("secret-key-1") != robot_id("secret-key-2")
    assert "secret" not in robot_id("secret-key-1")
