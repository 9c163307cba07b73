"""The DAG processor re-parses dags/ every few minutes: parsing must not import what only a running task needs.

A fresh Python parses dags/ as the processor does (Airflow imported first, then ``DagBag``) and
reports which of the modules below got imported. Each is needed only when a task runs (or never in a
DAG file); importing one at a module's top level, anywhere the DAG files reach, makes every parse pay
for it again. Make such an import lazy (inside the function that needs it, or under
``typing.TYPE_CHECKING`` for annotations) instead of removing a module from this list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"

RUNTIME_ONLY = (
    # third-party, slow to import
    "holidays",  # the PRC calendar: its lunar calendars alone take ~100 ms
    "requests",  # WeCom's and Airflow's REST clients
    "urllib3",
    "charset_normalizer",
    "redis",  # the shared token cache
    "openpyxl",  # bulk trigger from an XLSX export
    "fastapi",  # the cases page
    "starlette",
    # ours, needed when a task, a trigger or a callback runs
    "offboarding.wecom.client",
    "offboarding.wecom.http",
    "offboarding.wecom.group_robot",
    "offboarding.hooks.wecom",
    "offboarding.hooks.dry_run",
    "offboarding.notifiers.app_message",
    "offboarding.evidence.report",
    "offboarding.alerting.watchdog",
    "offboarding.alerting.airflow_source",
    "offboarding.airflow_api",
    "offboarding.backup.retention",
    "offboarding.hooks.webhook",  # a Deadline Alert names the robot notifier; Airflow imports it at parse
    "offboarding.wecom.robot_queue",
    "offboarding.alerting.decide",  # the watchdog's rules: the DAGs need only the alert's settings
    "offboarding.alerting.steps",
    "offboarding.cases.typed",  # the form parsed into PersonCase/CompanyCase: when a task runs
    "offboarding.triggers.legal_deadline",  # kept for waits deferred before the upgrade; not used
    "offboarding.cases.lifecycle",  # a case's controls (hold, reschedule, corrections): read when a task runs
    "offboarding.steps.undo",  # undoing an offboarding: only the rescind DAG's tasks need it
    # what the adapters hand their work to, imported in execute()/run(): the backup store, the ledger,
    # the steps, WeCom's errors (the operators' modules name them only under TYPE_CHECKING)
    "offboarding.backup.storage",
    "offboarding.backup.encryption",
    "offboarding.backup.entries",
    "offboarding.backup.manifest",
    "offboarding.backup.verification",
    "offboarding.backup.spreadsheet",
    "offboarding.evidence.ledger",
    "offboarding.evidence.entry",
    "offboarding.steps.errors",
    "offboarding.steps.verified_backup",
    "offboarding.steps.not_exported",
    "offboarding.steps.batches",
    "offboarding.steps.progress",
    "offboarding.steps.jsonl",
    "offboarding.steps.takeover",
    "offboarding.triggers.takeover",
    "offboarding.wecom",
    "offboarding.wecom.errors",
    "offboarding.operators.adapter",
    "offboarding.operators.approvers",
    "offboarding.operators.deadlines",
    "offboarding.operators.controls",
    "offboarding.operators.backup_names",
    "offboarding.hooks.connection_rules",
    "offboarding.alerting.targets",  # who hears an alert: the watchdog's; the DAGs read only the env name
    "offboarding.cases.case_ids",  # a run's case id: when a task runs
    "offboarding.cases.problems",  # what is wrong with a form: when it is validated
    "offboarding.timescale",  # a rehearsal's time scale: read from the form when a task runs
    "airflow.sdk.definitions.decorators",  # @task and its kin: the branches are BaseBranchOperators
    "airflow.providers.standard.decorators.branch_python",  # @task.branch: five __init__ levels a task
    "airflow.providers.standard.triggers.temporal",  # the legal wait defers to it when it runs
    "difflib",  # "did you mean" for an unknown field of the form
    # ours, never needed by a DAG file
    "offboarding_dev.sandbox",
    "offboarding.bulk",
    "offboarding.cases_page",
    "offboarding_dev.rehearsal",
    "offboarding.plugin",
)
BUILT_FROM = ("offboarding.workflows.person", "offboarding.workflows.company", "offboarding.policy")

PROBE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

watched = json.loads(sys.argv[2])
preloaded = sorted(m for m in watched if m in sys.modules)
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "dags": sorted(bag.dag_ids),
    "errors": {str(k): str(v)[-500:] for k, v in bag.import_errors.items()},
    "preloaded": preloaded,
    "loaded": sorted(m for m in watched if m in sys.modules),
}))
"""


@pytest.fixture(scope="module")
def parsed() -> dict[str, object]:
    """Parse dags/ in a fresh interpreter; which watched modules were there before and after."""
    watched = json.dumps([*RUNTIME_ONLY, *BUILT_FROM])
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(DAGS), watched],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_dags_parse(parsed: dict[str, object]) -> None:
    assert parsed["errors"] == {}
    assert {
        "offboard_employee",
        "dissolve_company",
        "offboarding_watchdog",
        "offboarding_backup_retention",
    } <= set(parsed["dags"])


def test_the_probe_sees_what_the_dags_import(parsed: dict[str, object]) -> None:
    # The check below is only worth something if the probe does see the modules the DAGs are built from,
    # and if Airflow itself imports none of the watched modules before the DAG files are read.
    assert set(BUILT_FROM) <= set(parsed["loaded"])
    assert parsed["preloaded"] == []


def test_parsing_imports_no_runtime_only_module(parsed: dict[str, object]) -> None:
    imported = sorted(set(RUNTIME_ONLY) & set(parsed["loaded"]))
    assert imported == [], (
        f"parsing dags/ imported {imported}: find the top-level import that pulls it in "
        "(python -X importtime shows who imports it) and make it lazy"
    )
