"""LegalDeadlineTrigger: exact serialization, firing on the absolute wake time, surviving a restart."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pendulum
import pytest
from airflow.sdk.serde import deserialize, serialize
from airflow.triggers.base import TriggerEvent
from structlog.testing import capture_logs

from offboarding.triggers import legal_deadline
from offboarding.triggers.legal_deadline import LegalDeadlineTrigger

DEADLINE = pendulum.datetime(2025, 10, 10, tz="Asia/Shanghai")
REAL_SLEEP = asyncio.sleep


def _stored_and_reloaded(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Trigger kwargs as the triggerer gets them back from the database (Airflow's serde, as JSON)."""
    return deserialize(json.loads(json.dumps(serialize(kwargs))))


async def _first_event(trigger: LegalDeadlineTrigger) -> TriggerEvent:
    return await trigger.run().__anext__()


def test_serialize_gives_the_exact_classpath_and_kwargs() -> None:
    wake_at = pendulum.datetime(2025, 8, 18, 9, 0, 45, tz="UTC")
    trigger = LegalDeadlineTrigger(deadline=DEADLINE, wake_at=wake_at, label="notice period end")
    classpath, kwargs = trigger.serialize()
    assert classpath == "offboarding.triggers.legal_deadline.LegalDeadlineTrigger"
    assert kwargs == {"deadline": DEADLINE, "wake_at": wake_at, "label": "notice period end"}
    assert set(kwargs) == {"deadline", "wake_at", "label"}


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^deadline must be timezone-aware"):
        LegalDeadlineTrigger(deadline=dt.datetime(2025, 10, 10), wake_at=DEADLINE, label="x")
    with pytest.raises(ValueError, match=r"^wake_at must be timezone-aware"):
        LegalDeadlineTrigger(deadline=DEADLINE, wake_at="2025-10-10T00:00:00", label="x")


async def test_run_fires_at_wake_at_with_the_deadline() -> None:
    wake_at = pendulum.now("UTC").add(seconds=0.2)
    trigger = LegalDeadlineTrigger(deadline=DEADLINE, wake_at=wake_at, label="cooling-off end")
    event = await asyncio.wait_for(_first_event(trigger), timeout=30)
    fired_at = pendulum.now("UTC")
    assert fired_at >= wake_at
    assert event.payload == {
        "status": "reached",
        "deadline": "2025-10-10T00:00:00+08:00",
        "wake_at": wake_at.in_timezone("Asia/Shanghai").isoformat(),
    }


async def test_a_past_wake_at_fires_at_once() -> None:
    trigger = LegalDeadlineTrigger(deadline=DEADLINE, wake_at=DEADLINE, label="notice period end")
    event = await asyncio.wait_for(_first_event(trigger), timeout=5)
    assert event.payload["status"] == "reached"


async def test_run_sleeps_in_bounded_steps_and_logs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(legal_deadline, "MAX_SLEEP_SECONDS", 0.02)
    sleeps: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await REAL_SLEEP(seconds)

    monkeypatch.setattr(legal_deadline.asyncio, "sleep", recording_sleep)
    wake_at = pendulum.now("UTC").add(seconds=0.2)
    trigger = LegalDeadlineTrigger(deadline=DEADLINE, wake_at=wake_at, label="review due")
    with capture_logs() as logs:
        await asyncio.wait_for(_first_event(trigger), timeout=30)
    assert len(sleeps) >= 5
    assert max(sleeps) <= 0.02
    lines = [entry["event"] for entry in logs]
    assert lines == [
        f"Waiting for review due: legal deadline 2025-10-10 00:00 (Asia/Shanghai), waking at "
        f"{wake_at.isoformat()} (wall clock)"
    ]


async def test_a_recreated_trigger_keeps_the_deadline_and_the_wake_time() -> None:
    wake_at = pendulum.now("UTC").add(seconds=0.3)
    original = LegalDeadlineTrigger(deadline=DEADLINE, wake_at=wake_at, label="notice period end")
    running = asyncio.ensure_future(_first_event(original))
    await asyncio.sleep(0.05)
    running.cancel()  # the triggerer dies mid-wait
    with pytest.raises(asyncio.CancelledError):
        await running

    classpath, kwargs = original.serialize()
    assert classpath.rsplit(".", 1)[-1] == "LegalDeadlineTrigger"
    recreated = LegalDeadlineTrigger(**_stored_and_reloaded(kwargs))  # a new triggerer takes over
    assert recreated.deadline == original.deadline
    assert recreated.wake_at == original.wake_at
    assert recreated.serialize()[1] == kwargs

    event = await asyncio.wait_for(_first_event(recreated), timeout=30)
    assert pendulum.now("UTC") >= wake_at  # not restarted from zero, not early either
    assert event.payload["deadline"] == "2025-10-10T00:00:00+08:00"
    assert event.payload["wake_at"] == wake_at.in_timezone("Asia/Shanghai").isoformat()


class FakeClock:
    """A wall clock that only moves when the trigger sleeps (45 days pass in microseconds)."""

    def __init__(self, start: pendulum.DateTime) -> None:
        self.now = start
        self.slept: list[float] = []

    def read(self, tz: str = "UTC") -> pendulum.DateTime:
        return self.now.in_timezone(tz)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now = self.now.add(microseconds=int(seconds * 1_000_000))
        await REAL_SLEEP(0)


async def test_after_a_restart_mid_wait_only_the_remaining_time_is_slept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = pendulum.datetime(2026, 3, 4, 9, 0, tz="UTC")
    deadline = pendulum.datetime(2026, 4, 18, tz="Asia/Shanghai")  # a 45-day notice, real time
    clock = FakeClock(start)
    monkeypatch.setattr(legal_deadline.pendulum, "now", clock.read)
    monkeypatch.setattr(legal_deadline.asyncio, "sleep", clock.sleep)

    original = LegalDeadlineTrigger(deadline=deadline, wake_at=deadline, label="notice period end")
    clock.now = start.add(days=20)  # the triggerer ran for 20 days, then was restarted
    recreated = LegalDeadlineTrigger(**_stored_and_reloaded(original.serialize()[1]))
    event = await _first_event(recreated)

    assert clock.now == deadline  # woke exactly at the absolute deadline
    assert sum(clock.slept) == pytest.approx((deadline - start.add(days=20)).total_seconds())
    assert max(clock.slept) <= legal_deadline.MAX_SLEEP_SECONDS
    assert event.payload["deadline"] == "2026-04-18T00:00:00+08:00"
