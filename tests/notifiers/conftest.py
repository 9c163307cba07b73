"""Fixtures for notifier tests: robot and app connections to the session sandbox, a private data dir.

Each test gets its own ``OFFBOARDING_DATA_DIR``, so the robot queue (a file under it) starts empty,
as the sandbox does after its reset.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROBOT_CONN_ID = "wecom_robot_test"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(folder))
    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "memory://")
    return folder


@pytest.fixture
def robot_conn(sandbox: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``wecom_robot_test``: the sandbox's group robot (password = its webhook key)."""
    conn = {"conn_type": "wecom_webhook", "host": sandbox.base_url, "password": sandbox.webhook_key}
    monkeypatch.setenv(f"AIRFLOW_CONN_{ROBOT_CONN_ID.upper()}", json.dumps(conn))
    return sandbox


@pytest.fixture
def wecom_app_conn(sandbox: Any, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``wecom_default`` pointing at the sandbox, with the app's AgentId for app messages."""
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {"agent_id": sandbox.agent_id},
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    return sandbox
