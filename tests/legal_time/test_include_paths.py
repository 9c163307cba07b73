"""Finding the include folder: environment, the repository, $AIRFLOW_HOME, else a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from offboarding import paths

REPO = Path(__file__).resolve().parents[2]


def test_the_environment_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_INCLUDE_DIR", str(tmp_path))
    assert paths.include_dir() == tmp_path
    assert paths.policy_file() == tmp_path / "policy.yaml"
    assert paths.calendar_overrides_file() == tmp_path / "calendar" / "cn_overrides.yaml"


def test_a_missing_configured_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARDING_INCLUDE_DIR", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match=r"^OFFBOARDING_INCLUDE_DIR=.*/nope is not a folder"):
        paths.include_dir()


def test_the_repository_include_folder_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OFFBOARDING_INCLUDE_DIR", raising=False)
    assert paths.include_dir() == REPO / "include"


def test_airflow_home_include_is_the_fallback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend the package is installed somewhere without a repository around it.
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "site-packages" / "offboarding" / "paths.py"))
    monkeypatch.delenv("OFFBOARDING_INCLUDE_DIR", raising=False)
    home = tmp_path / "airflow"
    (home / "include").mkdir(parents=True)
    monkeypatch.setenv("AIRFLOW_HOME", str(home))
    assert paths.include_dir() == home / "include"


def test_no_include_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "site-packages" / "offboarding" / "paths.py"))
    monkeypatch.delenv("OFFBOARDING_INCLUDE_DIR", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    with pytest.raises(FileNotFoundError) as caught:
        paths.include_dir()
    message = str(caught.value)
    assert message.startswith("cannot find the offboarding include folder")
    assert str(tmp_path / "airflow" / "include") in message
    assert "Set OFFBOARDING_INCLUDE_DIR" in message
