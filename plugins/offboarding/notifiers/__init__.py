"""Notifiers for WeCom, in the style of Airflow's provider notifiers (``SlackWebhookNotifier``).

* :class:`WeComRobotNotifier` / ``send_wecom_robot_notification`` — a group robot (群机器人) message;
* :class:`WeComAppMessageNotifier` / ``send_wecom_app_message_notification`` — an app message
  (应用消息) to members.

Both work as task/DAG callbacks and human-step ``notifiers`` (``notify``) and as Deadline Alert
``AsyncCallback`` in the triggerer (``async_notify``). The names are loaded on first use, so a DAG
file that names a notifier does not import its run-time dependencies. Message sizing and the group
robot's send queue belong to the WeCom client (:mod:`offboarding.wecom.content`,
:mod:`offboarding.wecom.robot_queue`): the hooks use them from there, never from this package.
"""

from __future__ import annotations

from offboarding.lazy_exports import lazy_exports

_EXPORTS = {
    "WeComAppMessageNotifier": "offboarding.notifiers.app_message",
    "send_wecom_app_message_notification": "offboarding.notifiers.app_message",
    "WeComRobotNotifier": "offboarding.notifiers.robot",
    "send_wecom_robot_notification": "offboarding.notifiers.robot",
    "TRUNCATION_MARKER": "offboarding.wecom.content",
    "fit_to_bytes": "offboarding.wecom.content",
    "RobotQueueError": "offboarding.wecom.robot_queue",
    "RobotQueueTimeout": "offboarding.wecom.robot_queue",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
