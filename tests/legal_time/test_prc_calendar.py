"""The PRC working-day calendar against the State Council's announced schedules.

Expected answers are written by hand from the notices, not computed with the code under test:

* 2025: 国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12):
  元旦 1/1; 春节 1/28-2/4, 上班 1/26 (Sun) and 2/8 (Sat); 清明 4/4-4/6; 劳动节 5/1-5/5, 上班 4/27 (Sun);
  端午 5/31-6/2; 国庆+中秋 10/1-10/8, 上班 9/28 (Sun) and 10/11 (Sat).
* 2026: 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04,
  https://www.gov.cn/zhengce/content/202511/content_7047090.htm): 元旦 1/1-1/3, 上班 1/4 (Sun);
  春节 2/15-2/23, 上班 2/14 (Sat) and 2/28 (Sat); 清明 4/4-4/6; 劳动节 5/1-5/5, 上班 5/9 (Sat);
  端午 6/19-6/21; 中秋 9/25-9/27; 国庆 10/1-10/7, 上班 9/20 (Sun) and 10/10 (Sat).
* 2027: no schedule announced when this was written. Only the statutory days themselves
  (全国年节及纪念日放假办法, 2024 revision: 元旦, 除夕 + 春节 3 days, 清明, 5/1-5/2, 端午, 中秋, 10/1-10/3)
  are certain: 除夕 2027-02-05, 清明 2027-04-05, 端午 2027-06-09, 中秋 2027-09-15.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from offboarding.legal_time import (
    CalendarOverrideError,
    PrcCalendar,
    calendar_note,
    is_estimated,
    is_working_day,
    load_overrides,
    nth_working_day_after,
    reload_calendar,
)

D = dt.date.fromisoformat

WORKING_DAY_TABLE = [
    # 2025
    ("2025-01-01", False, "元旦"),
    ("2025-01-02", True, "ordinary Thursday"),
    ("2025-01-26", True, "Sunday made a working day for the Spring Festival"),
    ("2025-01-27", True, "Monday before 除夕"),
    ("2025-01-28", False, "除夕 (statutory since 2025)"),
    ("2025-02-03", False, "bridged day off (Spring Festival)"),
    ("2025-02-04", False, "bridged day off (Spring Festival)"),
    ("2025-02-05", True, "first day back after the Spring Festival"),
    ("2025-02-08", True, "Saturday made a working day for the Spring Festival"),
    ("2025-02-09", False, "ordinary Sunday"),
    ("2025-04-04", False, "清明"),
    ("2025-04-05", False, "Saturday in the Qingming break"),
    ("2025-04-07", True, "Monday after Qingming"),
    ("2025-04-27", True, "Sunday made a working day for Labour Day"),
    ("2025-05-01", False, "劳动节"),
    ("2025-05-02", False, "劳动节 second day (statutory since 2025)"),
    ("2025-05-05", False, "bridged day off (Labour Day)"),
    ("2025-05-06", True, "back after Labour Day"),
    ("2025-05-31", False, "端午 (Saturday)"),
    ("2025-06-02", False, "Monday off for 端午"),
    ("2025-06-03", True, "back after Dragon Boat"),
    ("2025-09-28", True, "Sunday made a working day for National Day"),
    ("2025-09-30", True, "Tuesday before National Day"),
    ("2025-10-01", False, "国庆"),
    ("2025-10-06", False, "中秋 inside the National Day break"),
    ("2025-10-08", False, "last bridged day of the National Day break"),
    ("2025-10-09", True, "back after National Day"),
    ("2025-10-11", True, "Saturday made a working day for National Day"),
    ("2025-10-12", False, "ordinary Sunday"),
    ("2025-12-31", True, "ordinary Wednesday"),
    # 2026
    ("2026-01-01", False, "元旦"),
    ("2026-01-02", False, "bridged day off (New Year)"),
    ("2026-01-03", False, "Saturday in the New Year break"),
    ("2026-01-04", True, "Sunday made a working day for New Year"),
    ("2026-01-05", True, "ordinary Monday"),
    ("2026-02-14", True, "Saturday made a working day for the Spring Festival"),
    ("2026-02-15", False, "first day of the Spring Festival break (Sunday)"),
    ("2026-02-16", False, "除夕"),
    ("2026-02-20", False, "bridged day off (Spring Festival)"),
    ("2026-02-23", False, "last day of the Spring Festival break (Monday)"),
    ("2026-02-24", True, "back after the Spring Festival"),
    ("2026-02-28", True, "Saturday made a working day for the Spring Festival"),
    ("2026-03-01", False, "ordinary Sunday"),
    ("2026-04-03", True, "Friday before Qingming"),
    ("2026-04-06", False, "Monday off for 清明 (which falls on Sunday)"),
    ("2026-04-07", True, "back after Qingming"),
    ("2026-05-04", False, "Monday off for 劳动节"),
    ("2026-05-05", False, "bridged day off (Labour Day)"),
    ("2026-05-06", True, "back after Labour Day"),
    ("2026-05-09", True, "Saturday made a working day for Labour Day"),
    ("2026-05-10", False, "ordinary Sunday"),
    ("2026-06-19", False, "端午 (Friday)"),
    ("2026-06-22", True, "back after Dragon Boat"),
    ("2026-09-20", True, "Sunday made a working day for National Day"),
    ("2026-09-25", False, "中秋 (Friday)"),
    ("2026-09-28", True, "back after Mid-Autumn"),
    ("2026-10-01", False, "国庆"),
    ("2026-10-05", False, "Monday in the National Day break"),
    ("2026-10-07", False, "last day of the National Day break"),
    ("2026-10-08", True, "back after National Day"),
    ("2026-10-10", True, "Saturday made a working day for National Day"),
    ("2026-10-11", False, "ordinary Sunday"),
    # 2027: statutory days only (estimated year)
    ("2027-01-01", False, "元旦"),
    ("2027-02-05", False, "除夕"),
    ("2027-03-10", True, "ordinary Wednesday"),
    ("2027-04-05", False, "清明"),
    ("2027-06-09", False, "端午"),
    ("2027-09-15", False, "中秋"),
    ("2027-10-01", False, "国庆"),
]


@pytest.mark.parametrize(("day", "expected", "why"), WORKING_DAY_TABLE, ids=[r[0] for r in WORKING_DAY_TABLE])
def test_is_working_day_follows_the_announced_schedules(day: str, expected: bool, why: str) -> None:
    assert is_working_day(D(day)) is expected, why


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("2025-09-30", 1, "2025-10-09"),  # the whole National Day break is skipped
        ("2025-09-27", 1, "2025-09-28"),  # a make-up Sunday counts
        ("2025-01-24", 2, "2025-01-27"),  # Sun 1/26 (make-up) then Mon 1/27
        ("2026-02-13", 2, "2026-02-24"),  # Sat 2/14 (make-up), then the break, then 2/24
        ("2026-12-31", 1, "2027-01-04"),  # crosses into the estimated year: 1/1 off, weekend
    ],
)
def test_nth_working_day_after(day: str, n: int, expected: str) -> None:
    assert nth_working_day_after(D(day), n) == D(expected)


@pytest.mark.parametrize("n", [0, -1, True, 1.5, "2"])
def test_nth_working_day_after_refuses_a_bad_n(n: object) -> None:
    with pytest.raises(ValueError, match=r"^n must be a whole number of working days >= 1"):
        nth_working_day_after(D("2025-01-02"), n)  # type: ignore[arg-type]


def test_a_datetime_is_refused_where_a_day_is_expected() -> None:
    with pytest.raises(TypeError, match=r"^day must be a date, got a datetime"):
        is_working_day(dt.datetime(2025, 10, 1, tzinfo=dt.UTC))


def test_estimated_and_official_years() -> None:
    assert is_estimated(D("2025-10-01")) is False
    assert is_estimated(D("2026-10-01")) is False
    assert is_estimated(D("2027-10-01")) is True
    assert calendar_note(D("2026-05-09")) == "official"
    assert calendar_note(D("2027-05-06")) == "estimated"


def test_an_estimated_year_still_answers_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    calendar = PrcCalendar()
    with caplog.at_level(logging.WARNING, logger="offboarding.legal_time.calendar"):
        assert calendar.is_working_day(D("2028-03-08")) is True  # an ordinary Wednesday
        assert calendar.nth_working_day_after(D("2028-03-08"), 1) == D("2028-03-09")
        assert calendar.is_working_day(D("2028-10-01")) is False  # 国庆 is statutory
        assert calendar.is_estimated(D("2028-06-01")) is True
    warnings = [r.getMessage() for r in caplog.records if "2028" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith("PRC calendar for 2028 is estimated (")
    assert "add the announced schedule to include/calendar/cn_overrides.yaml" in warnings[0]


# Made-up test data (NOT the real 2027 schedule): a 2027 notice giving 2/5-2/8 off and 2/20 (Sat) as
# a make-up working day. The library's estimate has 2/9 and 2/10 off and 2/20 as a rest day.
OVERRIDE_2027 = """
years:
  2027:
    source: "test data"
    holidays: [2027-02-05, 2027-02-06, 2027-02-07, 2027-02-08]
    working_days: [2027-02-20]
"""


def test_the_override_file_wins(tmp_path: Path) -> None:
    path = tmp_path / "cn_overrides.yaml"
    path.write_text(OVERRIDE_2027, encoding="utf-8")
    library_only = PrcCalendar()
    overridden = PrcCalendar.from_override_file(path)

    assert library_only.is_working_day(D("2027-02-09")) is False
    assert overridden.is_working_day(D("2027-02-09")) is True
    assert library_only.is_working_day(D("2027-02-20")) is False
    assert overridden.is_working_day(D("2027-02-20")) is True
    assert overridden.is_working_day(D("2027-02-08")) is False
    assert overridden.is_estimated(D("2027-07-01")) is False
    assert overridden.calendar_note(D("2027-07-01")) == "official"
    assert overridden.nth_working_day_after(D("2027-02-04"), 1) == D("2027-02-09")


def test_an_override_replaces_a_year_the_library_knows(tmp_path: Path) -> None:
    path = tmp_path / "cn_overrides.yaml"
    path.write_text("years:\n  2026:\n    holidays: []\n    working_days: []\n", encoding="utf-8")
    calendar = PrcCalendar.from_override_file(path)
    assert calendar.is_working_day(D("2026-10-01")) is True  # the override lists no holidays at all
    assert calendar.is_working_day(D("2026-10-10")) is False  # ... and no make-up Saturday


def test_the_process_wide_calendar_reads_the_override_file(include_copy: Path) -> None:
    (include_copy / "calendar" / "cn_overrides.yaml").write_text(OVERRIDE_2027, encoding="utf-8")
    reload_calendar()
    assert is_working_day(D("2027-02-20")) is True
    assert is_estimated(D("2027-02-20")) is False


def test_the_deployment_overrides_reach_the_policy_deadlines(include_copy: Path) -> None:
    from offboarding import policy
    from offboarding.legal_time import review_due

    (include_copy / "calendar" / "cn_overrides.yaml").write_text(OVERRIDE_2027, encoding="utf-8")
    reload_calendar()
    submitted = dt.datetime.fromisoformat("2027-02-19T10:00:00+08:00")
    # The make-up Saturday 2027-02-20 of the override counts; the library alone does not know it.
    assert policy.review_due(submitted).isoformat() == "2027-02-23T00:00:00+08:00"
    assert review_due(submitted, calendar=PrcCalendar()).isoformat() == "2027-02-24T00:00:00+08:00"
    assert policy.deployment_calendar().is_working_day(D("2027-02-20")) is True


def test_a_calendar_can_be_passed_or_registered(tmp_path: Path) -> None:
    from offboarding import policy
    from offboarding.legal_time import set_default_calendar

    path = tmp_path / "cn_overrides.yaml"
    path.write_text("years:\n  2026:\n    holidays: []\n    working_days: []\n", encoding="utf-8")
    no_holidays_2026 = PrcCalendar.from_override_file(path)
    assert is_working_day(D("2026-10-01"), calendar=no_holidays_2026) is True
    assert nth_working_day_after(D("2026-09-30"), 1, calendar=no_holidays_2026) == D("2026-10-01")
    try:
        set_default_calendar(no_holidays_2026)
        assert is_working_day(D("2026-10-01")) is True
        set_default_calendar(None)
        assert is_working_day(D("2026-10-01")) is False
    finally:
        set_default_calendar(policy._load_deployment_calendar)


def test_a_missing_override_file_means_no_overrides(tmp_path: Path) -> None:
    assert load_overrides(tmp_path / "absent.yaml") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("years:\n  2027:\n    holidays: ['2027-02-30']\n", "years.2027.holidays[0] must be a date like"),
        ("years:\n  2027:\n    holidays: [2027-13-01]\n", "not valid YAML: month must be in 1..12"),
        (
            "years:\n  2027:\n    holidays: [2027-02-20]\n    working_days: [2027-02-20]\n",
            "2027-02-20 is listed both as a holiday and as a working day",
        ),
        ("years:\n  2027:\n    holiday: [2027-02-20]\n", "years.2027 has unknown keys ['holiday']"),
        ("years:\n  2027:\n    holidays: [2030-01-01]\n", "years.2027.holidays has dates far from 2027"),
        ("2027: {}\n", "unknown top-level keys ['2027']; expected 'years'"),
    ],
)
def test_a_malformed_override_file_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "cn_overrides.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CalendarOverrideError) as caught:
        load_overrides(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_the_shipped_override_file_is_valid() -> None:
    repo_file = Path(__file__).resolve().parents[2] / "include" / "calendar" / "cn_overrides.yaml"
    assert repo_file.is_file()
    load_overrides(repo_file)
