"""review_due, cooling_off_end and notice_end on instants across 2025-2027.

Expected answers are hand-derived from the State Council schedules listed in test_prc_calendar.py
with the default policy (review 2 working days, cooling-off 15 days, notice 45 / 20 days).
Instants are given both in UTC and in +08:00; near midnight, the LOCAL day is what counts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pytest

from offboarding.legal_time import (
    cooling_off_end,
    end_of_local_day,
    local_date,
    notice_end,
    review_due,
)

REVIEW_DUE_TABLE = [
    # (submitted_at, review due = 24:00 local of the 2nd working day after the local day)
    # 2025-10-01 00:30 local, inside National Day: working days 10/9, 10/10.
    ("2025-09-30T16:30:00Z", "2025-10-11T00:00:00+08:00"),
    # 2025-09-29 00:30 local (Mon): 9/30, then the break, then 10/9. In UTC it is still 9/28.
    ("2025-09-28T16:30:00Z", "2025-10-10T00:00:00+08:00"),
    # Friday before National Day: Sun 9/28 is a make-up working day, then Mon 9/29.
    ("2025-09-26T10:00:00+08:00", "2025-09-30T00:00:00+08:00"),
    # Friday before the Spring Festival: make-up Sun 1/26, Mon 1/27.
    ("2025-01-24T18:00:00+08:00", "2025-01-28T00:00:00+08:00"),
    # 除夕 01:00 local (still 1/27 in UTC): the break runs to 2/4; 2/5, 2/6.
    ("2025-01-27T17:00:00Z", "2025-02-07T00:00:00+08:00"),
    # Qingming: 4/4-4/6 off; 4/7, 4/8.
    ("2025-04-03T10:00:00+08:00", "2025-04-09T00:00:00+08:00"),
    # Friday before Labour Day: make-up Sun 4/27, Mon 4/28.
    ("2025-04-25T09:00:00+08:00", "2025-04-29T00:00:00+08:00"),
    # Eve of Labour Day: 5/1-5/5 off; 5/6, 5/7.
    ("2025-04-30T12:00:00+08:00", "2025-05-08T00:00:00+08:00"),
    # Dragon Boat: Fri 5/30, then 5/31-6/2 off, Tue 6/3.
    ("2025-05-29T10:00:00+08:00", "2025-06-04T00:00:00+08:00"),
    # New Year 2026: 1/1-1/3 off; make-up Sun 1/4, Mon 1/5.
    ("2025-12-31T10:00:00+08:00", "2026-01-06T00:00:00+08:00"),
    # Spring Festival 2026: make-up Sat 2/14, then 2/15-2/23 off, Tue 2/24.
    ("2026-02-13T10:00:00+08:00", "2026-02-25T00:00:00+08:00"),
    # 2026-02-14 00:30 local is the make-up Saturday itself (not counted): 2/24, 2/25.
    ("2026-02-13T16:30:00Z", "2026-02-26T00:00:00+08:00"),
    # Fri 2/27, then the make-up Saturday 2/28.
    ("2026-02-26T10:00:00+08:00", "2026-03-01T00:00:00+08:00"),
    # Qingming 2026: 4/4-4/6 off; 4/7, 4/8.
    ("2026-04-03T10:00:00+08:00", "2026-04-09T00:00:00+08:00"),
    # Labour Day 2026: Fri 5/8, make-up Sat 5/9.
    ("2026-05-07T10:00:00+08:00", "2026-05-10T00:00:00+08:00"),
    # Dragon Boat 2026: 6/19-6/21 off; 6/22, 6/23.
    ("2026-06-18T10:00:00+08:00", "2026-06-24T00:00:00+08:00"),
    # Friday before the make-up Sunday 9/20: 9/20, 9/21.
    ("2026-09-18T10:00:00+08:00", "2026-09-22T00:00:00+08:00"),
    # Mid-Autumn 2026: 9/25-9/27 off; 9/28, 9/29.
    ("2026-09-24T10:00:00+08:00", "2026-09-30T00:00:00+08:00"),
    # 2026-10-01 00:30 local: 10/1-10/7 off; 10/8, 10/9.
    ("2026-09-30T16:30:00Z", "2026-10-10T00:00:00+08:00"),
    # 23:00 local on 10/8: Fri 10/9, make-up Sat 10/10.
    ("2026-10-08T23:00:00+08:00", "2026-10-11T00:00:00+08:00"),
    # 2027 (estimated year), an ordinary March week: Thu 3/11, Fri 3/12.
    ("2027-03-10T10:00:00+08:00", "2027-03-13T00:00:00+08:00"),
]


@pytest.mark.parametrize(("submitted", "due"), REVIEW_DUE_TABLE, ids=[r[0] for r in REVIEW_DUE_TABLE])
def test_review_due(submitted: str, due: str) -> None:
    result = review_due(dt.datetime.fromisoformat(submitted))
    assert result == dt.datetime.fromisoformat(due)
    assert result.isoformat() == due
    assert result.tzinfo is not None and result.tzinfo.name == "Asia/Shanghai"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("submitted", "end"),
    [
        ("2025-09-30T16:30:00Z", "2025-10-16T00:30:00+08:00"),
        ("2026-02-10T10:00:00+08:00", "2026-02-25T10:00:00+08:00"),  # calendar days: holidays count
        ("2026-12-20T03:15:00+00:00", "2027-01-04T11:15:00+08:00"),
    ],
)
def test_cooling_off_end(submitted: str, end: str) -> None:
    result = cooling_off_end(dt.datetime.fromisoformat(submitted))
    assert result.isoformat() == end


NOTICE_TABLE = [
    # (published_on, procedure, period end = 24:00 local of the last day)
    # +45 = 2025-10-01, inside National Day: last day moves to Thu 10/9.
    ("2025-08-17", "general", "2025-10-10T00:00:00+08:00"),
    # +20 = 2025-01-26, a Sunday that is a make-up WORKING day: it stays the last day.
    ("2025-01-06", "simplified", "2025-01-27T00:00:00+08:00"),
    # +20 = 2026-02-15, inside the Spring Festival break: moves to Tue 2/24.
    ("2026-01-26", "simplified", "2026-02-25T00:00:00+08:00"),
    # +45 = 2026-05-04 (Labour Day break to 5/5): moves to Wed 5/6.
    ("2026-03-20", "general", "2026-05-07T00:00:00+08:00"),
    # +45 = 2026-09-20, a make-up working Sunday: stays.
    ("2026-08-06", "general", "2026-09-21T00:00:00+08:00"),
    # +20 = 2026-03-22, an ordinary Sunday: moves to Mon 3/23.
    ("2026-03-02", "simplified", "2026-03-24T00:00:00+08:00"),
    # +20 = 2026-12-24, an ordinary Thursday.
    ("2026-12-04", "simplified", "2026-12-25T00:00:00+08:00"),
]


@pytest.mark.parametrize(
    ("published", "procedure", "end"), NOTICE_TABLE, ids=[f"{r[0]}-{r[1]}" for r in NOTICE_TABLE]
)
def test_notice_end(published: str, procedure: str, end: str) -> None:
    result = notice_end(dt.date.fromisoformat(published), procedure)
    assert result.isoformat() == end
    assert result.tzinfo.name == "Asia/Shanghai"  # type: ignore[union-attr]


def test_notice_end_accepts_an_iso_date_string() -> None:
    assert notice_end("2025-08-17", "general").isoformat() == "2025-10-10T00:00:00+08:00"  # type: ignore[arg-type]


def test_notice_end_refuses_an_unknown_procedure() -> None:
    with pytest.raises(ValueError) as caught:
        notice_end(dt.date(2026, 3, 2), "express")
    assert str(caught.value) == "procedure must be one of 'general', 'simplified', got 'express'"


def test_notice_end_refuses_a_datetime_for_the_publication_day() -> None:
    with pytest.raises(TypeError, match=r"^published_on must be a date, got a datetime"):
        notice_end(pendulum.datetime(2026, 3, 2, tz="Asia/Shanghai"), "general")


@pytest.mark.parametrize("function", [review_due, cooling_off_end])
def test_naive_datetimes_are_refused(function: object) -> None:
    with pytest.raises(ValueError) as caught:
        function(dt.datetime(2025, 9, 30, 16, 30))  # type: ignore[operator]
    assert str(caught.value) == (
        "submitted_at must be timezone-aware (got a naive datetime); "
        "pass e.g. pendulum.datetime(..., tz='Asia/Shanghai')"
    )


def test_local_date_and_end_of_local_day() -> None:
    assert local_date(dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.UTC)) == dt.date(2025, 10, 1)
    assert local_date(dt.datetime(2025, 9, 30, 15, 59, tzinfo=dt.UTC)) == dt.date(2025, 9, 30)
    assert end_of_local_day(dt.date(2026, 12, 31)).isoformat() == "2027-01-01T00:00:00+08:00"
    assert end_of_local_day("2026-12-01").isoformat() == "2026-12-02T00:00:00+08:00"


def test_deadlines_follow_the_policy(
    include_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offboarding import policy

    override = tmp_path / "deployment-policy.yaml"
    override.write_text(
        "account_deregistration: {review_working_days: 1, cooling_off_days: 7}\n"
        "company_deregistration: {notice_days: {simplified: 21}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("OFFBOARDING_POLICY_FILE", str(override))
    policy.reload_policy()
    # 1 working day after Fri 2025-09-26: the make-up Sunday 9/28.
    assert policy.review_due(dt.datetime.fromisoformat("2025-09-26T10:00:00+08:00")).isoformat() == (
        "2025-09-29T00:00:00+08:00"
    )
    assert policy.cooling_off_end(dt.datetime.fromisoformat("2025-09-30T16:30:00Z")).isoformat() == (
        "2025-10-08T00:30:00+08:00"
    )
    # +21 = 2026-03-25, an ordinary Wednesday (with the default 20 days it would end on 3/25 00:00).
    assert policy.notice_end(dt.date(2026, 3, 4), "simplified").isoformat() == "2026-03-26T00:00:00+08:00"
    assert policy.notice_end(dt.date(2025, 8, 17), "general").isoformat() == "2025-10-10T00:00:00+08:00"
    # legal_time itself keeps its documented defaults: the deployment's figures reach it through the policy.
    assert review_due(dt.datetime.fromisoformat("2025-09-26T10:00:00+08:00")).isoformat() == (
        "2025-09-30T00:00:00+08:00"
    )


def test_the_periods_are_keyword_arguments() -> None:
    submitted = dt.datetime.fromisoformat("2025-09-26T10:00:00+08:00")
    assert review_due(submitted, working_days=1).isoformat() == "2025-09-29T00:00:00+08:00"
    assert cooling_off_end(submitted, days=7).isoformat() == "2025-10-03T10:00:00+08:00"
    assert notice_end(dt.date(2026, 3, 4), "simplified", notice_days={"simplified": 21}).isoformat() == (
        "2026-03-26T00:00:00+08:00"
    )
    with pytest.raises(ValueError, match=r"procedure must be one of 'fast', got 'general'"):
        notice_end(dt.date(2026, 3, 4), "general", notice_days={"fast": 5})
    with pytest.raises(ValueError, match=r"^days must be a whole number of days >= 1, got 0"):
        cooling_off_end(submitted, days=0)


def test_the_defaults_are_the_shipped_policy(include_copy: Path) -> None:
    """With default arguments, legal_time answers what the shipped policy and calendar answer."""
    from offboarding import policy
    from offboarding.legal_time import COOLING_OFF_DAYS, NOTICE_DAYS, REVIEW_WORKING_DAYS, PrcCalendar

    shipped = policy.get_policy()
    assert shipped.account_deregistration.review_working_days == REVIEW_WORKING_DAYS
    assert shipped.account_deregistration.cooling_off_days == COOLING_OFF_DAYS
    assert dict(NOTICE_DAYS) == dict(shipped.company_deregistration.notice_days)
    library_only = PrcCalendar()
    start = pendulum.datetime(2024, 12, 20, 9, 30, tz="Asia/Shanghai")
    for offset in range(0, 3 * 365, 3):
        instant = start.add(days=offset, hours=offset % 24)
        assert review_due(instant) == policy.review_due(instant), instant
        assert review_due(instant, calendar=library_only) == policy.review_due(instant), instant
        assert cooling_off_end(instant) == policy.cooling_off_end(instant), instant
        for procedure in ("general", "simplified"):
            day = local_date(instant)
            assert notice_end(day, procedure) == policy.notice_end(day, procedure), (day, procedure)


def test_legal_time_imports_nothing_of_ours() -> None:
    import subprocess
    import sys

    code = (
        "import sys, offboarding.legal_time as lt, datetime as dt;"
        "lt.review_due(dt.datetime(2026, 3, 2, tzinfo=dt.UTC));"
        "print(sorted(m for m in sys.modules if m.startswith('offboarding.')"
        " and not m.startswith('offboarding.legal_time')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
