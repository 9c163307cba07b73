"""The triggerer side of legal-deadline waits deferred by earlier versions: kept only for them.

New waits (:class:`~offboarding.sensors.legal_deadline.LegalDeadlineSensor`) defer to the standard
provider's ``DateTimeTrigger``. A deployment upgraded while waits were deferred still has trigger rows
with this class path; the triggerer re-creates them from their serialized kwargs, so this class stays
importable under the same path and fires them as before (the sensor accepts its event).

The trigger carries absolute instants only (the legal deadline and the wall-clock wake time), so a
trigger re-created after a triggerer restart (from its serialized kwargs) keeps the same deadline
and fires at the same wall time. It has no side effects and logs one line when it starts, not one
per sleep step, so a 45-day wait leaves a readable log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pendulum
from airflow.triggers.base import BaseTrigger, TriggerEvent

from offboarding.legal_time.clock import format_local, parse_instant

CLASSPATH = "offboarding.triggers.legal_deadline.LegalDeadlineTrigger"
# Longest single sleep: the loop re-reads the clock at least this often, so a suspended machine or
# a clock step is noticed within this bound.
MAX_SLEEP_SECONDS = 3600.0


class LegalDeadlineTrigger(BaseTrigger):
    """Fires once ``wake_at`` (wall clock) has passed, reporting the legal ``deadline`` it stands for.

    :param deadline: the legal instant being waited for (timezone-aware).
    :param wake_at: the wall-clock instant to fire at (= ``deadline`` unless the run is a rehearsal
        with compressed time, see :mod:`offboarding.timescale`).
    :param label: what is being waited for, for the log ("notice period end").
    """

    def __init__(self, deadline: dt.datetime | str, wake_at: dt.datetime | str, label: str) -> None:
        super().__init__()
        self.deadline = parse_instant(deadline, "deadline")
        self.wake_at = parse_instant(wake_at, "wake_at")
        self.label = str(label)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (CLASSPATH, {"deadline": self.deadline, "wake_at": self.wake_at, "label": self.label})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        self.log.info(
            "Waiting for %s: legal deadline %s, waking at %s (wall clock)",
            self.label,
            format_local(self.deadline),
            self.wake_at.in_timezone("UTC").isoformat(),
        )
        while (remaining := (self.wake_at - pendulum.now("UTC")).total_seconds()) > 0:
            await asyncio.sleep(min(remaining, MAX_SLEEP_SECONDS))
        yield TriggerEvent(
            {"status": "reached", "deadline": self.deadline.isoformat(), "wake_at": self.wake_at.isoformat()}
        )
