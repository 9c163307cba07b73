"""A human step the rehearsal lets stall on purpose, so the watchdog's alerts can be seen.

``make demo`` holds one sample step (:data:`DEMO_STALL`) unanswered until the group robot's inbox in the
sandbox shows the watchdog's first alert about it AND one reminder; then the responder answers it and
the watchdog falls silent about it. :class:`StallUntilReminded` is the responder's ``hold``: it reads the
robot messages through the sandbox's control API and says why the step still waits (None: answer now).

Which messages are about the step: the watchdog packs alerts into one message separated by blank
lines; a block is about the step when it names the run id and the step id. Its title says which kind:
``Offboarding step stalled`` (the first alert) or ``Reminder #N``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from offboarding_dev.rehearsal.answers import HumanStep

FIRST_ALERT_TITLE = "Offboarding step stalled"
REMINDER_TITLE = "Reminder #"


@dataclass(frozen=True)
class StalledStep:
    """The step a rehearsal lets stall: its run (case) id and task id."""

    run_id: str
    task_id: str

    @property
    def step_id(self) -> str:
        return self.task_id.rsplit(".", 1)[-1]

    def label(self) -> str:
        return f"{self.run_id} {self.task_id}"


DEMO_STALL = StalledStep("offboard-sunqi", "statutory_steps.stop_social_insurance")
"""孙七's 社保减员 step (owner: the HR user), held by ``make demo --auto-answer`` until reminded once."""


class RobotInbox(Protocol):
    """What the hold reads: the sandbox control client's robot messages (``SandboxControl`` fits)."""

    def webhook_messages(self, since: str | None = None) -> list[dict[str, Any]]: ...


def alert_blocks(messages: Iterable[Mapping[str, Any]], stalled: StalledStep) -> list[tuple[str, str]]:
    """``(time, block)`` of every alert block about ``stalled`` in the robot messages, oldest first."""
    found = []
    for message in messages:
        for block in str(message.get("content", "")).split("\n\n"):
            if stalled.run_id in block and stalled.step_id in block:
                found.append((str(message.get("at", "")), block))
    return found


def count_alerts(blocks: Sequence[tuple[str, str]]) -> tuple[int, int]:
    """(first alerts, reminders) among the blocks."""
    first = sum(1 for _, block in blocks if FIRST_ALERT_TITLE in block)
    reminders = sum(1 for _, block in blocks if REMINDER_TITLE in block)
    return first, reminders


class StallUntilReminded:
    """The responder's hold: the stalled step waits until its first alert and one reminder arrived."""

    def __init__(self, stalled: StalledStep, inbox: RobotInbox) -> None:
        self.stalled = stalled
        self.inbox = inbox
        self.released = threading.Event()

    def __call__(self, step: HumanStep) -> str | None:
        if step.run_id != self.stalled.run_id or step.task_id != self.stalled.task_id:
            return None
        if self.released.is_set():
            return None
        try:
            blocks = alert_blocks(self.inbox.webhook_messages(), self.stalled)
        except Exception as exc:  # the sandbox unreachable for a moment: keep holding, say why
            return f"held for the demo; cannot read the robot inbox ({type(exc).__name__})"
        first, reminders = count_alerts(blocks)
        if first == 0:
            return "held for the demo until the watchdog alerts the group robot that it is late"
        if reminders == 0:
            return "held for the demo: the watchdog alerted the group robot; waiting for one reminder"
        self.released.set()
        return None


__all__ = [
    "DEMO_STALL",
    "FIRST_ALERT_TITLE",
    "REMINDER_TITLE",
    "StallUntilReminded",
    "StalledStep",
    "alert_blocks",
    "count_alerts",
]
