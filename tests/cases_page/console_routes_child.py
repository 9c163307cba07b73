"""Child process of test_console_routes.py: Airflow's real API app (``create_app()``, the simple auth
manager, the plugin's app at ``/offboarding``) over a scratch SQLite metadata database seeded with the
console's showcase cases; answers every console route with and without a token and prints what it got
as JSON on its last line.

Run in its own process because Airflow reads its configuration (the database) when first imported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main() -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine

    from offboarding_dev.synthetic import create_metadata_tables, seed_console_showcase, seed_synthetic_cases

    engine = create_engine(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    create_metadata_tables(engine)
    now = dt.datetime.now(dt.UTC)
    seed_synthetic_cases(engine, 40, now=now)
    showcase = seed_console_showcase(engine, now=now)
    engine.dispose()

    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    client = TestClient(create_app())
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="viewer", role="viewer"))
    auth = {"Authorization": f"Bearer {token}"}
    person = f"/offboarding/cases/offboard_employee/{showcase.person_run_id}"
    routes = [
        "/offboarding/cases",
        "/offboarding/api/cases",
        person,
        f"{person}/timeline.svg",
        "/offboarding/calendar",
        "/offboarding/api/calendar",
        "/offboarding/calendar.ics?owner=hr_wang",
        "/offboarding/cases.csv?kind=person",
        "/offboarding/cases.xlsx?kind=person",
    ]
    out: dict[str, object] = {"anonymous": {r: client.get(r).status_code for r in routes}}
    answers = {r: client.get(r, headers=auth) for r in routes}
    out["status"] = {r: a.status_code for r, a in answers.items()}
    out["types"] = {r: a.headers.get("content-type", "") for r, a in answers.items()}
    out["summary"] = answers["/offboarding/api/cases"].json()["summary"]
    out["held_total"] = client.get("/offboarding/api/cases?held=true", headers=auth).json()["total"]
    out["bad_filter"] = client.get("/offboarding/api/cases?phase=a%20b", headers=auth).text
    out["page_has_strip"] = "Open cases by phase" in answers["/offboarding/cases"].text
    out["case_page"] = answers[person].text
    out["svg"] = answers[f"{person}/timeline.svg"].text
    out["ics"] = answers["/offboarding/calendar.ics?owner=hr_wang"].text
    out["csv"] = answers["/offboarding/cases.csv?kind=person"].content.decode("utf-8-sig")
    out["xlsx_bytes"] = len(answers["/offboarding/cases.xlsx?kind=person"].content)
    out["person_json"] = client.get("/offboarding/api/cases", params={"kind": "person"}, headers=auth).json()[
        "cases"
    ]
    company = client.get(
        "/offboarding/api/cases",
        params={"dag_id": "dissolve_company", "run_id": showcase.company_run_id},
        headers=auth,
    ).json()
    out["company_progress"] = company["cases"][0]["progress"]
    out["calendar"] = answers["/offboarding/api/calendar"].json()
    out["gc"] = collector_while_judging(client, auth)
    sys.stdout.write("\n" + json.dumps(out, ensure_ascii=False) + "\n")


def collector_while_judging(client: object, auth: dict[str, str]) -> dict[str, object]:
    """Whether the cyclic garbage collector was on while the page, its JSON and the calendar judged every
    open case, and after."""
    import gc

    from offboarding.cases_page import console

    seen: list[bool] = []
    judge = console.open_cases

    def recording(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return judge(*args, **kwargs)  # type: ignore[arg-type]

    console.open_cases = recording  # type: ignore[assignment]
    try:
        for route in ("/offboarding/cases", "/offboarding/api/cases", "/offboarding/api/calendar"):
            client.get(route, headers=auth).raise_for_status()  # type: ignore[attr-defined]
    finally:
        console.open_cases = judge
    return {"on_while_judging": seen, "on_after": gc.isenabled()}


if __name__ == "__main__":
    main()
