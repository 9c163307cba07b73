"""Watch every open offboarding case for stalled or failed steps and alert their owners in WeCom.

Every few minutes (``OFFBOARDING_WATCHDOG_INTERVAL_MINUTES``, default 15) one round reads the waiting
and failed steps of the case DAGs through Airflow's REST API (connection ``offboarding_airflow_api``),
alerts the FIRST time a step is past due, reminds every ``alerts.reminder_interval`` of the duration
policy, escalates after ``alerts.escalate_after_reminders`` reminders, and stays quiet once the step
moves. Failed steps are alerted once, with their error. See README › "Alerts and the cases page".
"""

from __future__ import annotations

import pendulum
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from offboarding.alerting.schedule import watchdog_interval
from offboarding.alerting.task import run_watchdog_round

with DAG(
    dag_id="offboarding_watchdog",
    description="Alert owners in WeCom when an offboarding step stalls or fails",
    schedule=watchdog_interval(),
    start_date=pendulum.datetime(2025, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # one round at a time: a slow round must not overlap the next
    tags=["offboarding-ops", "wecom"],
    doc_md=__doc__,
) as dag:
    PythonOperator(
        task_id="alert_on_stalled_steps",
        python_callable=run_watchdog_round,
        doc_md=(
            "**One watchdog round.** Lists waiting/failed steps of the case DAGs, sends first alerts, "
            "reminders and escalations, remembers what it said in `$OFFBOARDING_DATA_DIR/alerts/state.json`.\n\n"
            "**If it fails:** the log names the robot or app-message recipient that could not be reached "
            "(wrong connection, robot removed from the group) or the REST API problem (connection "
            "`offboarding_airflow_api`). Alerts not delivered are sent again by the next round."
        ),
    )
