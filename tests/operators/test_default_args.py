"""A DAG's ``default_args`` fill our operators' own parameters, as they fill any Airflow operator's.

Airflow does that in the wrapper its metaclass puts around every ``__init__`` of an operator class; a
parse-time shortcut that removed the wrapper from our classes would silently drop them.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from offboarding.operators.approval import ApproveDeletionOperator
from offboarding.operators.backup_verify import VerifyBackupManifestOperator


def test_default_args_fill_our_operators_own_parameters() -> None:
    defaults = {"approvers": "legal_wang,ops_li", "source_task_ids": ["backup.a"]}
    with DAG(
        "default_args_probe", schedule=None, start_date=pendulum.datetime(2026, 1, 1), default_args=defaults
    ):
        approve = ApproveDeletionOperator(task_id="approve_deletion")
        verify = VerifyBackupManifestOperator(task_id="verify_backup_manifest")
    assert approve.approvers == "legal_wang,ops_li"
    assert list(verify.source_task_ids) == ["backup.a"]
