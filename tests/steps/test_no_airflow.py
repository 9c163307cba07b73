"""The core imports no Airflow: every step module loads in a fresh interpreter without ``airflow``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import offboarding.steps as steps
for module in pkgutil.iter_modules(steps.__path__):
    importlib.import_module(f"offboarding.steps.{module.name}")
loaded = sorted(name for name in sys.modules if name == "airflow" or name.startswith("airflow."))
print(len(list(pkgutil.iter_modules(steps.__path__))), loaded)
"""


def test_no_step_imports_airflow() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO / "plugins"), "PATH": ""},
    ).stdout.split(maxsplit=1)

    assert int(out[0]) >= 10  # every step module was imported
    assert out[1].strip() == "[]"
