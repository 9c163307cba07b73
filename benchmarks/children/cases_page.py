"""Time the cases page of a real Airflow API app over a scratch database of synthetic cases.

``python -m benchmarks.children.cases_page SPEC.json`` (spec: ``cases``, ``requests``). The parent points
``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` at a scratch SQLite file and sets up the simple auth manager. This
script creates Airflow's tables, seeds the cases with the cases page's own helper, builds Airflow's API
app (``create_app()``, the plugin's app mounted at ``/offboarding``), signs in with a real token, checks
the page holds every case and its summary strip (open cases by phase, stalled, on hold, legal deadlines
in 7 days, computed over every open case), then times ``GET /offboarding/cases`` (the first page with its
summary) and ``GET /offboarding/cases?stalled=true`` (the summary's "stalled now" link: the exact list
of stalled cases among all of them) repeatedly.
"""

from __future__ import annotations

import json
import os
import sys
import time

from benchmarks.processes import write_result

PAGE = "/offboarding/cases"
PAGE_JSON = "/offboarding/api/cases"


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    from offboarding_dev.synthetic import create_metadata_tables, seed_synthetic_cases

    engine = create_engine(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    started = time.perf_counter()
    create_metadata_tables(engine)
    seeded = seed_synthetic_cases(engine, int(spec["cases"]))
    seed_seconds = time.perf_counter() - started
    engine.dispose()

    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    app = create_app()
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="bench", role="admin"))
    headers = {"Authorization": f"Bearer {token}"}
    client = TestClient(app)

    started = time.perf_counter()
    first = client.get(PAGE, headers=headers)
    cold = time.perf_counter() - started
    if first.status_code != 200 or "Offboarding cases" not in first.text:
        raise SystemExit(f"GET {PAGE} answered {first.status_code}: {first.text[:300]}")
    if "Open cases by phase" not in first.text:
        raise SystemExit(f"GET {PAGE} has no summary strip")
    listing = client.get(PAGE_JSON, headers=headers).json()
    stalled_listing = client.get(PAGE_JSON, headers=headers, params={"stalled": "true"}).json()
    times, stalled_times = [], []
    for _ in range(int(spec["requests"])):
        started = time.perf_counter()
        response = client.get(PAGE, headers=headers)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        started = time.perf_counter()
        response = client.get(PAGE, headers=headers, params={"stalled": "true"})
        stalled_times.append(time.perf_counter() - started)
        response.raise_for_status()
    write_result(
        {
            "seeded": seeded.runs,
            "seed_seconds": seed_seconds,
            "total": listing.get("total"),
            "shown": len(listing.get("cases") or []),
            "cold_seconds": cold,
            "times": times,
            "html_bytes": len(first.content),
            "summary": listing.get("summary"),
            "stalled_total": stalled_listing.get("total"),
            "stalled_times": stalled_times,
        }
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m benchmarks.children.cases_page SPEC.json")
    main(sys.argv[1])
