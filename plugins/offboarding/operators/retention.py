"""``purge_expired_backups``: the daily purge of backups past their retention date, with evidence."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator, Context
from airflow.sdk.exceptions import AirflowFailException

PURGE_DOC = """\
**Purge backups past their retention date (个人信息保护法).** For every case folder in every storage root
of the deployment (`$OFFBOARDING_DATA_DIR/cases` and the roots of `OFFBOARDING_BACKUP_ROOTS`) whose
manifest's `retention_until` (policy `backup.retention_days` after the backup) is before today (China
date): removes the backup files and the manifest, keeps `evidence/` (ledger, report) and `case.json`, and
appends one `backup.purged` entry to the case's ledger (files and bytes removed, the manifest's sha256).

**Dry run:** trigger with `dry_run` = true to list what would be removed; nothing changes.

**Cases left alone:** a case without a manifest (its backup never verified) is listed as `no_manifest` in
the result; look at it by hand.

**Needs:** the deployment's evidence key (Airflow Connection `offboarding_evidence_key`): each purge is a
ledger entry authenticated with it; without it the task fails before anything is removed.

**If it fails:** the log names the root (check the volume or the bucket credentials) or the case folder
that could not be purged (e.g. a file without write permission); the other cases were purged. Clear the
task once fixed; a purge is safe to run again.
"""


class PurgeExpiredBackupsOperator(BaseOperator):
    """Purge expired backups in every storage root; fails (after purging the rest) if a case could not be."""

    ui_color = "#f4e8e8"

    def execute(self, context: Context) -> dict[str, Any]:
        from offboarding.backup.errors import BackupConfigError
        from offboarding.backup.retention import FAILED, china_today, purge_expired_backups
        from offboarding.backup.roots import configured_roots
        from offboarding.operators.base import _evidence_key

        dry_run = bool(context["params"].get("dry_run"))
        try:
            roots = list(configured_roots().values())
        except BackupConfigError as err:
            raise AirflowFailException(str(err)) from None
        key = _evidence_key()  # each purge is a ledger entry, authenticated like every other one
        summary = purge_expired_backups(
            roots,
            today=china_today(),
            dry_run=dry_run,
            actor="airflow:backup_retention",
            key=key,
            step=self.task_id,
        )
        result = summary.to_dict()
        for case in summary.cases:
            if case.outcome != "not_due":
                self.log.info(
                    "%s/%s: %s (retention until %s, %d files, %d bytes) %s",
                    case.root,
                    case.case_id,
                    case.outcome,
                    case.retention_until,
                    case.files,
                    case.bytes,
                    case.detail,
                )
        self.log.info("backup retention%s: %s", " (dry run)" if dry_run else "", result["counts"])
        failed = [c for c in summary.cases if c.outcome == FAILED]
        if failed:
            raise RuntimeError(
                f"{len(failed)} case folder(s) could not be purged: "
                + "; ".join(f"{c.root}/{c.case_id}: {c.detail}" for c in failed[:10])
            )
        return result
