"""Notifiers for WeCom, in the style of Airflow's provider notifiers (``SlackWebhookNotifier``).

* :class:`WeComRobotNotifier` / ``send_wecom_robot_notification`` — a group robot (群机器人) message;
* :class:`WeComAppMessageNotifier` / ``send_wecom_app_message_notification`` — an app message
  (应用消息) to members.

Both work as task/DAG callbacks and human-step ``notifiers`` (``notify``) and as Deadline Alert
``AsyncCallback`` in the triggerer (``async_notify``). The names are loaded on first use, so the
hooks can use this package's content helpers and robot queue without importing the notifiers.
"""

from __future__ import annotations

from offboarding.lazy_exports import lazy_exports

_EXPORTS = {
    "WeComAppMessageNotifier": "offboarding.notifiers.app_message",
    "send_wecom_app_message_notification": "offboarding.notifiers.app_message",
    "WeComRobotNotifier": "offboarding.notifiers.robot",
    "send_wecom_robot_notification": "offboarding.notifiers.robot",
    "TRUNCATION_MARKER": "offboarding.notifiers.content",
    "fit_to_bytes": "offboarding.notifiers.content",
    "RobotQueueError": "offboarding.notifiers.robot_queue",
    "RobotQueueTimeout": "offboarding.notifiers.robot_queue",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
