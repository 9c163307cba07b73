"""One run per dissolving company: legal steps, the notice period, every member out of WeCom, closure.

Trigger it from the UI form, the REST API or the CLI; the run id is the case id
(``dissolve-<unified social credit code>``), so a company is never dissolved by two runs.

``max_active_runs`` (``OFFBOARDING_MAX_ACTIVE_COMPANY_CASES``, default 1,000): a run stays active for the
whole notice period (20 or 45 days) and more, so the default of 16 would queue the 17th company; the
waits hold no worker or pool slot, so the limit is only a backstop (sizing: docs/deployment.md). Each
run's member batches are throttled by itself (4 at a time, sharing WeCom's per-corp limit) and run in
the ``offboarding_wecom_writes`` pool. No wait uses a sensor timeout: the notice wait is parked, then deferred, until its legal end. The whole case has a
Deadline Alert (the policy's alerts.company_case_days).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from offboarding.alerting import case_deadline_alert
from offboarding.cases import company_params
from offboarding.policy import get_policy
from offboarding.settings import max_active_cases
from offboarding.workflows import company
from offboarding.workflows.deregistration import GROUP, account_deregistration

with DAG(
    dag_id="dissolve_company",
    description="Dissolve a company: legal steps, notice period, every WeCom member out, enterprise closed",
    schedule=None,
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=max_active_cases("company"),  # a backstop (1,000): waits hold no slot
    max_active_tasks=32,
    tags=["offboarding", "wecom", "company"],
    deadline=case_deadline_alert(get_policy().alerts.case_deadline("company")),
    doc_md=__doc__,
) as dag:
    preflight = company.preflight()
    legal = company.legal_representative_steps()
    notice = company.dissolution_notice()
    members = company.offboard_all_members()
    approve = company.approve_member_deletion()
    closure = company.close_wecom_enterprise()
    deregistration = account_deregistration(
        userid="{{ params.admin_userid }}",
        name="the admin {{ params.admin_userid }} of {{ params.company_name }}",
        owner=company.LEGAL_REPRESENTATIVE,
        requested="{{ params.deregister_admin_account }}",
    )
    close = company.close_case()

    preflight.eligible >> [legal, notice]
    [legal, notice] >> members.plan >> approve >> members.batches
    members.summary >> deregistration.guide
    # The guide goes out while the admin still has an enterprise to receive it; then the closure.
    deregistration.group.children[f"{GROUP}.send_deregistration_guide"] >> closure
    members.summary >> closure >> deregistration.submission
    # The case closes after the enterprise closure, also when the admin's account stays (then the
    # deregistration group ends early, right after its choice).
    [deregistration.group, closure] >> close


# The form is attached once the tasks are built (why: the same lines in offboard_employee.py).
dag.params = company_params()
