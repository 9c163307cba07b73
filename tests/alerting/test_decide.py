"""The alert rules with fixed instants: first alert, reminders, escalation, failed steps, steps that move."""

from __future__ import annotations

import datetime as dt

import pytest

from offboarding.alerting.decide import FAILED, REMINDER, STALLED, decide, keep_undelivered
from offboarding.alerting.steps import HUMAN_STEP, CaseInfo, WatchedStep
from offboarding.alerting.timing import AlertTiming
from offboarding.policy import StepDuration

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 in Shanghai
HOUR = dt.timedelta(hours=1)
TIMING = AlertTiming(
    reminder_interval=dt.timedelta(hours=24),
    escalate_after_reminders=2,
    default_step_duration=StepDuration(24, "hours"),
    legal_wait_grace=dt.timedelta(hours=24),
)
CASE = CaseInfo(case_id="offboard-lisi", kind="person", subject="李四 (lisi)")


def step(
    *,
    task_id: str = "statutory_steps.stop_social_insurance",
    state: str = "awaiting_input",
    try_number: int = 1,
    expected_by: dt.datetime | None = T0 + 10 * HOUR,
    case: CaseInfo = CASE,
    run_id: str = "offboard-lisi",
) -> WatchedStep:
    return WatchedStep(
        dag_id="offboard_employee",
        run_id=run_id,
        task_id=task_id,
        try_number=try_number,
        state=state,
        case=case,
        kind=HUMAN_STEP,
        started_at=T0,
        expected_by=expected_by,
        owners=("hr_wang",),
    )


def rounds(
    steps_per_round: list[list[WatchedStep]], instants: list[dt.datetime]
) -> list[list[tuple[str, int, bool]]]:
    """Run the rules round after round, feeding each round the state of the previous one."""
    state: dict = {}
    said = []
    for steps, now in zip(steps_per_round, instants, strict=True):
        decision = decide(steps, now, state, TIMING)
        said.append([(a.kind, a.reminder_number, a.escalate) for a in decision.alerts])
        state = decision.state
    return said


def test_nothing_before_the_step_is_due() -> None:
    decision = decide([step()], T0 + 9 * HOUR, {}, TIMING)
    assert decision.alerts == []
    assert decision.state == {}


def test_a_step_whose_due_time_is_unknown_is_never_judged() -> None:
    decision = decide([step(expected_by=None)], T0 + 1000 * HOUR, {}, TIMING)
    assert (decision.alerts, decision.state) == ([], {})


def test_exactly_one_alert_the_first_time_a_step_is_past_due() -> None:
    s = step()
    said = rounds([[s]] * 4, [T0 + 10 * HOUR, T0 + 10 * HOUR, T0 + 11 * HOUR, T0 + 33 * HOUR])
    assert said == [[(STALLED, 0, False)], [], [], []]


def test_the_first_alert_names_how_late_and_since_when() -> None:
    [alert] = decide([step()], T0 + 12 * HOUR, {}, TIMING).alerts
    assert alert.overdue == 2 * HOUR
    assert alert.waited == 12 * HOUR
    assert alert.step.owners == ("hr_wang",)


def test_a_reminder_every_interval_then_escalation_after_the_configured_count() -> None:
    s = step()
    instants = [T0 + (10 + 24 * n) * HOUR for n in range(5)]
    said = rounds([[s]] * 5, instants)
    assert said == [
        [(STALLED, 0, False)],
        [(REMINDER, 1, False)],
        [(REMINDER, 2, False)],
        [(REMINDER, 3, True)],  # after 2 reminders the escalation target hears too
        [(REMINDER, 4, True)],
    ]


def test_reminders_count_from_the_last_alert_not_the_round() -> None:
    s = step()
    instants = [T0 + 10 * HOUR, T0 + 33 * HOUR, T0 + 34 * HOUR, T0 + 57 * HOUR, T0 + 58 * HOUR]
    assert rounds([[s]] * 5, instants) == [
        [(STALLED, 0, False)],
        [],
        [(REMINDER, 1, False)],
        [],
        [(REMINDER, 2, False)],
    ]


def test_nothing_more_once_the_step_moves_and_its_state_is_forgotten() -> None:
    s = step()
    state = decide([s], T0 + 10 * HOUR, {}, TIMING).state
    moved = decide([], T0 + 40 * HOUR, state, TIMING)
    assert (moved.alerts, moved.state) == ([], {})
    later = decide([], T0 + 400 * HOUR, moved.state, TIMING)
    assert later.alerts == []


def test_a_new_try_of_the_same_step_is_a_new_alert() -> None:
    first, second = step(try_number=1), step(try_number=2, expected_by=T0 + 50 * HOUR)
    said = rounds([[first], [second], [second]], [T0 + 10 * HOUR, T0 + 20 * HOUR, T0 + 51 * HOUR])
    assert said == [[(STALLED, 0, False)], [], [(STALLED, 0, False)]]


def test_a_step_that_is_no_longer_late_is_forgotten() -> None:
    state = decide([step()], T0 + 10 * HOUR, {}, TIMING).state
    postponed = decide([step(expected_by=T0 + 100 * HOUR)], T0 + 11 * HOUR, state, TIMING)
    assert (postponed.alerts, postponed.state) == ([], {})


def test_a_failed_step_alerts_once_and_is_never_reminded() -> None:
    failed = step(state="failed", expected_by=None)
    said = rounds([[failed]] * 3, [T0, T0 + 100 * HOUR, T0 + 1000 * HOUR])
    assert said == [[(FAILED, 0, False)], [], []]


def test_a_stalled_step_that_then_fails_alerts_again_with_the_failure() -> None:
    waiting, failed = step(state="running"), step(state="failed")
    said = rounds([[waiting], [failed], [failed]], [T0 + 10 * HOUR, T0 + 11 * HOUR, T0 + 50 * HOUR])
    assert said == [[(STALLED, 0, False)], [(FAILED, 0, False)], []]


def test_steps_are_judged_independently() -> None:
    a = step(task_id="statutory_steps.stop_social_insurance")
    b = step(task_id="statutory_steps.seal_housing_fund", expected_by=T0 + 20 * HOUR)
    other_case = step(run_id="offboard-wangwu", case=CaseInfo("offboard-wangwu", "person", "王五 (wangwu)"))
    said = rounds([[a, b, other_case]] * 2, [T0 + 10 * HOUR, T0 + 20 * HOUR])
    assert said == [[(STALLED, 0, False), (STALLED, 0, False)], [(STALLED, 0, False)]]


def test_a_task_instance_listed_twice_alerts_once() -> None:
    s = step()
    assert len(decide([s, s], T0 + 10 * HOUR, {}, TIMING).alerts) == 1


def test_rehearsal_time_scale_compresses_the_reminder_interval() -> None:
    fast = step(case=CaseInfo("offboard-lisi", "person", "李四", time_scale=86400))  # a day in a second
    instants = [
        T0 + 10 * HOUR,
        T0 + 10 * HOUR + dt.timedelta(seconds=0.5),
        T0 + 10 * HOUR + dt.timedelta(seconds=1),
    ]
    assert rounds([[fast]] * 3, instants) == [[(STALLED, 0, False)], [], [(REMINDER, 1, False)]]


def test_the_input_state_is_not_changed() -> None:
    state = {"offboard_employee|offboard-lisi|gone|-1|1": {"kind": STALLED, "reminders": 0}}
    decide([], T0, state, TIMING)
    assert "offboard_employee|offboard-lisi|gone|-1|1" in state


def test_undelivered_alerts_keep_the_old_state_so_the_next_round_retries() -> None:
    s = step()
    first = decide([s], T0 + 10 * HOUR, {}, TIMING)
    kept = keep_undelivered(first.state, {}, [s.key])
    assert kept == {}
    retried = decide([s], T0 + 11 * HOUR, kept, TIMING)
    assert [a.kind for a in retried.alerts] == [STALLED]

    reminder = decide([s], T0 + 34 * HOUR, first.state, TIMING)
    assert [a.kind for a in reminder.alerts] == [REMINDER]
    assert keep_undelivered(reminder.state, first.state, [s.key]) == first.state


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        decide([], dt.datetime(2026, 1, 1), {}, TIMING)


def test_timing_comes_from_the_policy() -> None:
    timing = AlertTiming.from_policy()
    assert timing.reminder_interval == dt.timedelta(hours=24)
    assert timing.escalate_after_reminders == 3
    assert timing.duration_for("approve_deletion") == StepDuration(1, "working_days")
    assert timing.duration_for("snapshot_profile_and_memberships") == timing.default_step_duration


def test_bad_timing_is_refused() -> None:
    with pytest.raises(ValueError, match="reminder_interval must be positive"):
        AlertTiming(dt.timedelta(0), 1, StepDuration(1, "hours"), dt.timedelta(0))
