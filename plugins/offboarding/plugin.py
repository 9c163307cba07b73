"""The Airflow plugin: UI page, API and listeners of the offboarding product."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from offboarding.cases import register_format_checks

# The api-server validates trigger forms from the serialized DAG, without parsing DAG files: register
# the credit-code check (GB 32100-2015 check character) here, where every component loads it.
register_format_checks()


class OffboardingPlugin(AirflowPlugin):
    name = "offboarding"
