"""Undo a rescinded offboarding case (the person stays), as far as WeCom allows.

Started by the offboarding plugin when a case is rescinded (cases page, ``offboarding case rescind`` or
``POST /offboarding/api/cases/{case_id}/rescind``) with run id ``rescind-<case_id>-<action_id>`` and conf
``{"case_id", "dag_id", "run_id", "reason", "action_id"}``. Waits until the case run has stopped, then
re-enables the member, restores departments, app-created tags and app group chats, hands customer groups
and customers back from the successor (per item: WeCom's answer, never dropped) and records
``case.rescinded``. Refused once the member was deleted. See README › "Operating a case".
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from offboarding.workflows.rescind import undo_case

with DAG(
    dag_id="offboarding_rescind",
    description="Undo a rescinded offboarding case: re-enable, restore memberships, hand customers back",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=50,
    tags=["offboarding", "wecom"],
    doc_md=__doc__,
) as dag:
    undo_case()
