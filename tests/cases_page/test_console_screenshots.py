"""Screenshots of the console in headless Chromium: the summary strip, a person's timeline (in the legal
cooling-off wait, with a hold), a company in the middle of its member batches, the deadlines calendar —
in the light theme, and the timeline in the dark theme too.

The pictures are written to ``tests/artifacts/console/`` (or ``$OFFBOARDING_TEST_ARTIFACTS/console``) so
a person can look at them; the test checks that each one is a rendered page, not a blank one.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from offboarding.alerting.timing import AlertTiming
from offboarding.cases_page.console import load_console, load_open_cases, load_timeline
from offboarding.cases_page.deadlines_calendar import build_calendar, render_calendar
from offboarding.cases_page.query import CASE_DAG_IDS, CaseFilters
from offboarding.cases_page.render import STYLE, render_page
from offboarding.cases_page.summary_svg import render_summary
from offboarding.cases_page.timeline_svg import TIMELINE_STYLE, render_timeline
from offboarding_dev.synthetic import (
    ConsoleShowcase,
    create_metadata_tables,
    seed_console_showcase,
    seed_synthetic_cases,
)

NOW = dt.datetime(2025, 9, 26, 2, 0, tzinfo=dt.UTC)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(
    os.environ.get("OFFBOARDING_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "artifacts")
)

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Chromium (make install-test-tools / apt-get install chromium)"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, ConsoleShowcase]]:
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('shots') / 'airflow.db'}")
    create_metadata_tables(engine)
    seed_synthetic_cases(engine, 200, now=NOW)
    showcase = seed_console_showcase(engine, now=NOW)
    yield engine, showcase
    engine.dispose()


def _distinct_scanlines(png: bytes) -> int:
    """How many different pixel rows the PNG has (a blank page has one), read from its IDAT chunks."""
    width = int.from_bytes(png[16:20], "big")
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[png[25]]  # 8-bit grey, RGB, grey+alpha, RGBA
    data, pos = b"", 8
    while pos < len(png):
        length = int.from_bytes(png[pos : pos + 4], "big")
        if png[pos + 4 : pos + 8] == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = 1 + width * channels  # each row: a filter byte, then the (filtered) pixels
    return len({raw[i : i + stride] for i in range(0, len(raw), stride)})


def shoot(html: str, name: str, *, width: int = 1400, height: int = 1000, dark: bool = False) -> Path:
    folder = ARTIFACTS / "console"
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    shot = folder / f"{name}.png"
    shot.unlink(missing_ok=True)
    flags = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            *flags,
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert _distinct_scanlines(png) > 50, f"{shot} looks blank"
    return shot


def test_screenshot_summary(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, _ = db
    with Session(engine) as session:
        console = load_console(
            session, CaseFilters(limit=8), list(CASE_DAG_IDS), now=NOW, timing=AlertTiming.from_policy()
        )
    html = render_page(console.page, top=render_summary(console.summary))
    assert "Open cases by phase" in html
    shoot(html, "summary")


def timeline_page(engine: Any, dag_id: str, run_id: str) -> str:
    """The case's own page: its row of the cases list with its timeline on top."""
    with Session(engine) as session:
        timeline = load_timeline(
            session,
            dag_id,
            run_id,
            now=NOW,
            timing=AlertTiming.from_policy(),
            takeover_delay=dt.timedelta(hours=24),
        )
        assert timeline is not None
        console = load_console(
            session,
            CaseFilters(dag_id=dag_id, run_id=run_id),
            list(CASE_DAG_IDS),
            now=NOW,
            timing=AlertTiming.from_policy(),
        )
    return render_page(console.page, top=render_timeline(timeline), extra_style=TIMELINE_STYLE)


def test_screenshot_person_timeline_in_a_legal_wait_with_a_hold(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, showcase = db
    html = timeline_page(engine, "offboard_employee", showcase.person_run_id)
    assert "cooling-off ends" in html and "legal review of the handover" in html
    shoot(html, "person_timeline", height=900)
    shoot(html, "person_timeline_dark", height=900, dark=True)


def test_screenshot_company_in_the_middle_of_its_batches(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, showcase = db
    html = timeline_page(engine, "dissolve_company", showcase.company_run_id)
    assert "4,000</b> of 10,002 members done" in html
    shoot(html, "company_progress", height=900)


def test_screenshot_calendar(db: tuple[Any, ConsoleShowcase]) -> None:
    engine, _ = db
    with Session(engine) as session:
        opens = load_open_cases(session, list(CASE_DAG_IDS), now=NOW, timing=AlertTiming.from_policy())
    html = render_calendar(build_calendar(opens, now=NOW, owner="hr_wang"), style=STYLE)
    assert "make-up working day" in html and "holiday / day off" in html
    shoot(html, "calendar", height=1300)
