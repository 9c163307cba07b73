"""WeComHook against the sandbox: connection forms (JSON and URI), test_connection, dry run."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest

from offboarding.hooks.wecom import WeComHook


def _json_conn(sandbox: Any, **overrides: Any) -> str:
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {"contact_secret": sandbox.secret, "agent_id": sandbox.agent_id},
    }
    conn.update(overrides)
    return json.dumps(conn)


def test_connection_from_json(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", _json_conn(sandbox))
    ok, message = WeComHook().test_connection()
    assert ok, message
    assert sandbox.corpid in message and sandbox.secret not in message
    assert WeComHook().contacts.get_user("lisi")["name"] == "李四"


def test_connection_from_uri(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    host = sandbox.base_url.split("://", 1)[1]
    uri = f"wecom://{sandbox.corpid}:{quote(sandbox.secret, safe='')}@{host}/http?agent_id={sandbox.agent_id}"
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_URI", uri)
    hook = WeComHook("wecom_uri")
    assert hook.base_url == sandbox.base_url
    assert hook.agent_id == sandbox.agent_id
    assert hook.test_connection()[0]


def test_bad_secret_is_reported_with_the_connection_and_without_the_secret(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", _json_conn(sandbox, password="wrong-secret-123"))
    ok, message = WeComHook().test_connection()
    assert not ok
    assert "40001" in message and "wecom_default" in message
    assert "wrong-secret-123" not in message
    assert sandbox.control.stats()["calls"].get("/cgi-bin/gettoken") == 1  # no retries


def test_dry_run_reads_for_real_and_plans_writes(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", _json_conn(sandbox))
    hook = WeComHook(dry_run=True)
    assert hook.contacts.get_user("lisi")["userid"] == "lisi"
    assert hook.contacts.delete_user("lisi") == "deleted"
    hook.contacts.disable_user("lisi")
    planned = hook.planned_calls()
    assert [c["path"] for c in planned] == ["/cgi-bin/user/delete", "/cgi-bin/user/update"]
    assert all("access_token" not in json.dumps(c) for c in planned)
    stats = sandbox.control.stats()
    assert not stats.get("write_calls"), stats
    assert sandbox.control.user("lisi")["deleted"] is False


def test_provider_declares_the_wecom_connection_form() -> None:
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hooks = ProvidersManagerTaskRuntime().hooks
    assert hooks["wecom"].hook_class_name == "offboarding.hooks.wecom.WeComHook"
    widgets = ProvidersManager().connection_form_widgets
    assert any(key.endswith("contact_secret") for key in widgets), sorted(widgets)[:20]
