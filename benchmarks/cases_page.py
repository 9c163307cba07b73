"""Cases page: time to the first page — with its summary strip over every open case — with 10,000 cases,
against the same page with 100 cases; and the summary's "stalled now" link (the exact stalled list).

Each database is a scratch SQLite file seeded by the cases page's own helper
(``offboarding_dev.synthetic``); the page is served by Airflow's real API app in process
(``create_app()`` + FastAPI's TestClient, authenticated with a token from the simple auth manager), see
``benchmarks.children.cases_page``. The row is the median of repeated requests for the first page.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.environment import child_env
from benchmarks.measure import median
from benchmarks.processes import ChildRun, python_module, run_child
from benchmarks.results import Goal, Row
from benchmarks.sizes import Size

GOAL = Goal.at_most(1.0, "s")
BASELINE_CASES = 100


def missing_parts() -> str | None:
    """Why the cases page cannot be measured yet, or None when its app and seeding helper exist."""
    try:
        from offboarding.cases_page.app import app  # noqa: F401
        from offboarding_dev.synthetic import seed_synthetic_cases  # noqa: F401
    except ImportError as err:
        return f"the cases page or its seeding helper is not importable ({err})"
    return None


def run(size: Size, workdir: Path) -> list[Row]:
    missing = missing_parts()
    if missing:
        return [Row.not_available("cases_page.first_page_10k", "s", missing, GOAL)]
    cases = size.pick(1000, 10_000)
    requests = size.pick(3, 15)
    subject = serve(workdir, "subject", cases, requests)
    baseline = serve(workdir, "baseline", BASELINE_CASES, requests)
    result = subject.result
    if result["total"] != cases:
        return [
            Row.failed("cases_page.first_page_10k", f"the page lists {result['total']} of {cases:,} cases")
        ]
    summary = result.get("summary") or {}
    if result.get("stalled_total") != summary.get("stalled"):
        return [
            Row.failed(
                "cases_page.stalled_list_10k",
                f"the summary says {summary.get('stalled')} stalled, its list holds {result.get('stalled_total')}",
            )
        ]
    return [
        Row.measured(
            "cases_page.first_page_10k",
            median(result["times"]),
            "s",
            baseline=median(baseline.result["times"]),
            goal=GOAL,
            notes=f"GET /offboarding/cases (first page, {result['shown']} of {result['total']:,} cases, with the "
            f"summary strip over {summary.get('open_cases', 0):,} open cases: {summary.get('stalled', 0):,} stalled, "
            f"{len(summary.get('by_phase') or [])} phases; "
            f"{result['html_bytes'] / 1000:.0f} KB of HTML) on Airflow's API app with a real token, SQLite "
            f"metadata seeded with {cases:,} synthetic cases; median of {requests} requests (first request of "
            f"the process: {result['cold_seconds']:.2f} s). Baseline: the same page with {BASELINE_CASES} "
            f"cases. Goal chosen by the bench (the brief sets none): a page within 1 s.",
            why_missed="the page's query or rendering grows with the number of cases",
        ),
        Row.measured(
            "cases_page.stalled_list_10k",
            median(result["stalled_times"]),
            "s",
            baseline=median(baseline.result["stalled_times"]),
            goal=GOAL,
            notes=f"GET /offboarding/cases?stalled=true: the summary's 'stalled now' link, the exact list of "
            f"{result['stalled_total']:,} stalled cases among {cases:,} (chosen over every open case, then "
            f"one page of them); median of {requests} requests. Baseline: {BASELINE_CASES} cases.",
            why_missed="judging every open case's current step grows with the number of open cases",
        ),
    ]


def serve(workdir: Path, name: str, cases: int, requests: int) -> ChildRun:
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.json"
    spec.write_text(json.dumps({"cases": cases, "requests": requests}))
    env = child_env(
        workdir,
        AIRFLOW_HOME=str(folder / "airflow-home"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{folder / 'airflow.db'}",
        AIRFLOW__CORE__AUTH_MANAGER="airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="bench:admin",
    )
    return run_child(
        python_module("benchmarks.children.cases_page", str(spec)), env=env, workdir=folder, timeout=900
    )
