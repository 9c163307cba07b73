"""The production distribution holds no dev tools: the wheel built from the project, and its CLI.

The wheel is built from a copy of what the build reads (pyproject.toml, README.md, plugins/), so the
checkout gets no build/ or egg-info. Then it is unpacked and imported with Python's ``-S`` (no site
processing: the editable installs of .venv, which put plugins/ and devtools/ on the path, are off) and
.venv's site-packages as a plain folder for the third-party packages: that is the production install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_PACKAGES = ("sandbox", "testing", "rehearsal")
DEV_MODULES = ("demo.py", "synthetic.py")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copy(ROOT / "README.md", source)
    shutil.copytree(
        ROOT / "plugins", source / "plugins", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    out = tmp_path_factory.mktemp("wheel")
    uv = Path(sys.executable).parent / "uv"
    if uv.exists():
        command = [str(uv), "build", "--wheel", "--out-dir", str(out), str(source)]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", str(source), "-w", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("wecom_offboarding-*.whl")
    return built


def test_the_wheel_holds_no_sandbox_harness_responder_demo_or_synthetic_cases(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "offboarding/cli.py" in names and "offboarding/wecom/client.py" in names  # the check can fail
    for name in names:
        path = PurePosixPath(name)
        assert path.parts[0] != "offboarding_dev", name
        assert not set(path.parts) & set(DEV_PACKAGES), name
        assert path.name not in DEV_MODULES, name
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "offboarding = offboarding.cli:main" in text
    assert "offboarding-dev" not in text and "offboarding_dev" not in text


def test_the_production_install_cannot_import_dev_tools_and_its_cli_has_no_rehearsal(
    wheel: Path, tmp_path: Path
) -> None:
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    probe = """
import importlib, sys
import offboarding
assert offboarding.__file__.startswith(sys.argv[1]), offboarding.__file__
for name in ("offboarding_dev", "offboarding.sandbox", "offboarding.testing", "offboarding.rehearsal",
             "offboarding.demo", "offboarding.cases_page.synthetic"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        continue
    raise SystemExit(f"{name} is importable from the production install")
from offboarding.cli import build_parser
print(build_parser().format_help())
"""
    site_packages = sysconfig.get_paths()["purelib"]
    done = subprocess.run(
        [sys.executable, "-S", "-c", probe, str(installed)],
        env={"PYTHONPATH": os.pathsep.join([str(installed), site_packages]), "PATH": os.environ["PATH"]},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "bulk-trigger" in done.stdout
    assert "rehearse" not in done.stdout


def test_the_installed_offboarding_command_lists_no_rehearsal_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "offboarding.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "bulk-trigger" in done.stdout and "rehearse" not in done.stdout
