"""The WeCom client stands alone: it imports nothing else of ours and no Airflow, and loads lazily."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, pkgutil, importlib, sys
import offboarding.wecom as wecom
lazy = "offboarding.wecom.client" not in sys.modules
client_class = wecom.WeComClient
for info in pkgutil.iter_modules(wecom.__path__, "offboarding.wecom."):
    importlib.import_module(info.name)
print(json.dumps({
    "lazy": lazy,
    "client": client_class.__module__,
    "foreign": sorted(
        m for m in sys.modules
        if (m.startswith("offboarding.") and not m.startswith("offboarding.wecom")) or m.split(".")[0] == "airflow"
    ),
}))
"""


def test_the_client_imports_nothing_of_ours_and_no_airflow() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["foreign"] == []
    assert found["lazy"] is True
    assert found["client"] == "offboarding.wecom.client"


def test_an_unknown_name_is_an_attribute_error() -> None:
    import offboarding.wecom

    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        offboarding.wecom.Nope  # noqa: B018
