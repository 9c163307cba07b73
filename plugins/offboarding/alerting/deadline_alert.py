"""A DAG-level Deadline Alert for a whole case: "this case is still open N after it was queued".

Airflow 3.3 has deadlines on DAG runs only (not on tasks); the per-step watchdog covers steps. Use::

    from offboarding.alerting import case_deadline_alert

    with DAG(..., deadline=case_deadline_alert(timedelta(days=60))):
        ...

The callback is :class:`~offboarding.notifiers.robot.WeComRobotNotifier`, awaited in the triggerer
(``AsyncCallback``); it renders its markdown against the deadline context (``dag_run``, ``deadline``).
"""

from __future__ import annotations

import datetime as dt
import os

from airflow.sdk import AsyncCallback, DeadlineAlert, DeadlineReference

from offboarding.settings import ALERT_WEBHOOK_ENV

NOTIFIER_PATH = "offboarding.notifiers.robot.WeComRobotNotifier"
DEFAULT_WEBHOOK_CONN_ID = "wecom_webhook_default"

CASE_DEADLINE_MARKDOWN = (
    '**<font color="warning">Offboarding case past its deadline</font>**\n'
    "> Case: `{{ dag_run.run_id }}` ({{ dag_run.dag_id }})\n"
    "> Queued at {{ dag_run.queued_at }}; deadline {{ deadline.deadline_time }}\n"
    "> The case is still open: look for its stalled step on the Offboarding cases page."
)


def case_deadline_alert(
    interval: dt.timedelta,
    *,
    webhook_conn_id: str | None = None,
    markdown: str = CASE_DEADLINE_MARKDOWN,
    ui_url: str | None = None,
) -> DeadlineAlert:
    """A Deadline Alert ``interval`` after the case's run was queued, posted to a group robot.

    :param interval: how long a whole case may stay open (from the duration policy of the DAG file).
    :param webhook_conn_id: the robot connection; default ``$OFFBOARDING_ALERT_WEBHOOK_CONN_ID``
        (read when the DAG file is parsed), else ``wecom_webhook_default``.
    :param markdown: the message (templated against ``dag_run`` and ``deadline``).
    :param ui_url: the Airflow UI address; when given, the message links to the run.
    """
    if not isinstance(interval, dt.timedelta) or interval <= dt.timedelta(0):
        raise ValueError(f"interval must be a positive timedelta, got {interval!r}")
    conn_id = webhook_conn_id or os.environ.get(ALERT_WEBHOOK_ENV, "").strip() or DEFAULT_WEBHOOK_CONN_ID
    text = markdown
    if ui_url:
        text += f"\n[Open the run]({ui_url.rstrip('/')}/dags/{{{{ dag_run.dag_id }}}}/runs/{{{{ dag_run.run_id }}}})"
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=interval,
        callback=AsyncCallback(NOTIFIER_PATH, kwargs={"wecom_webhook_conn_id": conn_id, "markdown": text}),
        name="case_deadline",
    )
