"""One run per layoff list (批量优化): the persons of one HR export, offboarded together as one case.

Back up, hand over and delete every listed person in batches of 200 (the company wind-up's batches),
after one approval for the whole list and the end of their shared last working day. Trigger it with
``offboarding bulk-trigger export.csv --one-case <list id>`` (or the UI form / REST); the run id is the
case id (``layoff-<list id>``), so a list is never offboarded twice. A person with steps of their own (a
legal representative, an account to deregister) gets an ``offboard_employee`` case instead.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from offboarding.alerting import case_deadline_alert
from offboarding.cases import layoff_params
from offboarding.policy import get_policy
from offboarding.settings import max_active_cases
from offboarding.workflows import layoff

with DAG(
    dag_id="offboard_layoff",
    description="Offboard a list of persons leaving together (批量优化) from WeCom, as one case",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=max_active_cases("layoff"),  # a backstop: waits hold no slot; docs/deployment.md
    max_active_tasks=32,
    tags=["offboarding", "wecom", "layoff"],
    deadline=case_deadline_alert(
        get_policy().alerts.case_deadline("person")
    ),  # a list lives as a person's case
    doc_md=__doc__,
) as dag:
    preflight = layoff.preflight()
    group, persons = layoff.offboard_listed_persons()
    approve = layoff.approve_list_deletion()
    close = layoff.close_case()

    preflight.members >> persons.plan >> approve >> persons.batches
    preflight.wait >> persons.batches  # approved early, deleted only after the last working day
    persons.summary >> close

# The form is attached once the tasks are built (why: the same lines in offboard_employee.py).
dag.params = layoff_params()
