"""The clock's conversions give what pendulum's own conversion gives (the cases page converts every open
case's instants through them, so they are the fast path, not a second rule)."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from offboarding.legal_time.clock import LOCAL_TZ, as_utc, later, parse_instant, require_aware

NEW_YORK = pendulum.timezone("America/New_York")
INSTANTS = [
    dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC),  # 01:30 in New York, first of the two
    dt.datetime(2026, 11, 1, 6, 30, tzinfo=dt.UTC),  # 01:30 in New York again (fold=1)
    dt.datetime(2026, 3, 8, 7, 30, 0, 123456, tzinfo=dt.UTC),  # just after New York's spring gap
    dt.datetime(2025, 9, 30, 16, 30, tzinfo=dt.UTC),  # the next day in Shanghai
]


def _shapes(instant: dt.datetime) -> list[dt.datetime]:
    """The same instant as the callers hand it over: stdlib with a fixed offset, pendulum in various zones."""
    return [
        instant,
        dt.datetime.fromisoformat(instant.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()),
        pendulum.instance(instant).in_timezone(NEW_YORK),
        pendulum.instance(instant).in_timezone(LOCAL_TZ),
        pendulum.instance(instant),
    ]


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_conversions_match_pendulum(instant: dt.datetime) -> None:
    for value in _shapes(instant):
        local, utc = require_aware(value, "x"), as_utc(value, "x")
        assert isinstance(local, pendulum.DateTime) and local.tzinfo is LOCAL_TZ
        assert isinstance(utc, pendulum.DateTime) and utc.tzinfo is pendulum.UTC
        expected_local = pendulum.instance(value).in_timezone(LOCAL_TZ)
        assert (local, local.isoformat(), local.fold) == (expected_local, expected_local.isoformat(), 0)
        expected_utc = pendulum.instance(value).in_timezone("UTC")
        assert (utc, utc.isoformat()) == (expected_utc, expected_utc.isoformat())


def test_new_york_fold_survives_the_conversion() -> None:
    first, second = (pendulum.instance(i).in_timezone(NEW_YORK) for i in INSTANTS[:2])
    assert (first.hour, second.hour, second.fold) == (1, 1, 1)
    assert as_utc(second, "x") - as_utc(first, "x") == dt.timedelta(hours=1)
    assert as_utc(parse_instant(second.isoformat(), "x"), "x") == as_utc(second, "x")


@pytest.mark.parametrize("convert", [require_aware, as_utc])
def test_naive_and_non_datetimes_are_refused(convert: object) -> None:
    with pytest.raises(ValueError, match="x must be timezone-aware"):
        convert(dt.datetime(2026, 1, 1), "x")  # type: ignore[operator]
    with pytest.raises(TypeError, match="x must be a timezone-aware datetime"):
        convert("2026-01-01T00:00:00+08:00", "x")  # type: ignore[operator]


@pytest.mark.parametrize("instant", INSTANTS, ids=str)
@pytest.mark.parametrize("zone", [LOCAL_TZ, pendulum.UTC], ids=["shanghai", "utc"])
def test_later_is_pendulums_addition(instant: dt.datetime, zone: dt.tzinfo) -> None:
    moment = pendulum.instance(instant).in_timezone(zone)
    for duration in (dt.timedelta(hours=1), dt.timedelta(days=45), dt.timedelta(seconds=1.5)):
        expected = moment + duration
        got = later(moment, duration)
        assert isinstance(got, pendulum.DateTime) and got.tzinfo is zone
        assert (got, got.isoformat()) == (expected, expected.isoformat())
