"""Rehearsal time: compressed waits, and the guard that keeps them away from the real WeCom."""

from __future__ import annotations

import datetime as dt

import pytest

from offboarding.timescale import TimeScale, check_time_scale, redact_url, wall_time_for

ANCHOR = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_real_time_wakes_at_the_deadline() -> None:
    deadline = dt.datetime.fromisoformat("2026-04-17T00:00:00+08:00")
    assert wall_time_for(deadline, ANCHOR, 1) == deadline


def test_a_45_day_wait_at_86400_takes_45_seconds() -> None:
    deadline = ANCHOR + dt.timedelta(days=45)
    assert wall_time_for(deadline, ANCHOR, 86400) == ANCHOR + dt.timedelta(seconds=45)


def test_scale_2_halves_the_wait() -> None:
    deadline = ANCHOR + dt.timedelta(days=10, hours=6)
    assert wall_time_for(deadline, ANCHOR, 2.0) == ANCHOR + dt.timedelta(days=5, hours=3)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^deadline must be timezone-aware"):
        wall_time_for(dt.datetime(2026, 4, 17), ANCHOR, 1)
    with pytest.raises(ValueError, match=r"^anchor must be timezone-aware"):
        wall_time_for(ANCHOR, dt.datetime(2026, 3, 2), 86400)


@pytest.mark.parametrize("scale", [0.5, 0, -1, float("inf"), float("nan"), True, "fast"])
def test_a_bad_scale_is_refused(scale: object) -> None:
    with pytest.raises(ValueError, match=r"^time_scale must be a number >= 1"):
        wall_time_for(ANCHOR, ANCHOR, scale)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^time_scale must be a number >= 1"):
        check_time_scale(scale, "http://127.0.0.1:8000")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://127.5.6.7:9000/cgi-bin",
        "http://[::1]:8000",
        "http://localhost:8080",
        "http://LOCALHOST",
    ],
)
def test_compressed_time_is_allowed_on_loopback(url: str) -> None:
    check_time_scale(86400, url)


@pytest.mark.parametrize(
    "url", ["https://qyapi.weixin.qq.com", "http://10.0.0.5:8000", "http://127.0.0.1.example.com"]
)
def test_real_time_is_always_allowed(url: str) -> None:
    check_time_scale(1, url)
    check_time_scale(1.0, url)


def test_compressed_time_is_refused_against_the_real_wecom() -> None:
    with pytest.raises(ValueError) as caught:
        check_time_scale(86400, "https://qyapi.weixin.qq.com")
    assert str(caught.value) == (
        "time_scale=86400 compresses legal waits and is only allowed against the WeCom sandbox on "
        "loopback; connection wecom_default points at https://qyapi.weixin.qq.com"
    )


@pytest.mark.parametrize(
    "url", ["http://10.0.0.5:8000", "http://127.0.0.1.example.com", "http://sandbox.internal"]
)
def test_compressed_time_is_refused_off_loopback(url: str) -> None:
    with pytest.raises(ValueError, match=r"^time_scale=2\.5 compresses legal waits"):
        check_time_scale(2.5, url, conn_id="wecom_rehearsal")


def test_secrets_in_the_url_are_redacted_from_the_error() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=S3CR3T&access_token=T0K3N"
    with pytest.raises(ValueError) as caught:
        check_time_scale(60, url, conn_id="wecom_prod")
    message = str(caught.value)
    assert "S3CR3T" not in message and "T0K3N" not in message
    assert "corpsecret=***" in message and "access_token=***" in message
    assert "connection wecom_prod points at" in message
    assert redact_url("https://x/send?key=abc&x=1") == "https://x/send?key=***&x=1"


# -- TimeScale: the one value every wait, alert and page scales by ---------------------------------------


@pytest.mark.parametrize(
    ("value", "factor"),
    [(None, 1.0), ("", 1.0), ("None", 1.0), (" 86400 ", 86400.0), ("2.5", 2.5), (3600, 3600.0)],
)
def test_a_time_scale_is_read_from_the_form_or_a_rendered_template(value: object, factor: float) -> None:
    assert TimeScale.parse(value).factor == factor
    assert TimeScale.parse(TimeScale.parse(value)) == TimeScale(factor)


@pytest.mark.parametrize("value", ["fast", "0.5", 0, float("nan"), float("inf"), True, [2]])
def test_a_bad_time_scale_is_refused_by_name(value: object) -> None:
    with pytest.raises(ValueError, match=r"^time_scale must be a number >= 1"):
        TimeScale.parse(value)
    assert TimeScale.or_real_time(value).is_real_time  # what only displays or alerts reads it as


def test_one_formula_for_instants_durations_and_polls() -> None:
    scale = TimeScale(86400)
    deadline = ANCHOR + dt.timedelta(days=45)
    assert scale.wall_time_for(deadline, ANCHOR) == ANCHOR + dt.timedelta(seconds=45)
    assert scale.wall_time_for(deadline, None) == deadline  # no anchor: the legal instant itself
    assert scale.wall_duration(dt.timedelta(days=2)) == dt.timedelta(seconds=2)
    assert scale.poll_interval(dt.timedelta(hours=1), floor_seconds=5) == 5  # never below the floor
    assert TimeScale(60).poll_interval(dt.timedelta(hours=1)) == 60
    assert TimeScale().wall_time_for(deadline, ANCHOR) == deadline
    assert wall_time_for(deadline, ANCHOR, 86400) == scale.wall_time_for(deadline, ANCHOR)


def test_the_sandbox_guard_is_part_of_the_value() -> None:
    TimeScale(86400).require_sandbox("http://127.0.0.1:8000")
    TimeScale(1).require_sandbox("https://qyapi.weixin.qq.com")
    with pytest.raises(ValueError, match=r"^time_scale=86400 compresses legal waits.*connection wecom_x"):
        TimeScale(86400).require_sandbox("https://qyapi.weixin.qq.com", conn_id="wecom_x")
