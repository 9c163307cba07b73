"""WeCom economy: calls of person cases against the minimum they need, and tokens for the whole deployment.

Two cases of the default sandbox corp run one after the other in one deployment (one shared token
cache, three secrets): ``lisi`` (12 customers, one refused on-job, 3 groups, 3 tags, 2 app chats, a
WeDrive space) and ``bigsales`` (250 customers, 120 groups). Calls per task come from ``/sandbox/stats``;
the minimum is derived in :mod:`benchmarks.person_minimum` from what WeCom holds for each member.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from benchmarks.environment import SECRET_KINDS, start_sandbox, wecom_deployment
from benchmarks.person_case import APP_CHATS, person_params, read_facts, run_person_case
from benchmarks.person_minimum import CGI, by_task, compare, explain, person_minimum, token_minimum, total
from benchmarks.results import Goal, Row
from benchmarks.sizes import Size

GOAL = Goal.ratio_at_most(1.1)
CASES = (("lisi", ["space_lisi"]), ("bigsales", []))
MINIMUM_RULES = (
    "Minimum: each task reads the state it acts on once (tasks are separate, re-runnable processes), "
    "writes at WeCom's batch limits, reads at the largest page, one read per tag and per customer group "
    "(WeCom has no batch read for them), no read-back after a confirmed write, no resigned-transfer read "
    "while the member is active. The takeover wait counts up to its first read (its polling: waiting_cost)."
)


def run(size: Size, workdir: Path) -> list[Row]:
    cases = CASES[:1] if size.quick else CASES
    rows: list[Row] = []
    measured_all: Counter[str] = Counter()
    minimum_all = 0
    gettoken = 0
    with (
        start_sandbox("default") as sandbox,
        wecom_deployment(sandbox, workdir / "deployment", app_chat_ids=APP_CHATS),
    ):
        for member, spaces in cases:
            facts = read_facts(sandbox, member, spaces)
            sandbox.control.reset_stats()
            params = person_params(member, workdir / "backups", spaces=spaces, deregister=True)
            run_ = run_person_case(sandbox, params)
            needs = person_minimum(facts, run_.outcome(), deregister=True)
            minimum = by_task(needs)
            measured = {
                task: Counter({p: n for p, n in calls.items() if p != CGI + "gettoken"})
                for task, calls in run_.calls.items()
            }
            gettoken += sum(calls.get(CGI + "gettoken", 0) for calls in run_.calls.values())
            differences = [explain(line) for line in compare(measured, minimum)]
            for calls in measured.values():
                measured_all.update(calls)
            minimum_all += total(minimum)
            rows.append(
                Row.measured(
                    f"wecom_calls_person.{member}",
                    total(measured),
                    "calls",
                    baseline=total(minimum),
                    goal=GOAL,
                    notes=f"{facts.customers} customers, {facts.groups} groups, {facts.member_tags} tags, "
                    f"{facts.wedrive_files} WeDrive files; differences from the minimum: "
                    + ("; ".join(differences) or "none")
                    + ".",
                    why_missed="over the minimum: " + "; ".join(differences),
                )
            )
    secrets = token_minimum(list(measured_all))
    rows.append(
        Row.measured(
            "wecom_calls_person.total",
            sum(measured_all.values()),
            "calls",
            baseline=minimum_all,
            goal=GOAL,
            notes=f"{len(cases)} case(s), every task's calls vs the minimum. {MINIMUM_RULES}",
            why_missed="see the per-case rows for the endpoints over the minimum",
        )
    )
    rows.append(
        Row.measured(
            "wecom_calls_person.gettoken",
            gettoken,
            "calls",
            baseline=secrets,
            goal=Goal.ratio_at_most(1.0),
            notes=f"gettoken for the whole deployment ({len(cases)} case(s), every task a new client as in "
            f"separate worker processes, tokens shared through the deployment's file token cache) against one "
            f"per secret used ({secrets} of the {len(SECRET_KINDS)} kinds: contacts-sync, customer-contact, "
            "app), all within one token lifetime (2 h).",
            why_missed="a token was fetched again within its lifetime",
        )
    )
    return rows
