"""The Airflow plugin: UI page, API and listeners of the offboarding product."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class OffboardingPlugin(AirflowPlugin):
    name = "offboarding"
