"""Deployment settings read from the environment (no Airflow import).

| variable | meaning | default |
|---|---|---|
| ``OFFBOARDING_DATA_DIR`` | the data folder; backups and evidence go to its ``cases/`` when a case names no ``backup_target`` | ``$AIRFLOW_HOME/offboarding-data`` |
| ``OFFBOARDING_BACKUP_ROOTS`` | the named storage roots a case's ``backup_target`` may choose: ``name=url;name2=url2`` or a JSON object (see :mod:`offboarding.backup.roots`) | none: only the default root |
| ``OFFBOARDING_BACKUP_KEY_CONN_ID`` | Airflow Connection whose password is the backup encryption key | ``offboarding_backup_key`` |
| ``OFFBOARDING_EVIDENCE_KEY_CONN_ID`` | Airflow Connection whose password is the evidence key (required: no evidence is written without it) | ``offboarding_evidence_key`` |
| ``OFFBOARDING_REQUIRE_ENCRYPTION`` | ``1``/``true``: a backup without a readable encryption key fails instead of being written in plaintext | off |
| ``OFFBOARDING_TOKEN_CACHE_URL`` | where WeCom access tokens, robot queues and (Redis only) rate limits are shared (``file://``, ``redis://``, ``memory://``) | a file cache under ``$AIRFLOW_HOME`` |
| ``OFFBOARDING_WECOM_CONCURRENCY`` | without Redis: processes that may call WeCom at once; each keeps to 150 calls/s divided by it | ``1`` |
| ``OFFBOARDING_PLAIN_HTTP_HOSTS`` | hosts the WeCom and robot connections may reach over plain http (comma separated; e.g. the Compose rehearsal's ``wecom-sandbox``) | none: https only, plain http to loopback only |
| ``OFFBOARDING_AIRFLOW_API_CONN_ID`` | Airflow Connection (host = api-server URL, login/password of a read-only user) the deletion tasks read approvals through | ``offboarding_airflow_api`` |
"""

from __future__ import annotations

import os
from pathlib import Path

BACKUP_ROOTS_ENV = "OFFBOARDING_BACKUP_ROOTS"
REQUIRE_ENCRYPTION_ENV = "OFFBOARDING_REQUIRE_ENCRYPTION"


def data_dir() -> Path:
    explicit = os.environ.get("OFFBOARDING_DATA_DIR")
    if explicit:
        return Path(explicit)
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "offboarding-data"


def default_backup_root() -> str:
    return str(data_dir() / "cases")


def backup_roots_text() -> str:
    """The deployment's named backup roots as configured (parsed by :mod:`offboarding.backup.roots`)."""
    return os.environ.get(BACKUP_ROOTS_ENV, "")


def backup_key_conn_id() -> str:
    return os.environ.get("OFFBOARDING_BACKUP_KEY_CONN_ID", "offboarding_backup_key")


PLAIN_HTTP_HOSTS_ENV = "OFFBOARDING_PLAIN_HTTP_HOSTS"


def plain_http_hosts() -> frozenset[str]:
    """The host names ``OFFBOARDING_PLAIN_HTTP_HOSTS`` allows over plain http (lower case)."""
    raw = os.environ.get(PLAIN_HTTP_HOSTS_ENV, "")
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def evidence_key_conn_id() -> str:
    """The Airflow Connection whose password is the evidence key (HMAC of every ledger entry)."""
    return os.environ.get("OFFBOARDING_EVIDENCE_KEY_CONN_ID", "offboarding_evidence_key")


def airflow_api_conn_id() -> str:
    """The Connection through which deletion tasks read Airflow's record of the approval (REST API)."""
    return os.environ.get("OFFBOARDING_AIRFLOW_API_CONN_ID", "offboarding_airflow_api")


def encryption_required() -> bool:
    """True when the deployment requires encryption at rest (``OFFBOARDING_REQUIRE_ENCRYPTION``)."""
    value = os.environ.get(REQUIRE_ENCRYPTION_ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{REQUIRE_ENCRYPTION_ENV} must be 1 or 0 (true/false), got {value!r}")
