"""The capacity bench's own arithmetic and the in-flight spec it writes (fast; the run itself is in
tests/distributed/test_capacity_bench.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from benchmarks.capacity import (
    SAMPLE_DAYS_AHEAD,
    SHARES,
    TAKEOVER_TIME_SCALE,
    LoopTimes,
    Phase,
    Sizes,
    _inflight_spec,
    percentile,
    rows,
)
from benchmarks.sizes import Size
from offboarding_dev.rehearsal.samples import today_in_shanghai


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10.0
    assert percentile(values, 95) == 19.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([], 95) != percentile([], 95)  # NaN: nothing measured


def test_the_spec_has_every_kind_of_wait_in_its_share() -> None:
    persons = [f"u{n:06d}" for n in range(1, 101)]
    spec = _inflight_spec(persons, "u999999", companies=3, sample=["s1", "s2"], conn_id="wecom_persons")
    kinds = Counter(case["wait"]["task_id"] for case in spec)
    assert kinds == {
        "preflight.wait_for_last_working_day": 2 + int(100 * SHARES["last_day"]),
        "deletion.wait_for_customer_takeover": int(100 * SHARES["takeover"]),
        "account_deregistration.wait_for_cooling_off_end": int(100 * SHARES["cooling_off"]),
        "statutory_steps.stop_social_insurance": 100 - 30 - 25 - 25,
        "dissolution_notice.wait_for_notice_period_end": 3,
    }
    # The sample stays parked through the measurement (a month away) until the bench reschedules it.
    sample = spec[:2]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    assert all(dt.datetime.fromisoformat(c["wait"]["wake_at"]) > later for c in sample)
    today = today_in_shanghai()
    assert all(
        dt.date.fromisoformat(c["conf"]["last_working_day"]) == today + dt.timedelta(days=SAMPLE_DAYS_AHEAD)
        for c in sample
    )
    takeover = [c for c in spec if c["wait"]["kind"] == "takeover"]
    assert {c["conf"]["time_scale"] for c in takeover} == {TAKEOVER_TIME_SCALE}
    assert all(c["wait"]["successor"] == "u999999" for c in takeover)
    assert len({c["run_id"] for c in spec}) == len(spec)


def test_sizes_quick_and_full() -> None:
    full, quick = Sizes.of(Size(quick=False)), Sizes.of(Size(quick=True))
    assert full.in_flight == 10_000
    assert quick.in_flight < 1000
    # 2,500 transfer waits at the full size poll at 12× the policy (8 a second), not 120× (83 a second).
    assert (quick.takeover_time_scale, full.takeover_time_scale) == (120.0, 12.0)


def test_the_spec_paces_the_transfer_waits_at_the_given_scale() -> None:
    persons = [f"u{n:06d}" for n in range(1, 41)]
    spec = _inflight_spec(persons, "u999999", 0, [], "wecom_persons", takeover_time_scale=12.0)
    takeover = [c for c in spec if c["wait"]["kind"] == "takeover"]
    assert {c["conf"]["time_scale"] for c in takeover} == {12.0}
    assert {c["wait"]["poll_interval_seconds"] for c in takeover} == {300.0}


def test_loop_times_reads_statsd_timings() -> None:
    import socket
    import time

    loops = LoopTimes()
    try:
        began = time.monotonic()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            out.sendto(b"airflow.scheduler.scheduler_loop_duration:250.0|ms", ("127.0.0.1", loops.port))
            out.sendto(b"airflow.other.metric:1|c", ("127.0.0.1", loops.port))
        deadline = time.monotonic() + 5
        while not loops.samples and time.monotonic() < deadline:
            time.sleep(0.05)
        assert loops.between(began, time.monotonic()) == [0.25]
    finally:
        loops.close()


def test_rows_scale_the_transfer_reads_to_the_policy_and_2500_waits() -> None:
    empty = Phase("empty", first_task=[1.0, 2.0], backup_verified=[10.0, 12.0], loops=[0.1, 0.2])
    loaded = Phase("in flight", first_task=[2.0, 3.0], backup_verified=[12.0, 30.0], loops=[0.2, 0.3])
    loaded.seconds, loaded.transfer_reads = 60.0, 100  # 50 waits, 2 reads each per 30 s poll
    made = {"runs": 200, "triggers": 50, "parked": 100, "human_steps": 50, "seconds": 3.0}
    result = {
        r.name: r
        for r in rows(
            Sizes.of(Size(quick=True)),
            empty,
            loaded,
            made=made,
            claim_seconds=2.0,
            db_bytes_per_case=20_000.0,
            takeover_waits=50,
            time_waits=100,
            time_waits_rss_mb=0.3,
            sample_done=3,
            in_flight_now=200,
            waiting_states={"deferred": 150},
            pools={"default_pool"},
        )
    }
    # 100 reads / 60 s at 120× the policy rate → 50 reads/h for 50 waits → 2,500 for 2,500 waits.
    assert round(result["capacity.wecom_reads_per_hour_2500"].value) == 5000 // 2
    assert result["capacity.backup_verified_p95"].met is False  # 30 s vs 12 s: more than 2×
    assert result["capacity.first_task_p95"].met is True
    assert result["capacity.db_per_case"].value == 20.0
    # 300 KB more in the triggerer when 100 time waits were added (parked or deferred): 3 KB each.
    per_time_wait = result["capacity.triggerer_memory_per_time_wait"]
    assert round(per_time_wait.value, 6) == 3.0 and per_time_wait.met is True


def test_watchdog_requests_are_told_apart_by_what_they_read() -> None:
    from benchmarks.capacity import _request_kind

    assert _request_kind("/api/v2/dags/~/dagRuns/~/taskInstances/list") == "listing page"
    assert _request_kind("/api/v2/dags/~/dagRuns/~/hitlDetails") == "listing page"
    assert _request_kind("/api/v2/dags/d/dagRuns/r/taskInstances/t/xcomEntries/expected_by") == "XCom"
    assert _request_kind("/offboarding/api/cases/offboard-lisi") == "case correction"
    assert _request_kind("/api/v2/dags/d/dagRuns/r") == "DAG run"
