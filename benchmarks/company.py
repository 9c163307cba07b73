"""A company of 10,000 members: the member tasks of ``dissolve_company`` driven over every batch.

As tests/operators/test_members_offboarding.py does: ``plan_member_batches``, the approval given in
Airflow (its record kept in memory) and recorded in the ledger, ``offboard_member_batch`` for every
batch of the plan, ``offboard_leaders``, then ``summarise_member_offboarding``, each by
``execute(context)`` against a ``members:N`` sandbox. Reports WeCom calls against the batching minimum
(:mod:`benchmarks.company_minimum`), wall time against the floor WeCom's rate limit allows, rate-limit
errors, and the task instances a run of the DAG creates.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.company_minimum import CompanyFacts, company_minimum
from benchmarks.environment import REPO, bench_backup_root, start_sandbox, wecom_deployment
from benchmarks.person_minimum import CGI, token_minimum
from benchmarks.results import Goal, Row
from benchmarks.sizes import Size
from benchmarks.task_context import MemoryTaskInstance, approval_context, run_task
from offboarding_dev.testing.approvals import approvals_in_memory
from offboarding_dev.testing.controls import controls_in_memory

CASE_ID = "dissolve-91350100M000100Y43"
ADMINS = ["zhangsan", "admin01", "admin02"]
RATE_LIMITED = "45009"
GOAL = Goal.ratio_at_most(1.1)
KNOWN_CAUSES = {
    (
        "leaders",
        "externalcontact/groupchat/list",
    ): "the leaders' batch lists the successor's customer groups, 1,000 a page, which by then include every "
    "group the batches handed over (listed by reference to the batches' backups, not read again); WeCom's "
    "listing has no filter to leave them out",
    (
        "leaders",
        "externalcontact/groupchat/get",
    ): "the leaders' batch read again groups the batches had handed to the successor, which are already in "
    "the batches' backups (ReceivedGroups in offboarding.steps.member_backup no longer applies)",
    (
        "leaders",
        "user/delete",
    ): "the admins' batch holds several admins, one of them the creator: WeCom refuses user/batchdelete as a "
    "whole for the creator (301005; no API names the creator beforehand), so it is retried member by member "
    "with user/delete",
}


def company_parts() -> tuple[Any, ...] | str:
    """The company member operators, or why they are not available yet."""
    try:
        from offboarding.operators.company_member_summary import SummariseMemberOffboardingOperator
        from offboarding.operators.company_members import (
            BATCH_TASK_ID,
            LEADERS,
            PLAN_SUMMARY_KEY,
            PLAN_TASK_ID,
            OffboardMemberBatchOperator,
            PlanMemberBatchesOperator,
        )
    except ImportError as err:
        return f"the company batch operator is not importable ({err})"
    return (
        PlanMemberBatchesOperator,
        OffboardMemberBatchOperator,
        SummariseMemberOffboardingOperator,
        PLAN_TASK_ID,
        BATCH_TASK_ID,
        PLAN_SUMMARY_KEY,
        LEADERS,
    )


def company_params(backups: Path) -> dict[str, Any]:
    return {
        "company_name": "示例科技有限公司",
        "credit_code": "91350100M000100Y43",
        "procedure": "general",
        "legal_representative": "legal",
        "finance_owner": "finance",
        "approvers": ["approver"],
        "successor_userid": "admin01",
        "admin_userid": "admin02",
        "deregister_admin_account": False,
        "backup_target": bench_backup_root(backups),
        "notify": {"webhook_conn_id": None, "userids": []},
        "wecom_conn_id": "wecom_default",
        "dry_run": False,
        "time_scale": 1,
    }


def run(size: Size, workdir: Path) -> list[Row]:
    members = size.pick(400, 10_000)
    names = ("calls", "wall_time", "rate_limit_errors", "task_instances")
    parts = company_parts()
    if isinstance(parts, str):
        return [Row.not_available(f"company_10k.{n}", "", parts) for n in names]
    plan_op, batch_op, summary_op, plan_task, batch_task, summary_key, leaders = parts
    params = company_params(workdir / "backups")
    ti = MemoryTaskInstance()
    phases: dict[str, Counter[str]] = {}
    with (
        start_sandbox(f"members:{members}") as sandbox,
        wecom_deployment(sandbox, workdir / "deployment", admin_userids=ADMINS),
        approvals_in_memory(approval_context) as approvals,
        controls_in_memory(),
    ):
        state = sandbox.control.state()
        sandbox.control.reset_stats()
        tally = PhaseTally(sandbox, phases)
        started = time.perf_counter()
        with tally("plan"):
            batches = run_task(
                plan_op(task_id="plan_member_batches"), params, task_id=plan_task, run_id=CASE_ID, ti=ti
            )
        plan = ti.xcom_pull(task_ids=plan_task, key=summary_key)
        approve(params, approvals)
        with tally("batches"):
            results = [
                run_task(
                    batch_op(task_id="offboard_member_batch", batch=b),
                    params,
                    task_id=batch_task,
                    run_id=CASE_ID,
                    ti=ti,
                )
                for b in batches
            ]
        with tally("leaders"):
            run_task(
                batch_op(task_id="offboard_leaders", batch=leaders),
                params,
                task_id="offboard_all_members.offboard_leaders",
                run_id=CASE_ID,
                ti=ti,
            )
        with tally("summary"):
            summary = run_task(
                summary_op(task_id="summarise_member_offboarding"),
                params,
                task_id="offboard_all_members.summarise_member_offboarding",
                run_id=CASE_ID,
                ti=ti,
            )
        wall = time.perf_counter() - started
        stats = sandbox.control.stats(include_writes=False)

    calls = Counter({p: int(n) for p, n in stats["calls"].items()})
    gettoken = calls.pop(CGI + "gettoken", 0)
    admins_deleted_last = len(plan.get("admins_deleted_last") or [])
    kept = len(plan.get("kept") or {})
    facts = CompanyFacts(
        members=plan["members"] - admins_deleted_last - kept,
        admins_deleted_last=admins_deleted_last,
        kept=kept,
        customers=int(state["customers"]),
        groups=int(state["group_chats"]["normal"]),
    )
    minimum = company_minimum(facts)
    secrets = token_minimum(list(minimum))
    offboarded = sum(int(r.get("offboarded", 0)) for r in results)
    return [
        calls_row(calls, gettoken, minimum, secrets, facts, offboarded, summary, phases),
        time_row(wall, calls, facts),
        Row.measured(
            "company_10k.rate_limit_errors",
            int(stats["errors"].get(RATE_LIMITED, 0)),
            "errors",
            goal=Goal.at_most(0),
            notes=f"45009 answers from the sandbox (its limit: 10,000 calls per API per minute); all errcodes "
            f"seen: {stats['errors'] or 'none'}.",
            why_missed="the batch operator's limiter let calls through faster than WeCom's per-API limit",
        ),
        task_instances_row(len(batches), facts),
    ]


class PhaseTally:
    """``with tally("batches"):`` keeps the sandbox calls made inside the block under that phase."""

    def __init__(self, sandbox: Any, phases: dict[str, Counter[str]]) -> None:
        self.sandbox = sandbox
        self.phases = phases

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        before = Counter(self.sandbox.control.stats(include_writes=False)["calls"])
        try:
            yield
        finally:
            after = Counter(self.sandbox.control.stats(include_writes=False)["calls"])
            self.phases[phase] = +(after - before)


def approve(params: dict[str, Any], approvals: Any) -> None:
    """What the notice's publication and the approval record (no WeCom call): the approver answers in
    Airflow (its record, kept in memory) and ApproveDeletionOperator writes the ledger entry."""
    from offboarding.backup.roots import resolve_backup_root
    from offboarding.backup.storage import BackupStore
    from offboarding.evidence.keys import key_from_environment
    from offboarding.evidence.ledger import EvidenceLedger

    ledger = EvidenceLedger(
        BackupStore(resolve_backup_root(params["backup_target"]).url), CASE_ID, key=key_from_environment()
    )
    # The notice's publication, long over: the batches check the notice period themselves.
    ledger.append(
        "human_step.answered",
        actor="legal",
        step="dissolution_notice.record_notice_publication",
        result={"evidence": {"published_on": "2026-01-05"}, "responded_at": "2026-01-05T10:00:00+08:00"},
    )
    approvals.approve(params, run_id=CASE_ID, user="bench")


def calls_row(
    calls: Counter[str],
    gettoken: int,
    minimum: dict[str, int],
    secrets: int,
    facts: CompanyFacts,
    offboarded: int,
    summary: dict[str, Any],
    phases: dict[str, Counter[str]],
) -> Row:
    over = [
        f"{p.removeprefix(CGI)} {calls.get(p, 0) - minimum.get(p, 0):+d} (calls by phase: "
        + ", ".join(f"{phase} {counts.get(p, 0):,}" for phase, counts in phases.items())
        + ")"
        for p in sorted(set(calls) | set(minimum))
        if calls.get(p, 0) != minimum.get(p, 0)
    ]
    return Row.measured(
        "company_10k.calls",
        sum(calls.values()),
        "calls",
        baseline=sum(minimum.values()),
        goal=GOAL,
        notes=f"{facts.everyone:,} members ({facts.members:,} offboarded: {offboarded:,}; "
        f"{summary.get('done', '')}); {facts.customers:,} customers, {facts.groups:,} groups. Differences from "
        f"the batching minimum: {'; '.join(over) or 'none'}. gettoken: {gettoken} for {secrets} secret(s) used.",
        why_missed=causes(calls, minimum, phases),
    )


def causes(calls: Counter[str], minimum: dict[str, int], phases: dict[str, Counter[str]]) -> str:
    """Why each endpoint over the minimum is over: the phase that made the extra calls, and the known cause."""
    found = []
    for path in sorted(calls):
        extra = calls[path] - minimum.get(path, 0)
        if extra <= 0:
            continue
        endpoint = path.removeprefix(CGI)
        known = [
            KNOWN_CAUSES[(phase, endpoint)]
            for phase, counts in phases.items()
            if (phase, endpoint) in KNOWN_CAUSES and counts.get(path, 0)
        ]
        busiest = max(phases, key=lambda phase: phases[phase].get(path, 0))
        found.append(
            f"{endpoint} {extra:+d}: " + (known[0] if known else f"cause not known (most calls: {busiest})")
        )
    return "; ".join(found)


def time_row(wall: float, calls: Counter[str], facts: CompanyFacts) -> Row:
    """Wall time against the floor: the busiest API's calls at this process' share of WeCom's limit."""
    from offboarding.steps.batches import calls_per_second_share

    rate = calls_per_second_share(1)
    busiest, most = max(((p, n) for p, n in calls.items() if p.startswith(CGI)), key=lambda item: item[1])
    floor = max(most - rate, 0) / rate  # a full bucket (one second's worth of calls) goes out at once
    return Row.measured(
        "company_10k.wall_time",
        wall,
        "s",
        baseline=floor,
        notes=f"plan, every batch one after the other, the leaders, the summary (as one worker would), for "
        f"{facts.everyone:,} members on this machine; baseline: the least time WeCom's rate limit allows: "
        f"the busiest API ({busiest.removeprefix(CGI)}, {most:,} calls) at this process' share of the limit "
        f"({rate:.0f} calls/s). In the DAG up to 4 batches run at once, each with a quarter of the limit.",
    )


def task_instances_row(batches: int, facts: CompanyFacts) -> Row:
    """Task instances one ``dissolve_company`` run creates: every task once, the mapped batch task per batch."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "dissolve_company.py"))
    dag = bag.dags.get("dissolve_company")
    if dag is None:
        return Row.not_available(
            "company_10k.task_instances", "TIs", f"dissolve_company did not load: {bag.import_errors}"
        )
    mapped = [t for t in dag.tasks if t.task_id.endswith("offboard_member_batch")]
    instances = len(dag.tasks) - len(mapped) + batches * len(mapped)
    return Row.measured(
        "company_10k.task_instances",
        instances,
        "TIs",
        baseline=facts.everyone,
        notes=f"{len(dag.tasks)} tasks in dissolve_company, the batch task mapped over {batches} batches "
        f"(≤ 200 members each); baseline: one task instance per member. Scheduler load grows with batches, "
        f"not members ({math.ceil(facts.everyone / 200)} batches for {facts.everyone:,} members).",
    )
