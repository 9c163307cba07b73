"""When a step counts as stalled and how often it is reminded: the alert cadence, from the duration policy.

Every figure comes from ``include/policy.yaml`` (``alerts`` and ``human_steps``); nothing is a literal
here. Two figures the policy may not carry yet fall back to the reminder interval:

* ``default_step_duration`` — how long a step with no entry in ``human_steps`` (an automatic task,
  a retry) may take before it counts as stalled;
* ``legal_wait_grace`` — how long after its legal deadline a wait may still be waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offboarding.policy import Policy, StepDuration, get_policy


@dataclass(frozen=True)
class AlertTiming:
    """The alert cadence and the expected durations of steps."""

    reminder_interval: dt.timedelta
    escalate_after_reminders: int
    default_step_duration: StepDuration
    legal_wait_grace: dt.timedelta
    step_durations: Mapping[str, StepDuration] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reminder_interval <= dt.timedelta(0):
            raise ValueError(f"reminder_interval must be positive, got {self.reminder_interval}")
        if self.escalate_after_reminders < 0:
            raise ValueError(
                f"escalate_after_reminders must not be negative, got {self.escalate_after_reminders}"
            )
        if self.legal_wait_grace < dt.timedelta(0):
            raise ValueError(f"legal_wait_grace must not be negative, got {self.legal_wait_grace}")

    def duration_for(self, step_id: str) -> StepDuration:
        """The policy's expected duration of ``step_id``, else the default step duration."""
        return self.step_durations.get(step_id, self.default_step_duration)

    @classmethod
    def from_policy(cls, policy: Policy | None = None) -> AlertTiming:
        """The cadence of the deployment's policy (``get_policy()`` when none is given)."""
        chosen = policy or get_policy()
        alerts: Any = chosen.alerts
        default_step = getattr(alerts, "default_step_duration", None) or StepDuration(
            alerts.reminder_interval_hours, "hours"
        )
        grace = getattr(alerts, "legal_wait_grace", None) or alerts.reminder_interval
        return cls(
            reminder_interval=alerts.reminder_interval,
            escalate_after_reminders=alerts.escalate_after_reminders,
            default_step_duration=default_step,
            legal_wait_grace=grace,
            step_durations=dict(chosen.human_steps),
        )
