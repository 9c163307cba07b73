"""Fixtures for alerting tests: a private data dir and WeCom connections to the session sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(folder))
    monkeypatch.delenv("OFFBOARDING_ALERT_WEBHOOK_CONN_ID", raising=False)
    monkeypatch.delenv("OFFBOARDING_ESCALATION_WEBHOOK_CONN_ID", raising=False)
    return folder


@pytest.fixture
def wecom_conns(sandbox: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``wecom_robot_ops`` (the sandbox robot) and ``wecom_default`` (the sandbox app)."""
    robot = {"conn_type": "wecom_webhook", "host": sandbox.base_url, "password": sandbox.webhook_key}
    app = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {"agent_id": sandbox.agent_id},
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_ROBOT_OPS", json.dumps(robot))
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(app))
    return sandbox


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from offboarding_dev.testing.airflow import stop_shared_airflows

    stop_shared_airflows()
