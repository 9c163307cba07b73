"""Who hears an alert: the case's ``notify`` recipients, else the deployment's default, plus escalation.

| variable | meaning |
|---|---|
| ``OFFBOARDING_ALERT_WEBHOOK_CONN_ID`` | group robot (``wecom_webhook`` connection) for cases whose ``notify`` is empty |
| ``OFFBOARDING_ESCALATION_WEBHOOK_CONN_ID`` | group robot that also gets reminders once a step was reminded ``alerts.escalate_after_reminders`` times |

A case's ``notify`` (trigger form) is ``{"webhook_conn_id": ..., "userids": [...]}``: a robot
connection and/or WeCom userids who get an app message through the case's ``wecom_conn_id``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from offboarding.settings import ALERT_WEBHOOK_ENV

if TYPE_CHECKING:
    from offboarding.alerting.decide import Alert

ESCALATION_WEBHOOK_ENV = "OFFBOARDING_ESCALATION_WEBHOOK_CONN_ID"

ROBOT = "robot"
APP_MESSAGE = "app_message"


@dataclass(frozen=True)
class Recipient:
    """One place a message goes: a robot connection, or userids through a WeCom connection."""

    channel: str  # ROBOT | APP_MESSAGE
    conn_id: str
    userids: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.channel == ROBOT:
            return f"robot connection {self.conn_id}"
        return f"app message to {', '.join(self.userids)} via connection {self.conn_id}"


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = (environ.get(name) or "").strip()
    return value or None


def recipients_for(alert: Alert, environ: Mapping[str, str] | None = None) -> list[Recipient]:
    """Where ``alert`` goes (empty: the alert shows in the watchdog's log only)."""
    env = os.environ if environ is None else environ
    case = alert.step.case
    chosen: list[Recipient] = []
    if case.webhook_conn_id:
        chosen.append(Recipient(ROBOT, case.webhook_conn_id))
    if case.userids:
        chosen.append(Recipient(APP_MESSAGE, case.wecom_conn_id, case.userids))
    if not chosen and (default := _env(env, ALERT_WEBHOOK_ENV)):
        chosen.append(Recipient(ROBOT, default))
    escalation = _env(env, ESCALATION_WEBHOOK_ENV) if alert.escalate else None
    if escalation and Recipient(ROBOT, escalation) not in chosen:
        chosen.append(Recipient(ROBOT, escalation))
    return chosen
