"""Stalled-step alerting: the watchdog's rules, its memory, its messages, and the case Deadline Alert.

* :func:`offboarding.alerting.decide.decide` — the pure rules (first alert, reminders, escalation,
  failed steps once, nothing after a step moves);
* :func:`offboarding.alerting.watchdog.run_watchdog` — one round, run by the ``offboarding_watchdog`` DAG;
* :func:`case_deadline_alert` — a DAG-level Deadline Alert for a whole case.

Names are loaded on first use (the DAG files import only what they need).
"""

from __future__ import annotations

from offboarding.lazy_exports import lazy_exports

_EXPORTS = {
    "Alert": "offboarding.alerting.decide",
    "Decision": "offboarding.alerting.decide",
    "decide": "offboarding.alerting.decide",
    "AlertTiming": "offboarding.alerting.timing",
    "CaseInfo": "offboarding.alerting.steps",
    "WatchedStep": "offboarding.alerting.steps",
    "run_watchdog": "offboarding.alerting.watchdog",
    "case_deadline_alert": "offboarding.alerting.deadline_alert",
}


__getattr__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
