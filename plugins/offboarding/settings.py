"""Deployment settings read from the environment (no Airflow import).

| variable | meaning | default |
|---|---|---|
| ``OFFBOARDING_DATA_DIR`` | where backups and evidence go when a case names no ``backup_target`` | ``$AIRFLOW_HOME/offboarding-data`` |
| ``OFFBOARDING_BACKUP_KEY_CONN_ID`` | Airflow Connection whose password is the backup encryption key | ``offboarding_backup_key`` |
| ``OFFBOARDING_AIRFLOW_API_CONN_ID`` | Airflow Connection (host = api-server URL, login/password of a read-only user) the deletion tasks read approvals through | ``offboarding_airflow_api`` |
| ``OFFBOARDING_TOKEN_CACHE_URL`` | where WeCom access tokens are shared (``file://``, ``redis://``, ``memory://``) | a file cache under ``$AIRFLOW_HOME`` |
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    explicit = os.environ.get("OFFBOARDING_DATA_DIR")
    if explicit:
        return Path(explicit)
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "offboarding-data"


def default_backup_root() -> str:
    return str(data_dir() / "cases")


def backup_key_conn_id() -> str:
    return os.environ.get("OFFBOARDING_BACKUP_KEY_CONN_ID", "offboarding_backup_key")


def airflow_api_conn_id() -> str:
    """The Connection through which deletion tasks read Airflow's record of the approval (REST API)."""
    return os.environ.get("OFFBOARDING_AIRFLOW_API_CONN_ID", "offboarding_airflow_api")
