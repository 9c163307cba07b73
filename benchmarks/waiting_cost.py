"""Waiting cost: 10,000 concurrent legal waits held by one triggerer, against the same waits as poke sensors.

The waits are a quarter each of notice (45-day creditor notice), review (due in 2 working days),
cooling-off (15 days) and customer transfer (``transfer_result`` polled at the policy's interval until
WeCom's 24 h takeover). They run in one process under Airflow's ``TriggerRunner``
(``benchmarks.children.triggerer``) with the real trigger classes, the transfer waits against a sandbox
corp whose members' customers really are waiting for takeover. The poke-mode comparison is one real
task process holding a poke-mode sensor (``benchmarks.children.poke_sensor``) times the number of waits,
and one worker slot per wait for its whole duration (Airflow's cost model: a poke sensor occupies its
slot while it waits). WeCom calls per waiting case per day are counted in compressed time. A time wait's
triggerer memory is also measured against Airflow's own ``DateTimeTrigger`` holding the same waits, each
in a fresh triggerer process of its own (``waiting_cost.memory_per_time_wait``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum

from benchmarks.environment import REPO, bench_backup_root, child_env, start_sandbox, wecom_deployment
from benchmarks.processes import MB, ChildRun, python_module, run_child
from benchmarks.results import Goal, Row, join_notes
from benchmarks.sizes import Size
from benchmarks.task_context import MemoryTaskInstance, run_task

KINDS = ("notice", "review", "cooling_off", "transfer")
SUCCESSOR = "admin01"
TAKEOVER_PATHS = (
    "/cgi-bin/externalcontact/transfer_result",
    "/cgi-bin/externalcontact/resigned/transfer_result",
)
READS_PER_POLL = len(TAKEOVER_PATHS)
HOURLY_POLLS_PER_DAY = 24
REHEARSAL_SCALE = 3600.0
"""Case time scale of the call count: the policy's hourly poll every second, a day in 24 s."""
DAY_SECONDS = 86400.0
KB = 1000
TIME_WAIT_SOURCES = ("sensor", "datetime_trigger")
"""The product's time wait (the trigger LegalDeadlineSensor defers to), then Airflow's DateTimeTrigger."""


def run(size: Size, workdir: Path) -> list[Row]:
    per_kind = size.pick(10, 2500)
    counts = dict.fromkeys(KINDS, per_kind)
    total = sum(counts.values())
    with start_sandbox(f"members:{per_kind}") as sandbox, wecom_deployment(sandbox, workdir / "deployment"):
        pairs = start_transfers(per_kind)
        released, slot_notes = worker_slots(pairs[0], workdir)
        poke = poke_sensor(pairs[0], workdir, window=size.pick(2.0, 30.0))
        capacity = hold_waits(sandbox, counts, pairs, workdir, size)
        time_waits = {source: hold_time_waits(counts, source, workdir, size) for source in TIME_WAIT_SOURCES}
        time_calls = count_calls(sandbox, "notice", pairs, workdir, size)
        transfer_calls = count_calls(sandbox, "transfer", pairs, workdir, size)

    cap = capacity.result
    if cap["running"] != total or cap["events"] or cap["failures"]:
        problem = (
            f"{cap['running']} of {total} waits running, {cap['events']} fired, {cap['failures']} failed"
        )
        return [Row.failed("waiting_cost", f"the waits did not hold: {problem} (see the child's log)")]
    return [
        *memory_rows(cap, poke.result, counts),
        time_wait_row({source: run.result for source, run in time_waits.items()}),
        cpu_row(cap, poke.result, counts),
        Row.measured(
            "waiting_cost.worker_slots",
            total * (1 - released),
            "slots",
            baseline=total,
            goal=Goal.at_most(0),
            notes=slot_notes,
            why_missed="a wait operator kept running in its worker instead of deferring",
        ),
        time_calls,
        transfer_calls,
    ]


# -- setup ---------------------------------------------------------------------------------------------


def start_transfers(count: int) -> list[list[str]]:
    """Hand every seeded member's customers to the successor on-job: each pair then waits 24 h for takeover."""
    from offboarding.hooks.wecom import WeComHook

    customers = WeComHook("wecom_default").customer_contacts
    pairs = []
    for n in range(1, count + 1):
        member = f"u{n:06d}"
        customers.transfer_customers(member, SUCCESSOR, customers.list_customers(member), resigned=False)
        pairs.append([member, SUCCESSOR])
    return pairs


# -- worker slots: do the wait operators give their slot back? -----------------------------------------


def worker_slots(pair: list[str], workdir: Path) -> tuple[float, str]:
    """Run the product's wait operators once each; the share that released the slot (parked or deferred)."""
    from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferred

    from offboarding.policy import cooling_off_end, notice_end
    from offboarding.sensors.legal_deadline import LegalDeadlineSensor
    from offboarding.sensors.takeover import WaitForCustomerTakeoverSensor
    from offboarding_dev.testing.controls import case_services_in_memory

    now = pendulum.now("UTC")
    member, successor = pair
    params = {
        "userid": member,
        "display_name": member,
        "successor_userid": successor,
        "backup_target": bench_backup_root(workdir / "backups"),
        "wecom_conn_id": "wecom_default",
        "dry_run": False,
        "time_scale": 1,
    }
    operators = {
        "notice": LegalDeadlineSensor(
            task_id="wait_for_notice_period_end",
            deadline=notice_end(now.in_timezone("Asia/Shanghai").date(), "general").isoformat(),
            anchor=now.isoformat(),
            label="notice period end",
        ),
        "cooling_off": LegalDeadlineSensor(
            task_id="wait_for_cooling_off_end",
            deadline=cooling_off_end(now).isoformat(),
            anchor=now.isoformat(),
            label="end of the cooling-off",
        ),
        "transfer": WaitForCustomerTakeoverSensor(task_id="wait_for_customer_takeover"),
    }
    deferred: dict[str, str] = {}
    # No api-server here: the sensors read their case's controls (no hold) from memory.
    with case_services_in_memory():
        for kind, operator in operators.items():
            try:
                run_task(
                    operator,
                    params,
                    task_id=operator.task_id,
                    run_id=f"offboard-{member}",
                    ti=MemoryTaskInstance(),
                )
            except TaskDeferred as signal:
                deferred[kind] = f"deferred ({type(signal.trigger).__name__}, timeout={signal.timeout})"
            except AirflowRescheduleException as parked:
                deferred[kind] = (
                    f"parked until {parked.reschedule_date:%Y-%m-%d %H:%M} UTC (up_for_reschedule)"
                )
    # review: a human step in awaiting_input (Airflow 3.3) holds no worker slot and no triggerer slot
    held = [k for k in operators if k not in deferred]
    released = (len(KINDS) - len(held)) / len(KINDS)
    notes = (
        "measured: each wait operator run once; "
        + "; ".join(f"{k} {v}" for k, v in deferred.items())
        + (f"; {', '.join(held)} held its slot" if held else "")
        + ". review is a human step (awaiting_input in Airflow 3.3: no worker slot, no triggerer slot), "
        "not executed here. Baseline: a poke-mode sensor holds one worker slot per wait for the whole wait."
    )
    return released, notes


# -- the poke-mode baseline ----------------------------------------------------------------------------


def poke_sensor(pair: list[str], workdir: Path, *, window: float) -> ChildRun:
    folder = workdir / "poke"
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.json"
    spec.write_text(
        json.dumps({"dag_file": str(REPO / "dags" / "offboard_employee.py"), "pair": pair, "window": window})
    )
    return run_child(
        python_module("benchmarks.children.poke_sensor", str(spec)),
        env=child_env(workdir),
        workdir=folder,
        timeout=300 + window,
    )


# -- the triggerer ---------------------------------------------------------------------------------------


def hold_waits(
    sandbox: Any, counts: dict[str, int], pairs: list[list[str]], workdir: Path, size: Size
) -> ChildRun:
    from offboarding.policy import get_policy

    folder = workdir / "triggerer"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "mode": "capacity",
        "counts": counts,
        "pairs": pairs,
        "control_url": sandbox.base_url,
        "poll_interval_seconds": get_policy().handover.transfer_result_poll_interval.total_seconds(),
        "poll_offset": size.pick(10.0, 180.0),
        "idle_window": size.pick(2.0, 30.0),
        "poll_window": size.pick(3.0, 20.0),
        "timeout": size.pick(120.0, 600.0),
    }
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return run_child(
        python_module("benchmarks.children.triggerer", str(path)),
        env=child_env(workdir),
        workdir=folder,
        timeout=size.pick(300.0, 1500.0),
    )


def hold_time_waits(counts: dict[str, int], source: str, workdir: Path, size: Size) -> ChildRun:
    """One triggerer process holding only the time waits of ``counts``, as ``source`` makes them."""
    folder = workdir / f"time-waits-{source}"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"mode": "time_waits", "counts": counts, "source": source, "warmup": size.pick(20, 100)}
    path = folder / "spec.json"
    path.write_text(json.dumps(spec))
    return run_child(
        python_module("benchmarks.children.triggerer", str(path)),
        env=child_env(workdir),
        workdir=folder,
        timeout=size.pick(300.0, 900.0),
    )


def time_wait_row(results: dict[str, dict[str, Any]]) -> Row:
    """Triggerer memory of one time wait: the product's against Airflow's DateTimeTrigger, same run."""
    for source, result in results.items():
        if result["running"] < result["waits"] or result["events"] or result["failures"]:
            return Row.failed(
                "waiting_cost.memory_per_time_wait",
                f"the {source} time waits did not hold: {result['running']} running, {result['events']} "
                f"fired, {result['failures']} failed (see the child's log)",
            )
    per_wait = {s: (r["rss_after"] - r["rss_before"]) / r["waits"] / KB for s, r in results.items()}
    ours, airflow = results["sensor"], results["datetime_trigger"]
    return Row.measured(
        "waiting_cost.memory_per_time_wait",
        per_wait["sensor"],
        "KB",
        baseline=per_wait["datetime_trigger"],
        goal=Goal.ratio_at_most(1.5),
        notes=f"RSS growth per time wait (notice/review/cooling-off, {ours['waits']:,} waits) of a fresh "
        f"triggerer process holding only them under Airflow's TriggerRunner, after a warm-up of the same "
        f"waits: the product's (LegalDeadlineSensor defers to {ours['classpath']}). Baseline: the same "
        f"waits as Airflow's own {airflow['classpath']} (DateTimeSensorAsync's trigger) on the deadline, "
        f"in a process of its own in the same run ({per_wait['datetime_trigger']:.2f} KB per wait).",
        why_missed="a time wait costs the triggerer more than Airflow's DateTimeTrigger",
    )


def memory_rows(cap: dict[str, Any], poke: dict[str, Any], counts: dict[str, int]) -> list[Row]:
    total = sum(counts.values())
    time_waits = total - counts["transfer"]
    grown = cap["rss_after_all"] - cap["rss_before"]
    per_time = (cap["rss_after_time_waits"] - cap["rss_before"]) / time_waits / KB
    per_transfer = (cap["rss_after_all"] - cap["rss_after_time_waits"]) / counts["transfer"] / KB
    sockets = cap["open_files_after"] - cap["open_files_before"]
    poke_kb = poke["uss"] / KB
    how = (
        f"RSS growth of one triggerer process holding {total:,} waits (Airflow's own TriggerRunner: "
        f"create_triggers, run_trigger, its 1 s cleanup loop and watchdog; only the supervisor socket is "
        f"replaced by handing the RunTrigger workloads over directly; real trigger classes): "
        f"{per_time:.1f} KB per time wait (notice/review/cooling-off), {per_transfer:.1f} KB "
        f"per transfer wait; the transfer waits also hold {sockets:,} open file descriptors (one HTTP "
        f"keep-alive connection each). Baseline: the private memory (USS) of one poke-mode task process "
        f"(Task SDK + parsed DAG; RSS {poke['rss'] / MB:.0f} MB) per wait, its supervisor process not counted. "
        f"Time waits are held as the trigger LegalDeadlineSensor defers to (DateTimeTrigger); review waits to the review due time; in the DAG the review is a "
        f"human step (awaiting_input), which costs the triggerer nothing, so this is an upper bound. Airflow's "
        f"default [triggerer] capacity is 1,000 triggers: one triggerer holds {total:,} only with it raised."
    )
    return [
        Row.measured("waiting_cost.memory_per_wait", grown / total / KB, "KB", baseline=poke_kb, notes=how),
        Row.measured(
            "waiting_cost.memory_all_waits",
            grown / MB,
            "MB",
            baseline=poke["uss"] * total / MB,
            notes=f"the same for all {total:,} waits together.",
        ),
    ]


def cpu_row(cap: dict[str, Any], poke: dict[str, Any], counts: dict[str, int]) -> Row:
    from offboarding.policy import get_policy

    total = sum(counts.values())
    interval = get_policy().handover.transfer_result_poll_interval.total_seconds()
    idle_rate = cap["cpu_idle"] / cap["idle_window"] if cap["cpu_idle"] is not None else None
    if idle_rate is None or cap["cpu_poll_window"] is None or not cap["second_poll_round_complete"]:
        return Row.failed(
            "waiting_cost.cpu_per_hour",
            "the windows did not fit: the transfer waits' hourly poll came before the idle window ended "
            f"(start took {cap['start_seconds_transfer_waits']:.0f} s); raise poll_offset",
        )
    poll_round = max(cap["cpu_poll_window"] - idle_rate * cap["poll_window"], 0.0)
    per_hour = idle_rate * 3600 + poll_round * 3600 / interval
    pokes_per_hour = 3600 / poke["poke_interval"]
    poke_idle = (
        max(poke["cpu_window"] - poke["pokes_in_window"] * poke["cpu_per_time_poke"], 0.0) / poke["window"]
    )
    per_time_sensor = poke_idle * 3600 + pokes_per_hour * poke["cpu_per_time_poke"]
    per_transfer_sensor = poke_idle * 3600 + pokes_per_hour * poke["cpu_per_transfer_poke"]
    baseline = (total - counts["transfer"]) * per_time_sensor + counts["transfer"] * per_transfer_sensor
    return Row.measured(
        "waiting_cost.cpu_per_hour",
        per_hour,
        "CPU s/h",
        baseline=baseline,
        notes=join_notes(
            f"triggerer CPU per hour for {total:,} waits = idle rate ({idle_rate * 1000:.1f} ms/s over a "
            f"{cap['idle_window']:.0f} s window: the runner's 1 s loop and watchdog, sleeping triggers) × 3600 "
            f"+ one hourly poll round of the {counts['transfer']:,} transfer waits ({poll_round:.2f} s CPU, "
            f"measured in a {cap['poll_window']:.0f} s window around it).",
            f"Baseline: {total:,} poke-mode sensors poking every {poke['poke_interval']:.0f} s "
            f"({poke['cpu_per_time_poke'] * 1e6:.0f} µs CPU per time poke, "
            f"{poke['cpu_per_transfer_poke'] * 1000:.1f} ms per transfer_result poke, measured), without the "
            "supervisor heartbeats to the API server that every running task also sends (so the baseline is a "
            "lower bound).",
        ),
    )


# -- WeCom calls per waiting case per day, in compressed time -------------------------------------------


def count_calls(sandbox: Any, kind: str, pairs: list[list[str]], workdir: Path, size: Size) -> Row:
    from offboarding.policy import get_policy
    from offboarding.steps.takeover import poll_interval_seconds

    policy_interval = get_policy().handover.transfer_result_poll_interval
    interval = poll_interval_seconds(policy_interval, REHEARSAL_SCALE)
    polls = size.pick(4, HOURLY_POLLS_PER_DAY)
    waits = min(len(pairs), size.pick(5, 20))
    window = polls * interval - interval / 2  # polls at 0, 1, ..., polls-1 intervals: exactly `polls`
    scaled_day = DAY_SECONDS / REHEARSAL_SCALE
    folder = workdir / f"calls-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "mode": "calls",
                "kind": kind,
                "count": waits,
                "pairs": pairs,
                "poll_interval_seconds": interval,
                "window": window,
            }
        )
    )
    sandbox.control.reset_stats()
    run_child(
        python_module("benchmarks.children.triggerer", str(spec)),
        env=child_env(workdir),
        workdir=folder,
        timeout=300 + window,
    )
    calls = sandbox.control.stats(include_writes=False)["calls"]
    per_day_factor = scaled_day / (polls * interval)
    if kind != "transfer":
        made = sum(int(n) for n in calls.values())
        return Row.measured(
            "waiting_cost.wecom_calls_time_wait",
            made / waits * per_day_factor,
            "calls/case/day",
            goal=Goal.at_most(0),
            notes=f"{waits} notice waits held for {polls} scaled hours (time scale {REHEARSAL_SCALE:g}); every "
            "sandbox call counted. The same holds for review and cooling-off (same trigger class).",
            why_missed=f"pure time waits called WeCom: {calls}",
        )
    made = sum(int(calls.get(p, 0)) for p in TAKEOVER_PATHS)
    sensor_polls = DAY_SECONDS / 60  # BaseSensorOperator's default poke_interval
    return Row.measured(
        "waiting_cost.wecom_calls_transfer_wait",
        made / waits * per_day_factor,
        "calls/case/day",
        baseline=sensor_polls * READS_PER_POLL,
        goal=Goal.at_most(HOURLY_POLLS_PER_DAY * READS_PER_POLL, "calls/case/day"),
        notes=f"{waits} transfer waits held for {polls} scaled hours (policy: every "
        f"{policy_interval.total_seconds() / 60:.0f} min, time scale {REHEARSAL_SCALE:g}, customers still "
        f"waiting for WeCom's 24 h takeover); calls to transfer_result (on-job + resigned: {READS_PER_POLL} "
        "reads a poll) per case, extrapolated to a day. Goal: hourly polling. Baseline: a poke-mode sensor "
        "at the default 60 s poke_interval.",
        why_missed="the transfer wait polls more often than hourly",
    )
