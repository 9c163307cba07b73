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
| ``OFFBOARDING_PDF_FONT`` | the TrueType/OpenType font (or ``.ttc`` collection) embedded in the PDF evidence report; it must cover Chinese | ``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc`` (Debian's ``fonts-noto-cjk``) |
| ``OFFBOARDING_PDF_FONT_INDEX`` | the face in a ``.ttc``/``.otc`` collection | ``2`` (Simplified Chinese) for Noto CJK collections, else ``0`` |
| ``OFFBOARDING_AIRFLOW_API_CONN_ID`` | Airflow Connection (host = api-server URL, login/password of a read-only user) the deletion tasks read approvals through | ``offboarding_airflow_api`` |
| ``OFFBOARDING_MAX_ACTIVE_PERSON_CASES`` | ``max_active_runs`` of ``offboard_employee`` (read when the DAG file is parsed); a backstop, not a working limit: waiting cases hold no worker, pool or triggerer slot | ``20000`` |
| ``OFFBOARDING_MAX_ACTIVE_COMPANY_CASES`` | ``max_active_runs`` of ``dissolve_company`` | ``1000`` |
| ``OFFBOARDING_WECOM_WRITES_POOL`` | the Airflow pool of the tasks that change WeCom (handover, disable, delete, transfer, guide, member batches) | ``offboarding_wecom_writes`` |
| ``OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS`` | a legal time wait is held by the triggerer only for its last this many hours (wall clock); before that it is parked in Airflow's database (``up_for_reschedule``), holding nothing in the triggerer. Must exceed the scheduler's rotation through the running cases (docs/deployment.md, Sizing) | ``6`` |
| ``OFFBOARDING_WECOM_BACKUPS_POOL`` | the Airflow pool of the backup exports (WeCom reads), so a burst of new cases cannot take every worker slot | ``offboarding_wecom_backups`` |
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from pathlib import Path

BACKUP_ROOTS_ENV = "OFFBOARDING_BACKUP_ROOTS"
REQUIRE_ENCRYPTION_ENV = "OFFBOARDING_REQUIRE_ENCRYPTION"
# The group robot alerts go to when a case names none (read by the DAG files for the case Deadline Alert).
ALERT_WEBHOOK_ENV = "OFFBOARDING_ALERT_WEBHOOK_CONN_ID"


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


PDF_FONT_ENV = "OFFBOARDING_PDF_FONT"
PDF_FONT_INDEX_ENV = "OFFBOARDING_PDF_FONT_INDEX"
DEFAULT_PDF_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_NOTO_CJK_SIMPLIFIED_CHINESE = 2  # face order of Noto Sans/Serif CJK collections: JP, KR, SC, TC, HK


def pdf_font() -> tuple[Path, int]:
    """The font the PDF evidence report embeds and its face index in a collection (not checked here)."""
    path = Path(os.environ.get(PDF_FONT_ENV, "").strip() or DEFAULT_PDF_FONT)
    raw = os.environ.get(PDF_FONT_INDEX_ENV, "").strip()
    if raw:
        if not raw.isdigit():
            raise ValueError(f"{PDF_FONT_INDEX_ENV} must be a face number (0, 1, 2...), got {raw!r}")
        return path, int(raw)
    collection = path.suffix.lower() in (".ttc", ".otc")
    noto_cjk = "CJK" in path.name and path.name.startswith("Noto")
    return path, _NOTO_CJK_SIMPLIFIED_CHINESE if collection and noto_cjk else 0


MAX_ACTIVE_PERSON_CASES_ENV = "OFFBOARDING_MAX_ACTIVE_PERSON_CASES"
MAX_ACTIVE_COMPANY_CASES_ENV = "OFFBOARDING_MAX_ACTIVE_COMPANY_CASES"
MAX_ACTIVE_CASES_ENV = {
    "person": MAX_ACTIVE_PERSON_CASES_ENV,
    "company": MAX_ACTIVE_COMPANY_CASES_ENV,
    "layoff": "OFFBOARDING_MAX_ACTIVE_LAYOFF_CASES",
}
#: Defaults of the backstops. A case spends weeks in waits that hold no worker, pool or triggerer slot
#: (deferred or awaiting_input), so the number of cases in flight is bounded by the metadata database
#: and the triggerer, not by a slot count: see docs/deployment.md, "Sizing", for the measurements.
DEFAULT_MAX_ACTIVE_CASES = {"person": 20_000, "company": 1_000, "layoff": 1_000}

WECOM_WRITES_POOL_ENV = "OFFBOARDING_WECOM_WRITES_POOL"
WECOM_BACKUPS_POOL_ENV = "OFFBOARDING_WECOM_BACKUPS_POOL"
#: The pools and the slots they get when the deployment's setup (or, as a safety net, the scheduler's
#: start: :mod:`offboarding.pools`) creates them. Keep writes + backups below the workers' total slots,
#: so neither a burst of new cases' backups nor of writes can take every worker slot.
DEFAULT_POOLS = {
    "offboarding_wecom_writes": (
        8,
        "Tasks that change WeCom (handover, disable, delete, transfer, guide, member batches)",
    ),
    "offboarding_wecom_backups": (
        8,
        "Backup exports (WeCom reads): a burst of new cases cannot take every worker slot",
    ),
}


def max_active_cases(kind: str) -> int:
    """``max_active_runs`` of the case DAG of ``kind``: the environment's, else the default."""
    env = MAX_ACTIVE_CASES_ENV[kind]
    raw = os.environ.get(env, "").strip()
    if not raw:
        return DEFAULT_MAX_ACTIVE_CASES[kind]
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{env} must be a whole number of cases, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{env} must be at least 1, got {raw!r}")
    return value


TIME_WAIT_TRIGGERER_HOURS_ENV = "OFFBOARDING_TIME_WAIT_TRIGGERER_HOURS"
DEFAULT_TIME_WAIT_TRIGGERER_HOURS = 6.0


def positive_duration(
    name: str, unit: str, default: float, environ: Mapping[str, str] | None = None
) -> dt.timedelta:
    """The environment variable ``name`` as a duration in ``unit`` (``minutes``, ``hours``; fractions
    allowed), ``default`` when unset; ValueError naming the variable when it is not a positive number."""
    text = ((os.environ if environ is None else environ).get(name) or "").strip()
    try:
        amount = float(text) if text else default
    except ValueError:
        raise ValueError(f"{name} must be a number of {unit} such as {default:g}, got {text!r}") from None
    if not math.isfinite(amount) or amount <= 0:
        raise ValueError(f"{name} must be a positive number of {unit}, got {text!r}")
    return dt.timedelta(**{unit: amount})


def time_wait_triggerer_lead() -> dt.timedelta:
    """How long before its wake time a parked legal time wait is handed to the triggerer."""
    return positive_duration(TIME_WAIT_TRIGGERER_HOURS_ENV, "hours", DEFAULT_TIME_WAIT_TRIGGERER_HOURS)


def wecom_writes_pool() -> str:
    """The pool of the tasks that change WeCom."""
    return os.environ.get(WECOM_WRITES_POOL_ENV, "").strip() or "offboarding_wecom_writes"


def wecom_backups_pool() -> str:
    """The pool of the backup exports."""
    return os.environ.get(WECOM_BACKUPS_POOL_ENV, "").strip() or "offboarding_wecom_backups"


def offboarding_pools() -> dict[str, tuple[int, str]]:
    """Pool name → (slots, description) for the pools the DAGs use, under their configured names."""
    writes, backups = DEFAULT_POOLS["offboarding_wecom_writes"], DEFAULT_POOLS["offboarding_wecom_backups"]
    return {wecom_writes_pool(): writes, wecom_backups_pool(): backups}
