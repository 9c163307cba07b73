"""The sandbox plays WeCom from its own configuration: WeCom's documented durations, no import of ours."""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import offboarding_dev.sandbox
from offboarding_dev.sandbox.cli import build_parser, config_from_args
from offboarding_dev.sandbox.control import SANDBOX_IDENTITY, SandboxControl
from offboarding_dev.sandbox.durations import DOCUMENTED, WeComDurations
from offboarding_dev.sandbox.testing import running_sandbox

SANDBOX_DIR = Path(offboarding_dev.sandbox.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_sandbox_imports_nothing_of_the_product() -> None:
    offenders = {
        f"{path.relative_to(SANDBOX_DIR)}: {module}"
        for path in SANDBOX_DIR.rglob("*.py")
        for module in _imported_modules(path)
        if module == "offboarding" or module.startswith("offboarding.")
    }
    assert offenders == set()


def test_the_documented_figures_are_wecoms() -> None:
    assert (
        WeComDurations(
            customer_takeover_hours=24,
            cooling_off_days=15,
            review_working_days=2,
            transfer_window_days=90,
            transfers_per_window=2,
            group_transfers_per_day=300,
        )
        == DOCUMENTED
    )
    assert DOCUMENTED.customer_takeover_seconds == 24 * 3600
    assert DOCUMENTED.cooling_off_seconds == 15 * 86400


def _config(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def test_flags_override_the_environment_which_overrides_the_documented_figures(monkeypatch) -> None:
    monkeypatch.delenv("WECOM_SANDBOX_COOLING_OFF_DAYS", raising=False)
    assert config_from_args(_config([])).durations == DOCUMENTED
    monkeypatch.setenv("WECOM_SANDBOX_COOLING_OFF_DAYS", "20")
    monkeypatch.setenv("WECOM_SANDBOX_GROUP_TRANSFERS_PER_DAY", "50")
    durations = config_from_args(_config(["--review-working-days", "1"])).durations
    assert (durations.cooling_off_days, durations.group_transfers_per_day) == (20, 50)
    assert durations.review_working_days == 1
    flagged = config_from_args(_config(["--cooling-off-days", "7"])).durations
    assert flagged.cooling_off_days == 7


def test_a_bad_environment_value_is_refused_naming_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("WECOM_SANDBOX_TAKEOVER_HOURS", "a day")
    with pytest.raises(ValueError, match="WECOM_SANDBOX_TAKEOVER_HOURS must be a number"):
        config_from_args(_config([]))
    with pytest.raises(ValueError, match="cooling_off_days must be a number >= 0"):
        WeComDurations(cooling_off_days=-1)


def test_the_help_lists_every_duration_flag_with_its_documented_default() -> None:
    text = " ".join(build_parser().format_help().split())
    for flag, default in [
        ("--takeover-hours", "24"),
        ("--cooling-off-days", "15"),
        ("--review-working-days", "2"),
        ("--transfer-window-days", "90"),
        ("--transfers-per-window", "2"),
        ("--group-transfers-per-day", "300"),
    ]:
        assert f"{flag} " in text and f"(default: {default};" in text.split(flag, 1)[1]


def test_the_identity_endpoint_answers_the_fixed_marker() -> None:
    with running_sandbox(extra_args=("--cooling-off-days", "3")) as sb:
        identity = sb.control.identity()
        assert identity["sandbox"] == SANDBOX_IDENTITY
        assert identity["corpid"] == sb.corpid
        assert sb.control.is_sandbox()
        assert sb.control.info()["durations"]["cooling_off_days"] == 3


def test_something_that_is_not_the_sandbox_is_not_taken_for_it() -> None:
    assert not SandboxControl("http://127.0.0.1:9", timeout=2).is_sandbox()  # nothing listens there
    with running_sandbox() as sb:
        # any other path of the same server (here under /cgi-bin) does not answer the marker
        assert not SandboxControl(f"{sb.base_url}/cgi-bin", timeout=10).is_sandbox()


def test_the_sandbox_serves_from_the_standard_library_and_its_own_files_only(tmp_path: Path) -> None:
    # What devtools/Dockerfile.sandbox copies, run with no site-packages: no product, no requests.
    package = tmp_path / "offboarding_dev"
    shutil.copytree(SANDBOX_DIR, package / "sandbox", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SANDBOX_DIR.parent / "__init__.py", package / "__init__.py")
    probe = (
        "import sys, offboarding_dev.sandbox.cli, offboarding_dev.sandbox.app, offboarding_dev.sandbox.server;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('offboarding', 'requests', 'airflow')))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env={"PYTHONPATH": str(tmp_path), "PATH": os.environ.get("PATH", "")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == "[]"
