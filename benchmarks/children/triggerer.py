"""Hold legal waits the way Airflow's triggerer does, and report what they cost.

``python -m benchmarks.children.triggerer SPEC.json``. Uses Airflow's own ``TriggerRunner``
(``airflow.jobs.triggerer_job_runner``): workloads are ``RunTrigger`` with Fernet-encrypted kwargs and a
task-instance DTO, ``create_triggers()`` inflates them and starts ``run_trigger()`` as asyncio tasks
(greenback portal, log context, the trigger's ``run()``), and the runner's 1-second loop
(``cleanup_finished_triggers`` + ``process_trigger_events``) and its ``block_watchdog`` run as in
``TriggerRunner.arun``. Only the socket to the supervisor process is left out: workloads are handed
over directly instead of arriving from the database.

Spec ``mode``:

* ``capacity`` — ``counts`` of notice / review / cooling-off / transfer waits; RSS after the time waits and
  after the transfer waits, then CPU over an idle window and over a window holding the transfer waits'
  next (hourly) poll, which the spec places ``poll_offset`` seconds after they start;
* ``calls`` — ``count`` waits of one ``kind`` for ``window`` seconds (the parent counts WeCom calls);
* ``time_waits`` — only the time waits of ``counts`` (notice / review / cooling-off), held as ``source``
  says: ``sensor`` (the trigger the product's ``LegalDeadlineSensor`` defers to) or ``datetime_trigger``
  (Airflow's own ``DateTimeTrigger`` on the deadline, the baseline); RSS before and after, after a warm-up.

Time waits are held as the trigger the product's sensor defers with: the sensor is run once per kind
(``execute`` raises ``TaskDeferred`` carrying the trigger) and each wait is a workload of that trigger.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import sys
import time
import uuid
from typing import Any

import pendulum

from benchmarks.processes import open_files, rss_bytes, write_result

LABELS = {"notice": "notice period end", "review": "review due", "cooling_off": "end of the cooling-off"}
TAKEOVER_PATHS = (
    "/cgi-bin/externalcontact/transfer_result",
    "/cgi-bin/externalcontact/resigned/transfer_result",
)


def legal_deadline(kind: str, now: pendulum.DateTime) -> pendulum.DateTime:
    """The deadline a wait of ``kind`` started ``now`` waits for, from the duration policy."""
    from offboarding.policy import cooling_off_end, notice_end, review_due

    if kind == "notice":
        return notice_end(now.in_timezone("Asia/Shanghai").date(), "general")
    if kind == "review":
        return review_due(now)
    if kind == "cooling_off":
        return cooling_off_end(now)
    raise ValueError(f"unknown legal wait kind {kind!r}")


class Workloads:
    """``RunTrigger`` workloads as the triggerer receives them (encrypted kwargs, task-instance DTO)."""

    def __init__(self) -> None:
        self.next_id = 1
        self.dag_version = uuid.uuid4()

    def make(self, trigger: Any, task_id: str) -> Any:
        from airflow.executors.workloads.task import TaskInstanceDTO
        from airflow.executors.workloads.trigger import RunTrigger
        from airflow.models.trigger import Trigger

        classpath, kwargs = trigger.serialize()
        n = self.next_id
        self.next_id += 1
        ti = TaskInstanceDTO(
            id=uuid.uuid4(),
            task_id=task_id,
            dag_id="offboard_employee",
            run_id=f"offboard-bench{n:06d}",
            try_number=1,
            dag_version_id=self.dag_version,
            pool_slots=1,
            priority_weight=1,
        )
        return RunTrigger(id=n, classpath=classpath, encrypted_kwargs=Trigger.encrypt_kwargs(kwargs), ti=ti)

    def legal(self, kind: str, count: int, source: str = "sensor") -> list[Any]:
        deadline = legal_deadline(kind, pendulum.now("UTC"))
        trigger = sensor_trigger(kind, deadline) if source == "sensor" else datetime_trigger(deadline)
        return [self.make(trigger, f"wait_for_{kind}") for _ in range(count)]

    def transfers(self, pairs: list[list[str]], interval: float, anchor: pendulum.DateTime) -> list[Any]:
        from offboarding.triggers.takeover import CustomerTakeoverTrigger

        return [
            self.make(
                CustomerTakeoverTrigger("wecom_default", member, successor, interval, anchor),
                "deletion.wait_for_customer_takeover",
            )
            for member, successor in pairs
        ]


def sensor_trigger(kind: str, deadline: pendulum.DateTime) -> Any:
    """The trigger ``LegalDeadlineSensor`` defers to for a wait of ``kind`` until ``deadline``: the one it
    hands the triggerer for the wait's last hours (before them, the wait is parked and the triggerer holds
    nothing; here the lead is stretched so the sensor defers at once)."""
    from airflow.sdk.exceptions import TaskDeferred

    from benchmarks.environment import environment
    from offboarding.sensors.legal_deadline import LegalDeadlineSensor
    from offboarding.settings import TIME_WAIT_TRIGGERER_HOURS_ENV

    sensor = LegalDeadlineSensor(
        task_id=f"wait_for_{kind}", deadline=deadline.isoformat(), label=LABELS[kind]
    )
    try:
        with environment({TIME_WAIT_TRIGGERER_HOURS_ENV: str(24 * 365)}):
            sensor.execute({})  # type: ignore[arg-type]
    except TaskDeferred as deferred:
        return deferred.trigger
    raise RuntimeError(f"LegalDeadlineSensor did not defer for the {kind} wait until {deadline}")


def datetime_trigger(deadline: pendulum.DateTime) -> Any:
    """Airflow's own time wait (``DateTimeSensorAsync``'s trigger) until ``deadline``: the baseline."""
    from airflow.providers.standard.triggers.temporal import DateTimeTrigger

    return DateTimeTrigger(moment=deadline)


class Host:
    """A ``TriggerRunner`` and its loop, minus the supervisor socket."""

    def __init__(self) -> None:
        from airflow.jobs.triggerer_job_runner import TriggerRunner

        self.runner = TriggerRunner()
        self.events = 0
        self.failures = 0
        self._tasks: list[asyncio.Task[Any]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop()), asyncio.create_task(self.runner.block_watchdog())]

    async def add(self, workloads: list[Any]) -> None:
        self.runner.to_create.extend(workloads)
        await self.runner.create_triggers()

    async def _loop(self) -> None:
        runner = self.runner
        while not runner.stop:
            finished = await runner.cleanup_finished_triggers()
            changes = runner.process_trigger_events(finished)
            self.events += len(changes.events or [])
            self.failures += len(changes.failures or [])
            # No create_triggers() here: add() creates them, and two coroutines draining the same
            # queue race (TriggerRunner checks the queue, yields, then pops).
            await asyncio.sleep(1)

    async def stop(self) -> None:
        self.runner.stop = True
        tasks = [d["task"] for d in self.runner.triggers.values()] + self._tasks
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def takeover_reads(control_url: str) -> int:
    """Reads of ``transfer_result`` (on-job + resigned) the sandbox has answered so far."""
    from offboarding_dev.sandbox.control import SandboxControl

    calls = (await asyncio.to_thread(SandboxControl(control_url).stats, False))["calls"]
    return sum(int(calls.get(path, 0)) for path in TAKEOVER_PATHS)


async def wait_for_reads(control_url: str, target: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await takeover_reads(control_url) >= target:
            return True
        await asyncio.sleep(0.5)
    return False


def settled_rss() -> int:
    gc.collect()
    return rss_bytes()


async def capacity(spec: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, int] = spec["counts"]
    pairs: list[list[str]] = spec["pairs"][: counts["transfer"]]
    host = Host()
    host.start()
    workloads = Workloads()
    rss_before, files_before = settled_rss(), open_files()

    started = time.monotonic()
    for kind in ("notice", "review", "cooling_off"):
        await host.add(workloads.legal(kind, counts[kind]))
    await asyncio.sleep(1)  # every run() reaches its first sleep
    legal_seconds = time.monotonic() - started
    rss_legal = settled_rss()

    reads_before = await takeover_reads(spec["control_url"])
    interval = float(spec["poll_interval_seconds"])
    anchor = pendulum.now("UTC") - dt.timedelta(seconds=interval - float(spec["poll_offset"]))
    next_poll = time.monotonic() + float(spec["poll_offset"])
    started = time.monotonic()
    await host.add(workloads.transfers(pairs, interval, anchor))
    first_round = await wait_for_reads(spec["control_url"], reads_before + 2 * len(pairs), spec["timeout"])
    transfer_seconds = time.monotonic() - started
    await asyncio.sleep(1)
    rss_all, files_all = settled_rss(), open_files()

    idle_window = min(float(spec["idle_window"]), next_poll - time.monotonic() - 3)
    cpu_idle = None
    if idle_window >= 1:
        cpu = time.process_time()
        await asyncio.sleep(idle_window)
        cpu_idle = time.process_time() - cpu

    poll_window = None
    cpu_poll = None
    second_round = False
    if time.monotonic() < next_poll - 1:
        await asyncio.sleep(next_poll - 2 - time.monotonic())
        window_start = time.monotonic()
        cpu = time.process_time()
        await asyncio.sleep(2 + max(float(spec["poll_window"]), 1.5 * transfer_seconds))
        cpu_poll = time.process_time() - cpu
        poll_window = time.monotonic() - window_start
        second_round = await takeover_reads(spec["control_url"]) >= reads_before + 4 * len(pairs)

    result = {
        "counts": counts,
        "running": len(host.runner.triggers),
        "rss_before": rss_before,
        "rss_after_time_waits": rss_legal,
        "rss_after_all": rss_all,
        "open_files_before": files_before,
        "open_files_after": files_all,
        "start_seconds_time_waits": legal_seconds,
        "start_seconds_transfer_waits": transfer_seconds,
        "first_poll_round_complete": first_round,
        "idle_window": idle_window if cpu_idle is not None else None,
        "cpu_idle": cpu_idle,
        "poll_window": poll_window,
        "cpu_poll_window": cpu_poll,
        "second_poll_round_complete": second_round,
        "events": host.events,
        "failures": host.failures,
    }
    await host.stop()
    return result


async def time_waits(spec: dict[str, Any]) -> dict[str, Any]:
    """RSS growth of holding only the time waits, from ``source``, after a warm-up of the same kind."""
    counts: dict[str, int] = {k: int(spec["counts"][k]) for k in LABELS}
    source = str(spec["source"])
    host = Host()
    host.start()
    workloads = Workloads()
    for kind in LABELS:  # imports, the runner's structures, the log context: paid before measuring
        await host.add(workloads.legal(kind, int(spec.get("warmup", 20)), source))
    await asyncio.sleep(1)
    rss_before = settled_rss()
    started = time.monotonic()
    for kind in LABELS:
        await host.add(workloads.legal(kind, counts[kind], source))
    await asyncio.sleep(1)  # every run() reaches its first sleep
    rss_after = settled_rss()
    result = {
        "source": source,
        "waits": sum(counts.values()),
        "classpath": classpath_of(source),
        "rss_before": rss_before,
        "rss_after": rss_after,
        "start_seconds": time.monotonic() - started,
        "running": len(host.runner.triggers),
        "events": host.events,
        "failures": host.failures,
    }
    await host.stop()
    return result


def classpath_of(source: str) -> str:
    """The class path of the trigger a time wait from ``source`` is held as."""
    deadline = legal_deadline("notice", pendulum.now("UTC"))
    trigger = sensor_trigger("notice", deadline) if source == "sensor" else datetime_trigger(deadline)
    return trigger.serialize()[0]


async def calls(spec: dict[str, Any]) -> dict[str, Any]:
    host = Host()
    host.start()
    workloads = Workloads()
    count = int(spec["count"])
    if spec["kind"] == "transfer":
        batch = workloads.transfers(
            spec["pairs"][:count], float(spec["poll_interval_seconds"]), pendulum.now("UTC")
        )
    else:
        batch = workloads.legal(spec["kind"], count)
    started = time.monotonic()
    await host.add(batch)
    await asyncio.sleep(max(float(spec["window"]) - (time.monotonic() - started), 0))
    result = {"running": len(host.runner.triggers), "events": host.events, "failures": host.failures}
    await host.stop()
    return result


def main(spec_path: str) -> None:
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    mode = spec["mode"]
    runs = {"capacity": capacity, "calls": calls, "time_waits": time_waits}
    if mode not in runs:
        raise SystemExit(f"unknown mode {mode!r}")
    write_result(asyncio.run(runs[mode](spec)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m benchmarks.children.triggerer SPEC.json")
    main(sys.argv[1])
