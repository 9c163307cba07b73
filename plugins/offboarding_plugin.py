"""Registers the offboarding plugin with Airflow.

Airflow imports every ``.py`` under ``plugins/`` as a top-level module named after its stem, so the
``offboarding`` package itself is listed in ``plugins/.airflowignore`` and only this thin file is
loaded from the plugins folder. The package is imported once, under its real name.
"""

from offboarding.plugin import OffboardingPlugin

__all__ = ["OffboardingPlugin"]
