"""Addresses of the cases page, for whoever links to it from outside the page (alerts, the demo).

The page is the plugin's FastAPI app mounted at ``/offboarding`` on the api-server; one case is the page
filtered to its DAG run (the same address the plugin's *Offboarding case* tab on a DAG run opens).
No FastAPI import here: the watchdog's task builds these links.
"""

from __future__ import annotations

from urllib.parse import urlencode

CASES_PAGE_PATH = "/offboarding/cases"


def cases_page_url(base_url: str) -> str:
    """The cases page under the api-server's address ``base_url`` (Airflow's ``[api] base_url``)."""
    return f"{base_url.rstrip('/')}{CASES_PAGE_PATH}"


def case_page_url(base_url: str, dag_id: str, run_id: str) -> str:
    """One case's place on the cases page (its timeline, steps, owners, evidence): filtered to its run."""
    return f"{cases_page_url(base_url)}?{urlencode({'dag_id': dag_id, 'run_id': run_id})}"


__all__ = ["CASES_PAGE_PATH", "case_page_url", "cases_page_url"]
