"""A real Airflow (``airflow standalone``, LocalExecutor) with the repository's DAGs and plugin,
three WeCom sandboxes in rehearsal time, and a responder that answers the human steps as the people
assigned to them — the production code path, nothing bypassed.

The metadata database is a scratch PostgreSQL database on loopback, as in a real deployment: with ~20
cases and a 2,000-member wind-up at once, SQLite's single writer lock stalled every writer for its whole
busy timeout (60 s) in about one run in three — a failed trigger, once a scheduler that exited. Where
PostgreSQL is not reachable (and ``OFFBOARDING_REQUIRE_SERVICES`` is not ``1``), SQLite is used.

Sandboxes: ``main`` (most cases), ``faulty`` (20 % injected transient faults) and ``dryrun`` (so its
stats show the dry run alone). Every case is triggered once when the module's fixture starts, so the
cases run concurrently; each test then waits for its own case and checks WeCom's state afterwards.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
TIME_SCALE = 86400  # a legal day per second
USERS = ["admin", "hr", "approver", "lisi", "sunqi", "zhouba", "bigsales", "zhaoliu", "legal", "finance"]
# Company sandboxes: a dissolving company deletes everyone, so it never shares a corp with other cases.
SANDBOX_SEEDS = {
    "main": "default",
    "faulty": "default",
    "dryrun": "default",
    "company_big": "members:2000",
    "company_small": "members:30",
    "layoff": "members:300",  # a layoff list deletes part of a corp: its own, so its stats show it alone
}


def wecom_connection(sandbox: Any, **extra: Any) -> str:
    from offboarding_dev.rehearsal.samples import wecom_connection as connection

    return json.dumps(
        connection(
            sandbox, app_chat_ids=["chat_sales_weekly", "chat_other_app"], leavers_department_id=99, **extra
        )
    )


@dataclass
class Rehearsal:
    airflow: Any
    sandboxes: dict[str, Any]
    data_dir: Path
    responder: Any

    def api(self, user: str = "admin") -> Any:
        return self.airflow.api(user)

    def case_dir(self, case_id: str) -> Path:
        return self.data_dir / "cases" / case_id

    def ledger(self, case_id: str) -> list[dict[str, Any]]:
        path = self.case_dir(case_id) / "evidence" / "ledger.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        return {ti["task_id"]: ti["state"] for ti in self.api().list_task_instances(dag_id, run_id)}

    def tasks_after_close(self, dag_id: str, run_id: str) -> list[str]:
        """Tasks that were still running when ``close_case`` started: the case closes last."""
        tis = self.api().list_task_instances(dag_id, run_id)
        close = next(ti for ti in tis if ti["task_id"] == "close_case")
        return [
            ti["task_id"]
            for ti in tis
            if ti["task_id"] != "close_case" and ti["end_date"] and ti["end_date"] > close["start_date"]
        ]

    def failure_report(self, dag_id: str, run_id: str) -> str:
        """The tasks that did not succeed, with the last error line of each one's log."""
        lines = []
        for ti in self.api().list_task_instances(dag_id, run_id):
            if ti["state"] in ("failed", "upstream_failed", "up_for_retry"):
                logs = sorted(
                    (
                        self.airflow.logs_dir
                        / f"dag_id={dag_id}"
                        / f"run_id={run_id}"
                        / f"task_id={ti['task_id']}"
                    ).glob("attempt=*.log")
                )
                errors = [
                    line
                    for path in logs
                    for line in path.read_text(errors="replace").splitlines()
                    if '"level":"error"' in line
                ]
                lines.append(f"{ti['task_id']}: {ti['state']}: {errors[-1][:1500] if errors else ''}")
        return "\n".join(lines)

    def trigger(self, dag_id: str, run_id: str, conf: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        """Trigger one case, asking again while SQLite under load answers the POST with HTTP 500
        ("Database error", a lock): a run that exists afterwards is the one asked for (the run id is the
        idempotency key), one that does not is triggered again. Refusals (400, 409) are raised at once."""
        from offboarding.airflow_api import AirflowApiError, NotFound

        api = self.api()
        deadline = time.monotonic() + timeout
        while True:
            try:
                return api.trigger_dag_run(dag_id, run_id, conf)
            except AirflowApiError as exc:
                if exc.status_code != 500 or time.monotonic() > deadline:
                    raise
            with contextlib.suppress(NotFound):
                return api.get_dag_run(dag_id, run_id)
            time.sleep(2)

    def wait(self, dag_id: str, run_id: str, timeout: float = 900) -> dict[str, Any]:
        return self.api().wait_for_dag_run(
            dag_id, run_id, states=("success", "failed"), timeout=timeout, poll_interval=2.0
        )


def metadata_database(stack: ExitStack) -> dict[str, str]:
    """The deployment's ``sql_alchemy_conn``: a scratch PostgreSQL database (dropped with ``stack``), or
    nothing (SQLite) when PostgreSQL is not on loopback and CI does not require it."""
    from offboarding_dev.testing.topology import (
        DEFAULT_POSTGRES_URL,
        scratch_database,
        services_verdict,
        sqlalchemy_url,
        unreachable_services,
    )

    problems = [p for p in unreachable_services() if p.startswith("PostgreSQL")]
    verdict = services_verdict(problems)
    if verdict is not None:
        must_fail, reason = verdict
        if must_fail:
            pytest.fail(reason)
        warnings.warn(f"the rehearsal runs on SQLite: {reason}", stacklevel=2)
        return {}
    database = stack.enter_context(scratch_database(DEFAULT_POSTGRES_URL, "offboarding_e2e"))
    return {"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy_url(DEFAULT_POSTGRES_URL, database)}


@pytest.fixture(scope="package")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rehearsal]:
    from offboarding_dev.rehearsal import Responder
    from offboarding_dev.sandbox.testing import running_sandbox
    from offboarding_dev.testing.airflow import running_airflow

    data_dir = tmp_path_factory.mktemp("offboarding-data")
    with ExitStack() as stack:
        database = metadata_database(stack)
        sandboxes = {
            name: stack.enter_context(running_sandbox(seed=seed, time_scale=TIME_SCALE))
            for name, seed in SANDBOX_SEEDS.items()
        }
        leaders = {"admin_userids": ("zhangsan", "admin01", "admin02")}
        env = {
            "AIRFLOW_CONN_WECOM_DEFAULT": wecom_connection(sandboxes["main"]),
            "AIRFLOW_CONN_WECOM_FAULTY": wecom_connection(sandboxes["faulty"]),
            "AIRFLOW_CONN_WECOM_DRYRUN": wecom_connection(sandboxes["dryrun"]),
            "AIRFLOW_CONN_WECOM_COMPANY_BIG": wecom_connection(sandboxes["company_big"], **leaders),
            "AIRFLOW_CONN_WECOM_COMPANY_SMALL": wecom_connection(sandboxes["company_small"], **leaders),
            "AIRFLOW_CONN_WECOM_LAYOFF": wecom_connection(sandboxes["layoff"]),
            "OFFBOARDING_DATA_DIR": str(data_dir),
            "OFFBOARDING_TOKEN_CACHE_URL": f"file://{data_dir}/token-cache",
            "OFFBOARDING_INCLUDE_DIR": str(REPO / "include"),
            "AIRFLOW__CORE__PARALLELISM": "6",
        } | database
        airflow = stack.enter_context(
            running_airflow(
                REPO / "dags",
                users=",".join(f"{u}:{'admin' if u == 'admin' else 'user'}" for u in USERS),
                extra_env=env,
            )
        )
        responder = Responder(
            airflow.api_url,
            dict(airflow.passwords),
            sandboxes={
                "wecom_default": sandboxes["main"].base_url,
                "wecom_faulty": sandboxes["faulty"].base_url,
                "wecom_dryrun": sandboxes["dryrun"].base_url,
                "wecom_company_big": sandboxes["company_big"].base_url,
                "wecom_company_small": sandboxes["company_small"].base_url,
                "wecom_layoff": sandboxes["layoff"].base_url,
            },
            overrides={
                "offboard-disabled01": {"approve_deletion": "Reject"},
                "dissolve-91350100M000100Y43": {
                    "dissolution_notice.record_creditor_objections": "Objection received"
                },
            },
        )
        stop = threading.Event()
        thread = threading.Thread(
            target=responder.run, args=(stop,), kwargs={"poll_seconds": 1.0}, daemon=True
        )
        thread.start()
        stack.callback(thread.join, 30)
        stack.callback(stop.set)
        yield Rehearsal(airflow=airflow, sandboxes=sandboxes, data_dir=data_dir, responder=responder)
