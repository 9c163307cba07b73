"""deploy/verify_locked_install.py, the build-time proof that the image is the lock, run against this
project's own virtualenv (installed from the same requirements.lock)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "verify_locked_install.py"
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$", re.MULTILINE)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_projects_environment_matches_the_lock() -> None:
    result = run(str(LOCK), "--provider", "wecom-offboarding")
    assert result.returncode == 0, result.stderr
    assert f"all {len(PIN.findall(LOCK.read_text()))} locked packages" in result.stdout


def test_a_package_at_another_version_fails_the_check(tmp_path: Path) -> None:
    text = LOCK.read_text()
    name, version = PIN.findall(text)[0]
    doctored = tmp_path / "requirements.lock"
    doctored.write_text(text.replace(f"\n{name}=={version}\n", f"\n{name}==0.0.0.dev0\n", 1))
    result = run(str(doctored))
    assert result.returncode == 1
    assert f"locked 0.0.0.dev0, installed {metadata.version(name)}" in result.stderr


def test_a_locked_package_that_is_missing_fails_the_check(tmp_path: Path) -> None:
    doctored = tmp_path / "requirements.lock"
    doctored.write_text(LOCK.read_text() + "surely-not-installed-offboarding-dist==1.0\n")
    result = run(str(doctored))
    assert result.returncode == 1
    assert "surely-not-installed-offboarding-dist: locked 1.0, not installed" in result.stderr


def test_a_lock_line_that_is_not_an_exact_pin_is_refused(tmp_path: Path) -> None:
    doctored = tmp_path / "requirements.lock"
    doctored.write_text("pyyaml==6.0.2\nrequests>=2.31\n")
    result = run(str(doctored))
    assert result.returncode == 2
    assert f"{doctored}:2" in result.stderr and "requests>=2.31" in result.stderr


def test_a_distribution_without_provider_entry_point_fails_the_check() -> None:
    result = run(str(LOCK), "--provider", "pytest", "--provider", "surely-not-installed-provider")
    assert result.returncode == 1
    assert "pytest: installed but has no 'apache_airflow_provider' entry point" in result.stderr
    assert "surely-not-installed-provider: not installed" in result.stderr
