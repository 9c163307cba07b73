"""Fixtures for legal-time and policy tests: a private include folder and fresh caches."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboarding.legal_time import reload_calendar
from offboarding.policy import reload_policy

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def include_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the repo's include/ (policy + calendar) that the process-wide caches read instead."""
    target = tmp_path / "include"
    (target / "calendar").mkdir(parents=True)
    shutil.copy(REPO / "include" / "policy.yaml", target / "policy.yaml")
    shutil.copy(
        REPO / "include" / "calendar" / "cn_overrides.yaml", target / "calendar" / "cn_overrides.yaml"
    )
    monkeypatch.setenv("OFFBOARDING_INCLUDE_DIR", str(target))
    monkeypatch.delenv("OFFBOARDING_POLICY_FILE", raising=False)
    reload_calendar()
    reload_policy()
    yield target
    monkeypatch.undo()
    reload_calendar()
    reload_policy()
