"""The distributed topology as processes: PostgreSQL + Redis + Celery, disturbed while cases run.

``running_topology`` starts the api-server, scheduler, dag-processor, triggerer and two Celery workers
against a fresh PostgreSQL database and Redis, with the repository's DAGs and plugin. Two WeCom
sandboxes run in rehearsal time (a legal day per second): ``members:60`` for 16 departing persons (one
fixed successor, u000060) and ``members:200`` for one dissolving company. The rehearsal responder
answers every human step as the assigned person, through the REST API.

While the cases run, the triggerer is SIGKILLed in the middle of the persons' deferred waits for their
last working day and a new one started, and a Celery worker is SIGKILLed (its whole process tree, as
a crashed container) while it runs a task, and replaced. Then: every case finished successfully, every
member was deleted exactly once (the sandbox's write log), the killed task was retried to success, and
no legal wait was reset — each one woke at the wall time computed from its run's anchor and its legal
deadline, not that plus the time the triggerer was down.

The killed task is retried by the product's own retries (the policy's ``task_retries``); this test
only shortens their first delay with a policy override file (``RETRY_OVERRIDE``), as a deployment would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
import pytest
import redis

from offboarding.airflow_api import AirflowApi, AirflowApiError
from offboarding.cases import PERSON_DAG_ID
from offboarding.timescale import wall_time_for
from offboarding_dev.rehearsal import Responder
from offboarding_dev.rehearsal.samples import (
    COMPANY_CONN_ID,
    COMPANY_CORPID,
    LEAVERS_DEPARTMENT_ID,
    PERSONS_CONN_ID,
    SampleCase,
    SamplePerson,
    company_case,
    person_case,
    today_in_shanghai,
    wecom_connection,
)
from offboarding_dev.sandbox.testing import RunningSandbox, running_sandbox
from offboarding_dev.testing.topology import Topology, database_exists, running_topology

pytestmark = [pytest.mark.services, pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1500)]

#: Seconds from the start by which every case must have finished (the whole test is budgeted at 15 min).
CASES_BUDGET = 780.0

REPO = Path(__file__).resolve().parents[2]
TIME_SCALE = 86400.0  # a legal day per wall second
WORKERS = 2
WORKER_CONCURRENCY = 4
#: Imported by each Celery worker before it forks: tasks start without importing the DAGs' modules.
PRELOADED = (
    "offboarding.workflows.person",
    "offboarding.workflows.deregistration",
    "offboarding.workflows.company",
)

PERSONS = [f"u{n:06d}" for n in range(1, 17)]
SUCCESSOR = "u000060"
DEREGISTERING = PERSONS[:4]  # cooling-off waits (15 legal days after the submission)
LONG_WAITERS = PERSONS[4:10]  # deferred waits for a last working day months ahead
#: How far ahead the long waiters' last working days are: long enough (in rehearsal seconds) that the
#: waits are deferred when the triggerer is killed and still running once the new one took over.
LONG_WAIT_DAYS = 150

PERSON_WAIT = "preflight.wait_for_last_working_day"
LEGAL_WAITS = (
    PERSON_WAIT,
    "account_deregistration.wait_for_cooling_off_end",
    "dissolution_notice.wait_for_notice_period_end",
)
#: Task kinds worth killing a worker in (they write to WeCom or the backup store), best first.
KILL_TARGETS = (
    "deletion.delete_member",
    "handover.hand_over_customers",
    "handover.hand_over_customer_groups",
    "handover.disable_member",
    "offboard_all_members.offboard_member_batch",
    "backup.export_customers_and_groups",
    "backup.snapshot_profile_and_memberships",
)

#: Airflow's audit-log event for a task queued again after ``task_queued_timeout``.
REQUEUED_EVENT = "stuck in queued reschedule"
#: A fired trigger is recorded (task instance scheduled again) within this many seconds of its wake time.
FIRE_SLACK = 15.0
#: A wait's task instance ends within this many seconds of its wake time (a resumed task may queue
#: behind others for a free worker slot).
END_SLACK = 120.0
#: At the triggerer kill, the spanning waits' legal clocks have run at least this long, so a wait
#: restarted from the kill would end this much late — far beyond FIRE_SLACK.
RESET_VISIBLE = 30.0
#: The new triggerer claims orphaned triggers once the old one's heartbeat is older than the health
#: check threshold (10 s in the harness) — a wait due during the outage fires then.
CLAIM_DELAY = 12.0

EXTRA_ENV = {"OFFBOARDING_INCLUDE_DIR": str(REPO / "include")}
#: A deployment's policy override: the first retry after the worker crash comes after 5 s, not 30 s.
RETRY_OVERRIDE = "task_retries:\n  first_delay_seconds: 5\n  max_delay_minutes: 1\n"
USERS = {"admin": "admin", "hr": "user", "approver": "user", "legal_rep": "user", "finance": "user"} | {
    userid: "user"
    for userid in DEREGISTERING  # they answer their own deregistration steps
}


def person_cases(today: dt.date) -> list[SampleCase]:
    """16 persons: 6 with a last working day months ahead (first, so their waits defer early), 4 who
    deregister their account, 6 plain; all hand over to the same successor."""
    cases = []
    for n, userid in enumerate(LONG_WAITERS):
        person = SamplePerson(userid, f"成员{userid[1:]}", successor_userid=SUCCESSOR)
        last_day = today + dt.timedelta(days=LONG_WAIT_DAYS + 2 * n)
        cases.append(person_case(person, last_working_day=last_day, time_scale=TIME_SCALE))
    for userid in [p for p in PERSONS if p not in LONG_WAITERS]:
        person = SamplePerson(
            userid,
            f"成员{userid[1:]}",
            successor_userid=SUCCESSOR,
            deregister_account=userid in DEREGISTERING,
        )
        cases.append(person_case(person, last_working_day=today, time_scale=TIME_SCALE))
    return cases


@dataclass
class Outage:
    """What the test did to the deployment, and when."""

    triggerer_killed_at: pendulum.DateTime | None = None
    triggerer_back_at: pendulum.DateTime | None = None
    spanning_waits: list[dict[str, Any]] = field(default_factory=list)  # deferred at the kill
    killed_task: dict[str, Any] | None = None
    worker_kills: int = 0
    #: (run id, task id) of the tasks Airflow queued again after the worker kill (see requeued_tasks)
    requeued: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Scenario:
    """The running deployment, the sandboxes and the cases of the test."""

    topology: Topology
    persons: RunningSandbox
    company: RunningSandbox
    responder: Responder
    cases: list[SampleCase]
    api: AirflowApi
    outage: Outage = field(default_factory=Outage)


def now() -> pendulum.DateTime:
    return pendulum.now("UTC")


def instant(value: Any) -> pendulum.DateTime:
    parsed = pendulum.parse(str(value))
    assert isinstance(parsed, pendulum.DateTime), value
    return parsed.in_timezone("UTC")


def task_instances(api: AirflowApi, state: str) -> list[dict[str, Any]]:
    """Task instances of every run in one state (one paged request instead of one per run)."""
    # AirflowApi has no cross-run state filter; its pager is the documented REST call with ?state=.
    return api._paged("/api/v2/dags/~/dagRuns/~/taskInstances", "task_instances", {"state": state})


def eventually(what: str, check: Callable[[], Any], timeout: float, poll: float = 2.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        with_result = None
        with contextlib.suppress(AirflowApiError):  # the api-server is busy: ask again
            with_result = check()
        if with_result:
            return with_result
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g}s"
        time.sleep(poll)


# ---------------------------------------------------------------------- the disturbances


def kill_triggerer_during_waits(sc: Scenario) -> None:
    """Once the long waiters' waits are deferred, SIGKILL the triggerer and start a new one."""
    long_runs = {f"offboard-{userid}" for userid in LONG_WAITERS}

    def deferred_waits() -> list[dict[str, Any]]:
        return [
            ti
            for ti in task_instances(sc.api, "deferred")
            if ti["task_id"] == PERSON_WAIT and ti["dag_run_id"] in long_runs
        ]

    eventually("every long waiter's wait deferred", lambda: len(deferred_waits()) == len(long_runs), 300)
    waits = deferred_waits()
    # Let the legal clocks run long enough that a wait restarted from the kill would be visibly late.
    latest_anchor = max(instant(ti["rendered_fields"]["anchor"]) for ti in waits)
    time.sleep(max(0.0, RESET_VISIBLE - (now() - latest_anchor).total_seconds()))
    sc.outage.triggerer_killed_at = now()
    killed = sc.topology.kill("triggerer")
    assert killed, "the triggerer had no process to kill"
    sc.topology.restart("triggerer")
    sc.outage.triggerer_back_at = now()
    sc.outage.spanning_waits = waits


def kill_a_worker_mid_task(sc: Scenario, attempts: int = 3) -> None:
    """SIGKILL the worker running a WeCom-writing task (any task after a while), then replace it.

    The task instance's ``hostname`` (REST API) names its worker. A kill counts when the task is
    still ``running`` right after it (it cannot have finished: its processes are gone).
    """
    hostnames = {sc.topology.worker_hostname(i): i for i in range(WORKERS)}
    for _ in range(attempts):

        def running_target(started: float = time.monotonic()) -> dict[str, Any] | None:
            running = [ti for ti in task_instances(sc.api, "running") if ti.get("hostname") in hostnames]
            for task_id in KILL_TARGETS:
                for ti in running:
                    if ti["task_id"] == task_id:
                        return ti
            patient = time.monotonic() - started > 90  # no writer running for a while: take any task
            return running[0] if running and patient else None

        target = eventually("a task running on a worker", running_target, 300, poll=0.5)
        index = hostnames[target["hostname"]]
        sc.topology.kill("worker", index)
        sc.outage.worker_kills += 1
        after = next(
            ti
            for ti in sc.api.list_task_instances(target["dag_id"], target["dag_run_id"])
            if ti["task_id"] == target["task_id"] and ti["map_index"] == target["map_index"]
        )
        sc.topology.restart("worker", index)
        if after["state"] == "running" and after["try_number"] == target["try_number"]:
            sc.outage.killed_task = target
            return
    pytest.fail(f"no worker kill hit a running task in {attempts} attempts")


# ---------------------------------------------------------------------- what must hold afterwards


def failure_report(sc: Scenario, dag_id: str, run_id: str) -> str:
    """The tasks of a run that did not succeed, with the last error line of each one's log."""
    lines = []
    logs = Path(sc.topology.env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
    for ti in sc.api.list_task_instances(dag_id, run_id):
        if ti["state"] in ("failed", "upstream_failed", "up_for_retry"):
            folder = logs / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={ti['task_id']}"
            errors = [
                line
                for path in sorted(folder.rglob("attempt=*.log"))
                for line in path.read_text(errors="replace").splitlines()
                if '"level":"error"' in line
            ]
            lines.append(f"  {ti['task_id']}: {ti['state']}: {errors[-1][:800] if errors else ''}")
    return f"{run_id}:\n" + "\n".join(lines)


def deletions(sandbox: RunningSandbox) -> Counter[str]:
    """How many times WeCom was asked to delete each member (user/delete and user/batchdelete)."""
    counts: Counter[str] = Counter()
    for write in sandbox.control.stats()["writes"]:
        if write["path"] == "/cgi-bin/user/delete":
            counts[write["summary"]["userid"]] += 1
        elif write["path"] == "/cgi-bin/user/batchdelete":
            counts.update(write["summary"]["userids"])
    return counts


def wake_time(ti: dict[str, Any]) -> pendulum.DateTime:
    """The wall time a legal wait must wake at: its anchor + (deadline - anchor) / time scale."""
    rendered = ti["rendered_fields"]
    anchor, deadline = instant(rendered["anchor"]), instant(rendered["deadline"])
    return wall_time_for(deadline, anchor, float(rendered["time_scale"]))


def requeued_tasks(sc: Scenario) -> set[tuple[str, str]]:
    """(run id, task id) of the task instances Airflow queued again because they sat in ``queued`` past
    ``[scheduler] task_queued_timeout``: the killed worker had taken their broker message but not started
    them (a wait re-reading its case every few seconds is often one). Airflow's audit log records each."""
    rows = sc.topology.query("SELECT run_id, task_id FROM log WHERE event = %s", (REQUEUED_EVENT,))
    return {(run_id, task_id) for run_id, task_id in rows}


def requeue_delay(sc: Scenario) -> float:
    """The longest a task lost with a worker waits before Airflow queues it again."""
    env = sc.topology.env
    return float(env["AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT"]) + float(
        env["AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL"]
    )


def wait_checks(sc: Scenario, ti: dict[str, Any]) -> list[str]:
    """What is wrong with one finished legal wait (empty when it woke when its legal clock said).

    A wait whose run was lost with the killed worker may be late by Airflow's recovery (requeue_delay).
    """
    wake = wake_time(ti)
    recovery = requeue_delay(sc) if (ti["dag_run_id"], ti["task_id"]) in sc.outage.requeued else 0.0
    start, end = instant(ti["start_date"]), instant(ti["end_date"])
    scheduled = instant(ti["scheduled_when"])
    label = f"{ti['dag_run_id']} {ti['task_id']} (wake {wake.isoformat()})"
    problems = []
    if end < wake.subtract(seconds=1):
        problems.append(f"{label}: ended {end.isoformat()}, before its wake time")
    if scheduled > start:  # it deferred: scheduled again when its trigger fired
        killed_at = sc.outage.triggerer_killed_at
        due = wake
        if killed_at is not None and wake >= killed_at.subtract(seconds=FIRE_SLACK):
            # Due while no triggerer ran: it fires once the new triggerer claimed it.
            claimed = max(sc.outage.triggerer_back_at or killed_at, killed_at.add(seconds=CLAIM_DELAY))
            due = max(wake, claimed)
        late = (scheduled - due).total_seconds()
        if scheduled < wake.subtract(seconds=1) or late > FIRE_SLACK + recovery:
            problems.append(f"{label}: its trigger fired at {scheduled.isoformat()} ({late:+.1f}s after due)")
    if (end - max(wake, start)).total_seconds() > END_SLACK + recovery:
        problems.append(f"{label}: ended {end.isoformat()}, over {END_SLACK + recovery:g}s after it could")
    return problems


# ---------------------------------------------------------------------- the run


def check_every_case_succeeded(sc: Scenario) -> None:
    failed = [c for c in sc.cases if sc.api.get_dag_run(c.dag_id, c.run_id)["state"] != "success"]
    reports = "\n".join(failure_report(sc, c.dag_id, c.run_id) for c in failed)
    assert not failed, f"cases that did not succeed:\n{reports}"


def check_the_killed_task_was_retried(sc: Scenario) -> None:
    killed = sc.outage.killed_task
    assert killed is not None
    final = next(
        ti
        for ti in sc.api.list_task_instances(killed["dag_id"], killed["dag_run_id"])
        if ti["task_id"] == killed["task_id"] and ti["map_index"] == killed["map_index"]
    )
    assert final["state"] == "success", final
    assert final["try_number"] > killed["try_number"], (killed, final)


def check_every_member_deleted_once(sc: Scenario) -> None:
    persons = deletions(sc.persons)
    assert {userid: persons[userid] for userid in PERSONS} == dict.fromkeys(PERSONS, 1), persons
    assert set(persons) == set(PERSONS), f"members deleted that were not offboarded: {persons}"
    assert all(sc.persons.control.user(userid)["deleted"] for userid in PERSONS)
    assert sc.persons.control.user(SUCCESSOR)["deleted"] is False
    company = deletions(sc.company)
    twice = {userid: count for userid, count in company.items() if count > 1}
    assert not twice, f"company members deleted more than once: {twice}"
    members = [f"u{n:06d}" for n in range(1, 201)]
    assert [m for m in members if company[m] != 1] == []
    assert all(sc.company.control.user(m)["deleted"] for m in members[::20])


def check_no_wait_was_reset(sc: Scenario) -> None:
    outage = sc.outage
    assert outage.triggerer_killed_at is not None and outage.triggerer_back_at is not None
    waits = [
        ti
        for case in sc.cases
        for ti in sc.api.list_task_instances(case.dag_id, case.run_id)
        if ti["task_id"] in LEGAL_WAITS and ti["state"] == "success"
    ]
    assert {ti["dag_run_id"] for ti in waits if ti["task_id"] == PERSON_WAIT} == {
        case.run_id for case in sc.cases if case.dag_id == PERSON_DAG_ID
    }
    outage.requeued = requeued_tasks(sc)
    problems = [problem for ti in waits for problem in wait_checks(sc, ti)]
    assert not problems, "\n".join(problems)
    fired = [
        (instant(ti["scheduled_when"]) - wake_time(ti)).total_seconds()
        for ti in waits
        if instant(ti["scheduled_when"]) > instant(ti["start_date"])
    ]
    print(
        f"distributed scenario: {len(waits)} legal waits checked, {len(fired)} deferred; "
        f"latest trigger fired {max(fired, default=0):.1f}s after its wake time; "
        f"queued again after the worker kill: {sorted(outage.requeued) or 'none'}",
        flush=True,
    )
    # The waits deferred at the kill spanned the outage: each one's legal clock had run RESET_VISIBLE
    # seconds (a wait restarted from the kill would have fired that late) and each woke after the new
    # triggerer took over, so the tight FIRE_SLACK check above was not relaxed for the outage.
    spanning = {(ti["dag_run_id"], ti["task_id"]) for ti in outage.spanning_waits}
    assert len(spanning) == len(LONG_WAITERS)
    claimed = outage.triggerer_back_at.add(seconds=CLAIM_DELAY)
    for ti in waits:
        if (ti["dag_run_id"], ti["task_id"]) in spanning:
            anchor, wake = instant(ti["rendered_fields"]["anchor"]), wake_time(ti)
            assert (outage.triggerer_killed_at - anchor).total_seconds() >= RESET_VISIBLE - 1
            assert wake > claimed, f"{ti['dag_run_id']}: woke at {wake} before the new triggerer took over"
            assert instant(ti["scheduled_when"]) > outage.triggerer_back_at


def test_cases_finish_through_a_triggerer_and_a_worker_crash(services: None, tmp_path: Path) -> None:
    started = time.monotonic()
    override = tmp_path / "policy-override.yaml"
    override.write_text(RETRY_OVERRIDE, "utf-8")

    def reached(milestone: str) -> None:  # shown with -s, and in the log of a failed run
        print(f"distributed scenario: {milestone} after {time.monotonic() - started:.0f}s", flush=True)

    with ExitStack() as stack:
        persons = stack.enter_context(running_sandbox(seed="members:60", time_scale=TIME_SCALE))
        company = stack.enter_context(
            running_sandbox(seed="members:200", time_scale=TIME_SCALE, corpid=COMPANY_CORPID)
        )
        env = EXTRA_ENV | {
            "OFFBOARDING_POLICY_FILE": str(override),
            f"AIRFLOW_CONN_{PERSONS_CONN_ID.upper()}": json.dumps(
                wecom_connection(persons, leavers_department_id=LEAVERS_DEPARTMENT_ID)
            ),
            f"AIRFLOW_CONN_{COMPANY_CONN_ID.upper()}": json.dumps(
                wecom_connection(company, leavers_department_id=LEAVERS_DEPARTMENT_ID)
            ),
        }
        topology = stack.enter_context(
            running_topology(
                REPO / "dags",
                users=",".join(f"{name}:{role}" for name, role in USERS.items()),
                extra_env=env,
                workers=WORKERS,
                worker_concurrency=WORKER_CONCURRENCY,
                preload_modules=PRELOADED,
            )
        )
        reached("deployment ready")
        api = topology.api()
        stack.callback(api.close)
        responder = Responder(
            topology.api_url,
            topology.passwords,
            sandboxes={PERSONS_CONN_ID: persons.base_url, COMPANY_CONN_ID: company.base_url},
        )
        stop = threading.Event()
        answering = threading.Thread(target=responder.run, args=(stop,), kwargs={"poll_seconds": 1.0})
        answering.start()
        stack.callback(answering.join, 30)
        stack.callback(stop.set)

        cases = [*person_cases(today_in_shanghai()), company_case(time_scale=TIME_SCALE)]
        sc = Scenario(topology, persons, company, responder, cases, api)
        for case in cases:
            api.trigger_dag_run(case.dag_id, case.run_id, case.conf)
        kill_triggerer_during_waits(sc)
        reached(f"triggerer killed mid-wait and replaced ({len(sc.outage.spanning_waits)} waits deferred)")
        kill_a_worker_mid_task(sc)
        killed = sc.outage.killed_task or {}
        reached(f"worker killed in {killed.get('dag_run_id')} {killed.get('task_id')} and replaced")
        for case in cases:
            remaining = max(60.0, CASES_BUDGET - (time.monotonic() - started))
            api.wait_for_dag_run(case.dag_id, case.run_id, ("success", "failed"), remaining, poll_interval=3)
        reached("every case finished")

        check_every_case_succeeded(sc)
        check_every_member_deleted_once(sc)
        check_the_killed_task_was_retried(sc)
        check_no_wait_was_reset(sc)
        assert topology.leftover_processes(), "the deployment's processes are visible while it runs"
    reached("everything stopped")

    assert topology.leftover_processes() == []
    assert not database_exists(topology.postgres_url, topology.database)
    for url in (topology.broker_url, topology.token_cache_url):
        client = redis.Redis.from_url(url)
        try:
            assert client.dbsize() == 0, f"{url} was not flushed"
        finally:
            client.close()
