"""What the four backup tasks share: their task ids.

The member they back up and evidence entries: :mod:`offboarding.operators.adapter`; what they save:
:mod:`offboarding.steps.person_backup` (profile, customers), JSON Lines: :mod:`offboarding.steps.jsonl`.
"""

from __future__ import annotations

SNAPSHOT_TASK_ID = "backup.snapshot_profile_and_memberships"
CUSTOMERS_TASK_ID = "backup.export_customers_and_groups"
WEDRIVE_TASK_ID = "backup.export_wedrive_files"
BACKUP_TASK_IDS = (SNAPSHOT_TASK_ID, CUSTOMERS_TASK_ID, WEDRIVE_TASK_ID)
"""The tasks whose results the verification collects into the manifest, in the ``offboard_employee`` DAG."""
