"""Where the benches run: a scratch Airflow home, the repository's DAGs and plugins, a WeCom sandbox.

Nothing is written to the user's home: Airflow's home, token caches and backups live in the bench's
scratch folder. The sandbox is started with three different secrets (contacts-sync, customer-contact,
app) like a real corp, so token counts are per secret as in a deployment.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from offboarding_dev.testing.airflow import DEPLOYMENT_ENV

REPO = Path(__file__).resolve().parents[1]
CONN_ENV = "AIRFLOW_CONN_WECOM_DEFAULT"
TOKEN_CACHE_ENV = "OFFBOARDING_TOKEN_CACHE_URL"

# Sandbox-only credentials (the sandbox accepts whatever it is started with); never real secrets.
APP_SECRET = "bench-app-secret"
CONTACT_SECRET = "bench-contact-sync-secret"
CUSTOMER_SECRET = "bench-customer-contact-secret"
SECRET_KINDS = ("contacts", "customers", "app")
EVIDENCE_KEY = "bench-evidence-key-not-a-secret-0123456789abcdef"
"""The benches' evidence key (every ledger entry is authenticated; the product refuses to record without)."""
APPROVERS = ["approver"]
"""The deployment's approver list in the benches (the cases name ``approver``)."""
HR_OWNERS = ["hr"]


def airflow_env(workdir: Path) -> dict[str, str]:
    """The variables every bench process needs before Airflow is imported."""
    return {
        "AIRFLOW_HOME": str(workdir / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "OFFBOARDING_INCLUDE_DIR": str(REPO / "include"),
        TOKEN_CACHE_ENV: (workdir / "token-cache").as_uri(),
        "AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY": json.dumps(
            {"conn_type": "generic", "password": EVIDENCE_KEY}
        ),
        "OFFBOARDING_EVIDENCE_KEY": EVIDENCE_KEY,
        "PYTHONUNBUFFERED": "1",
        **DEPLOYMENT_ENV,
    }


def prepare_this_process(workdir: Path) -> None:
    """Point this process at the scratch folder (call before anything imports Airflow)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "airflow-home").mkdir(exist_ok=True)
    os.environ.update(airflow_env(workdir))


def bench_backup_root(backups: Path) -> str:
    """Declare ``backups`` as the deployment's storage root ``bench`` (in this process and the children
    started after) and return the name a case's ``backup_target`` gives."""
    os.environ["OFFBOARDING_BACKUP_ROOTS"] = f"bench={backups}"
    return "bench"


def child_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a measurement child: this one, the bench's Airflow settings, ``extra``."""
    return {**os.environ, **airflow_env(workdir), **extra}


def sandbox_args() -> list[str]:
    """Extra sandbox arguments: distinct contacts-sync and customer-contact secrets (the app's is ``--secret``)."""
    return ["--contact-secret", CONTACT_SECRET, "--customer-secret", CUSTOMER_SECRET]


def connection_json(base_url: str, corpid: str, **extras: Any) -> str:
    """``wecom_default`` as an ``AIRFLOW_CONN_*`` JSON value pointing at a sandbox started by the bench."""
    return json.dumps(
        {
            "conn_type": "wecom",
            "host": base_url,
            "login": corpid,
            "password": APP_SECRET,
            "extra": {"contact_secret": CONTACT_SECRET, "customer_secret": CUSTOMER_SECRET, **extras},
        }
    )


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block, restoring what was there before."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def wecom_deployment(sandbox: Any, workdir: Path, **extras: Any) -> Iterator[None]:
    """``wecom_default`` → ``sandbox``, a fresh shared token cache and the deployment's approver and
    HR-owner lists (one deployment) for the block. Without the lists check_case and the deletion steps
    refuse every case (separation of duties)."""
    cache = workdir / "token-cache"
    cache.mkdir(parents=True, exist_ok=True)
    values = {
        CONN_ENV: connection_json(sandbox.base_url, sandbox.corpid, agent_id=sandbox.agent_id, **extras),
        TOKEN_CACHE_ENV: cache.as_uri(),
        "AIRFLOW_VAR_OFFBOARDING_APPROVERS": json.dumps(APPROVERS),
        "AIRFLOW_VAR_OFFBOARDING_HR_OWNERS": json.dumps(HR_OWNERS),
    }
    with environment(values):
        yield


def start_sandbox(seed: str, *, time_scale: float = 1.0, extra: tuple[str, ...] = ()) -> Any:
    """The context manager that runs a sandbox process with the bench's three secrets."""
    from offboarding_dev.sandbox.testing import running_sandbox

    return running_sandbox(
        seed=seed,
        time_scale=time_scale,
        secret=APP_SECRET,
        extra_args=[*sandbox_args(), *extra],
        startup_timeout=120.0,
    )
