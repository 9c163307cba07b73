"""Where the product's assets live: the ``include/`` folder with the duration policy and the calendar.

The include folder is found in this order:

1. the folder named by the environment variable ``OFFBOARDING_INCLUDE_DIR`` (a deployment's choice);
2. the repository's ``include/`` next to ``plugins/`` (an editable install or a checkout:
   ``plugins/offboarding/../../include``), recognised by the ``policy.yaml`` it holds;
3. ``$AIRFLOW_HOME/include`` (the Astro layout, where ``include/`` sits in the Airflow home).
"""

from __future__ import annotations

import os
from pathlib import Path

INCLUDE_DIR_ENV = "OFFBOARDING_INCLUDE_DIR"
POLICY_FILE_NAME = "policy.yaml"
CALENDAR_OVERRIDES = Path("calendar") / "cn_overrides.yaml"


def include_dir() -> Path:
    """The folder holding the policy, the calendar overrides and the other assets.

    Raises FileNotFoundError naming every place that was tried when none exists.
    """
    configured = os.environ.get(INCLUDE_DIR_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"{INCLUDE_DIR_ENV}={configured} is not a folder; point it at the folder that holds "
                f"{POLICY_FILE_NAME} and calendar/, or unset it"
            )
        return path

    tried: list[str] = []
    repo_include = Path(__file__).resolve().parent.parent.parent / "include"
    if (repo_include / POLICY_FILE_NAME).is_file():
        return repo_include
    tried.append(str(repo_include))

    airflow_home = os.environ.get("AIRFLOW_HOME", "").strip()
    if airflow_home:
        home_include = Path(airflow_home).expanduser() / "include"
        if home_include.is_dir():
            return home_include
        tried.append(str(home_include))
    else:
        tried.append("$AIRFLOW_HOME/include (AIRFLOW_HOME is not set)")

    raise FileNotFoundError(
        "cannot find the offboarding include folder (policy.yaml, calendar/); tried: "
        + "; ".join(tried)
        + f". Set {INCLUDE_DIR_ENV} to the folder that holds them."
    )


def policy_file() -> Path:
    """The product's duration policy, ``include/policy.yaml``."""
    return include_dir() / POLICY_FILE_NAME


def calendar_overrides_file() -> Path:
    """The PRC calendar overrides, ``include/calendar/cn_overrides.yaml``."""
    return include_dir() / CALENDAR_OVERRIDES
