"""One round of the stalled-step watchdog: read the steps, decide, tell people, remember.

The DAG ``offboarding_watchdog`` runs :func:`run_watchdog` every few minutes. A round:

1. locks the alert state ``$OFFBOARDING_DATA_DIR/alerts/state.json`` (one round at a time per host);
2. lists the waiting and failed steps of the case DAGs through Airflow's REST API
   (:mod:`offboarding.alerting.airflow_source`);
3. decides with :func:`offboarding.alerting.decide.decide` (first alert, reminders, escalation,
   failed steps once, forget what moved);
4. sends the alerts, packed per recipient (:mod:`offboarding.alerting.targets`);
5. saves the state — alerts that reached nobody are tried again next round — and fails the task,
   naming the recipients that could not be reached, if any.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from offboarding import settings
from offboarding.alerting.decide import FAILED, Alert, decide, keep_undelivered
from offboarding.alerting.messages import alert_markdown, pack
from offboarding.alerting.steps import WatchedStep
from offboarding.alerting.targets import ROBOT, Recipient, recipients_for
from offboarding.alerting.timing import AlertTiming
from offboarding.wecom.content import APP_MESSAGE_MAX_BYTES, ROBOT_MARKDOWN_MAX_BYTES
from offboarding.wecom.shared_state import FileSharedState, SharedState

log = logging.getLogger(__name__)

ALERTS_FOLDER = "alerts"
STATE_NAME = "state"

Sender = Callable[[Recipient, str], None]


class AlertDeliveryError(RuntimeError):
    """Some alerts could not be sent; they are tried again next round."""


def alert_state() -> SharedState:
    """The watchdog's memory: ``$OFFBOARDING_DATA_DIR/alerts/state.json`` (file-locked, 0600)."""
    return FileSharedState(settings.data_dir() / ALERTS_FOLDER, STATE_NAME)


def send_with_hooks(recipient: Recipient, markdown: str) -> None:
    """Send one markdown message: through a group robot, or as an app message to userids."""
    if recipient.channel == ROBOT:
        from offboarding.hooks.webhook import WeComWebhookHook

        WeComWebhookHook(recipient.conn_id).send_markdown(markdown)
        return
    from offboarding.hooks.wecom import WeComHook

    result = WeComHook(recipient.conn_id).app_messages.send_markdown(list(recipient.userids), markdown)
    if result.invaliduser:
        log.warning("WeCom does not know %s; they did not get the alert", ", ".join(result.invaliduser))


def deliver(
    alerts: Iterable[Alert], send: Sender, environ: dict[str, str] | None = None
) -> tuple[set[str], list[str]]:
    """Send every alert to its recipients, packed per recipient.

    Returns the keys of alerts that reached nobody and one problem line per failed message.
    """
    per_recipient: dict[Recipient, list[Alert]] = {}
    reached: dict[str, bool] = {}
    for alert in alerts:
        recipients = recipients_for(alert, environ)
        reached.setdefault(alert.step.key, not recipients)  # no recipient: the log is the alert
        for recipient in recipients:
            per_recipient.setdefault(recipient, []).append(alert)
    problems: list[str] = []
    for recipient, batch in per_recipient.items():
        limit = ROBOT_MARKDOWN_MAX_BYTES if recipient.channel == ROBOT else APP_MESSAGE_MAX_BYTES
        for message, carried in pack(((alert, alert_markdown(alert)) for alert in batch), limit):
            try:
                send(recipient, message)
            except Exception as exc:
                problems.append(f"{recipient.describe()}: {type(exc).__name__}: {exc}")
                continue
            for alert in carried:
                reached[alert.step.key] = True
    return {key for key, ok in reached.items() if not ok}, problems


def run_watchdog(
    *,
    api: Any = None,
    timing: AlertTiming | None = None,
    now: dt.datetime | None = None,
    state: SharedState | None = None,
    send: Sender = send_with_hooks,
    collect: Callable[..., list[WatchedStep]] | None = None,
) -> dict[str, Any]:
    """One round; returns counts for XCom. Raises :class:`AlertDeliveryError` after saving if sends failed.

    ``collect`` replaces the REST source (tests): then the alerts' recipients are not corrected either.
    """
    from offboarding.alerting.airflow_source import WatchdogApi, collect_steps, with_corrected_recipients

    timing = timing or AlertTiming.from_policy()
    corrected = with_corrected_recipients if collect is None else None
    collect = collect or collect_steps
    problems: list[str] = []
    with (state or alert_state()).transaction() as document:
        previous = dict(document.get("steps") or {})
        known_failed = [key for key, entry in previous.items() if entry.get("kind") == FAILED]
        client = api or WatchdogApi.from_connection()
        steps = collect(client, timing, known_failed=known_failed)
        moment = now or dt.datetime.now(dt.UTC)
        decision = decide(steps, moment, previous, timing)
        alerts = corrected(decision.alerts, client) if corrected is not None else decision.alerts
        for alert in alerts:
            log.warning("ALERT %s: %s", alert.kind, alert_markdown(alert).replace("\n", " | "))
        undelivered, problems = deliver(alerts, send)
        document["steps"] = keep_undelivered(decision.state, previous, undelivered)
        document["checked_at"] = moment.isoformat()
    summary = {
        "watched_steps": len(steps),
        "stalled_steps": sum(1 for e in document["steps"].values() if e.get("kind") != FAILED),
        "alerts": len(decision.alerts),
        "undelivered": len(undelivered),
        "api_requests": getattr(client, "requests_sent", None),
    }
    log.info("Watchdog round: %s", summary)
    if problems:
        raise AlertDeliveryError(
            f"{len(problems)} alert message(s) could not be sent (tried again next round): "
            + "; ".join(problems)
        )
    return summary
