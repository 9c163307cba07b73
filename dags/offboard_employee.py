"""One run per departing person: back up, hand over, approve, delete, deregister, close.

Trigger it from the UI form, the REST API, the CLI or ``offboarding bulk-trigger``; the run id is the
case id (``offboard-<userid>``), so the same person is never offboarded twice.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from offboarding.alerting import case_deadline_alert
from offboarding.cases import person_params
from offboarding.policy import get_policy
from offboarding.settings import max_active_cases
from offboarding.workflows import person
from offboarding.workflows.deregistration import account_deregistration

with DAG(
    dag_id="offboard_employee",
    description="Offboard one departing person from WeCom (企业微信), safely and with evidence",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=max_active_cases("person"),  # a backstop (20,000): waits hold no slot; docs/deployment.md
    max_active_tasks=64,
    tags=["offboarding", "wecom"],
    deadline=case_deadline_alert(get_policy().alerts.case_deadline("person")),
    doc_md=__doc__,
) as dag:
    preflight = person.preflight()
    backup = person.backup()
    statutory = person.statutory_steps()
    handover = person.handover()
    approve = person.approve_deletion()
    deletion = person.deletion()
    deregistration = account_deregistration(
        userid="{{ params.userid }}",
        name="{{ params.display_name }} ({{ params.userid }})",
        owner=person.PERSON_OWNER,
        requested="{{ params.deregister_account }}",
    )
    close = person.close_case()

    preflight >> backup >> handover >> approve >> deregistration.guide
    # The guide goes out while the person can still receive app messages; only then the deletion.
    deregistration.guide_sent >> deletion
    [deletion, statutory] >> deregistration.submission  # statutory steps block only the deregistration
    preflight >> statutory
    # The case closes once everything is done, also when no deregistration was asked for (then the
    # deregistration group ends early, right after its choice).
    [deregistration.group, deletion, statutory] >> close

# The form is attached once the tasks are built. Given at the DAG's creation, Airflow deep-copies it into
# every task, once per __init__ level of the task's class (~170 copies of the forms when dags/ is parsed;
# `make bench --only parse_cost`), while a task reads the form from its DAG when it runs. The trigger
# form, its validation and ``params.*`` in templates are the same either way.
dag.params = person_params()
