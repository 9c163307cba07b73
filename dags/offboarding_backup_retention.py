"""Purge offboarding backups past their retention date (个人信息保护法), keeping the evidence.

Every day at 03:00 Asia/Shanghai, every case folder in every storage root of the deployment whose backup
manifest's `retention_until` has passed loses its backup files and manifest; its `evidence/` (ledger,
report) and `case.json` stay, and its ledger gets a `backup.purged` entry. Trigger with `dry_run` = true
to see what would be purged. See docs/deployment.md › "Retention".
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from offboarding.operators.retention import PURGE_DOC, PurgeExpiredBackupsOperator

with DAG(
    dag_id="offboarding_backup_retention",
    description="Purge offboarding backups past their retention date; the evidence ledger is kept",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    tags=["offboarding-ops", "retention"],
    params={
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run (演练, 不删除)",
            description="List the backups that would be purged; remove nothing.",
        )
    },
    doc_md=__doc__,
) as dag:
    PurgeExpiredBackupsOperator(task_id="purge_expired_backups", doc_md=PURGE_DOC)
