"""The customer-takeover wait: the trigger (serialize, run, re-created) and the operator that defers to it.

Runs against a dedicated sandbox whose WeCom-side time is compressed (24 h takeover = 3 s of wall time),
so a transfer really waits (status 2) and then settles (1 taken over, 3 refused) while the test watches.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import json
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from offboarding.backup.roots import resolve_backup_root
from offboarding.backup.storage import BackupStore
from offboarding.evidence.keys import key_from_environment
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.hooks.wecom import WeComHook
from offboarding.operators.handover import HandOverCustomersOperator
from offboarding.policy import get_policy
from offboarding.sensors.takeover import TAKEOVER_RESULTS_PATH, WaitForCustomerTakeoverSensor
from offboarding.steps.takeover import MIN_POLL_SECONDS, poll_interval_seconds, read_takeover_status
from offboarding.triggers.takeover import CLASSPATH, CustomerTakeoverTrigger
from offboarding_dev.sandbox.testing import RunningSandbox, running_sandbox

SANDBOX_TIME_SCALE = 28800.0  # WeCom's 24 h automatic takeover lasts 3 s
CASE_TIME_SCALE = 86400  # the case's rehearsal compression (1 h polling → below the floor)
ANCHOR = pendulum.datetime(2026, 11, 21, 9, 0, tz="Asia/Shanghai")
EVENT_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def fast_sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox(seed="default", time_scale=SANDBOX_TIME_SCALE) as sandbox:
        yield sandbox


def use_connection(monkeypatch: pytest.MonkeyPatch, sandbox: Any, host: str | None = None) -> None:
    conn = {
        "conn_type": "wecom",
        "host": host or sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {"contact_secret": sandbox.secret, "customer_secret": sandbox.secret},
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))


@pytest.fixture
def fast_wecom(fast_sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> RunningSandbox:
    fast_sandbox.control.reset(seed="default")
    use_connection(monkeypatch, fast_sandbox)
    return fast_sandbox


@pytest.fixture(autouse=True)
def backup_roots(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment's storage root ``test`` (``tmp_path/backups``) that the cases name."""
    monkeypatch.setenv("OFFBOARDING_BACKUP_ROOTS", f"test={tmp_path / 'backups'}")


def person_case(tmp_path: Any, **overrides: Any) -> dict[str, Any]:
    params = {
        "userid": "lisi",
        "display_name": "李四",
        "successor_userid": "wangwu",
        "last_working_day": "2026-11-20",  # over: the handover checks it itself
        "hr_owner": "hr",
        "approvers": ["approver"],
        "backup_target": "test",
        "wecom_conn_id": "wecom_default",
        "dry_run": False,
        "time_scale": CASE_TIME_SCALE,
    }
    params.update(overrides)
    return params


class TaskInstance:
    """The XCom part of a task instance (the operators under test read no XCom)."""

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value") -> Any:
        return None


def context_for(params: dict[str, Any]) -> dict[str, Any]:
    ti = TaskInstance()
    run = SimpleNamespace(run_id=f"offboard-{params['userid']}", triggering_user_name="ops", conf=params)
    return {"params": params, "dag_run": run, "ti": ti, "task_instance": ti, "run_id": run.run_id}


def hand_over_lisi(params: dict[str, Any]) -> None:
    HandOverCustomersOperator(task_id="hand_over_customers").execute(context_for(params))


def trigger_for(
    member: str = "lisi", successor: str = "wangwu", interval: float = 0.2
) -> CustomerTakeoverTrigger:
    return CustomerTakeoverTrigger(
        wecom_conn_id="wecom_default",
        handover_userid=member,
        takeover_userid=successor,
        poll_interval_seconds=interval,
        anchor=pendulum.now("UTC"),
    )


def import_string(classpath: str) -> Any:
    """The class a serialized trigger names, imported as the triggerer does."""
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


async def first_event(trigger: CustomerTakeoverTrigger) -> dict[str, Any]:
    events = trigger.run()
    try:
        event = await asyncio.wait_for(events.__anext__(), EVENT_TIMEOUT)
    finally:
        await events.aclose()
    return event.payload


# -- the trigger on its own -----------------------------------------------------------------------------


def test_serialize_is_exact_and_holds_only_ids_numbers_and_an_instant() -> None:
    trigger = CustomerTakeoverTrigger(
        wecom_conn_id="wecom_default",
        handover_userid="lisi",
        takeover_userid="wangwu",
        poll_interval_seconds=3600,
        anchor="2026-11-21T09:00:00+08:00",
    )
    assert trigger.serialize() == (
        "offboarding.triggers.takeover.CustomerTakeoverTrigger",
        {
            "wecom_conn_id": "wecom_default",
            "handover_userid": "lisi",
            "takeover_userid": "wangwu",
            "poll_interval_seconds": 3600.0,
            "anchor": ANCHOR,
        },
    )
    assert import_string(CLASSPATH) is CustomerTakeoverTrigger


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"handover_userid": ""}, "handover_userid must be a non-empty string"),
        ({"takeover_userid": None}, "takeover_userid must be a non-empty string"),
        ({"poll_interval_seconds": 0}, "poll_interval_seconds must be a positive number"),
        ({"poll_interval_seconds": float("nan")}, "poll_interval_seconds must be a positive number"),
        ({"anchor": "2026-11-21T09:00:00"}, "anchor"),
    ],
)
def test_bad_arguments_are_refused(changes: dict[str, Any], message: str) -> None:
    kwargs: dict[str, Any] = {
        "wecom_conn_id": "wecom_default",
        "handover_userid": "lisi",
        "takeover_userid": "wangwu",
        "poll_interval_seconds": 60,
        "anchor": ANCHOR,
    }
    with pytest.raises(ValueError, match=message):
        CustomerTakeoverTrigger(**{**kwargs, **changes})


def test_polls_stay_on_the_grid_of_the_anchor() -> None:
    trigger = CustomerTakeoverTrigger("wecom_default", "lisi", "wangwu", 3600, ANCHOR)
    assert trigger.seconds_to_next_poll(ANCHOR) == 3600
    assert trigger.seconds_to_next_poll(ANCHOR + dt.timedelta(minutes=50)) == 600
    # A triggerer restarted 5 h 59 min later polls at 6 h, not 6 h 59 min.
    assert trigger.seconds_to_next_poll(ANCHOR + dt.timedelta(hours=5, minutes=59)) == 60
    assert trigger.seconds_to_next_poll(ANCHOR - dt.timedelta(minutes=1)) == 60


def test_the_policy_interval_is_compressed_by_the_time_scale_down_to_a_floor() -> None:
    interval = get_policy().handover.transfer_result_poll_interval
    assert poll_interval_seconds(interval, 1) == interval.total_seconds()
    assert poll_interval_seconds(interval, 60) == interval.total_seconds() / 60
    assert poll_interval_seconds(interval, CASE_TIME_SCALE) == MIN_POLL_SECONDS


async def test_run_yields_once_every_customer_is_final(fast_wecom: RunningSandbox, tmp_path: Any) -> None:
    hand_over_lisi(person_case(tmp_path))
    waiting = read_takeover_status(WeComHook("wecom_default").customer_contacts, "lisi", "wangwu")
    # All 12 wait: compressed, the 90-day window no longer holds wm_lisi_011's earlier transfers (no 40128).
    assert len(waiting.waiting) == 12

    event = await first_event(trigger_for())

    assert event["status"] == "final"
    assert event["counts"] == {
        "customers": 12,
        "taken_over": 11,
        "waiting": 0,
        "refused": 1,
        "limit_reached": 0,
    }
    assert fast_wecom.control.state()["transfers"] == {
        "waiting": 0,
        "done": 11,
        "refused": 1,
        "limit_reached": 0,
    }
    assert not fast_wecom.control.stats()["write_calls"].keys() - {
        "/cgi-bin/externalcontact/transfer_customer"
    }


async def test_a_trigger_recreated_from_serialize_behaves_the_same(
    fast_wecom: RunningSandbox, tmp_path: Any
) -> None:
    hand_over_lisi(person_case(tmp_path))
    original = trigger_for(interval=0.3)
    events = original.run()
    with pytest.raises(TimeoutError):  # still waiting: the triggerer "restarts" here
        await asyncio.wait_for(events.__anext__(), 0.5)
    await events.aclose()

    classpath, kwargs = original.serialize()
    recreated = import_string(classpath)(**kwargs)

    assert recreated.serialize() == original.serialize()
    event = await first_event(recreated)
    assert event["status"] == "final"
    assert event["counts"]["taken_over"] == 11
    assert event["counts"]["refused"] == 1


async def test_a_read_wecom_refuses_ends_the_wait_with_an_error(fast_wecom: RunningSandbox) -> None:
    event = await first_event(trigger_for(successor="nobody"))
    assert event["status"] == "error"
    assert event["errcode"] == 60111


async def test_a_missing_connection_ends_the_wait_with_an_error(
    fast_wecom: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_WECOM_DEFAULT")
    event = await first_event(trigger_for())
    assert event["status"] == "error"
    assert "wecom_default" in event["message"]


# -- the operator that waits ----------------------------------------------------------------------------


def test_the_wait_defers_then_records_refusals_for_follow_up(
    fast_wecom: RunningSandbox, tmp_path: Any
) -> None:
    params = person_case(tmp_path)
    hand_over_lisi(params)
    operator = WaitForCustomerTakeoverSensor(task_id="wait_for_customer_takeover")

    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context_for(params))

    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout is None
    classpath, kwargs = deferred.value.trigger.serialize()
    assert classpath == CLASSPATH
    assert kwargs["poll_interval_seconds"] == MIN_POLL_SECONDS
    assert (kwargs["handover_userid"], kwargs["takeover_userid"]) == ("lisi", "wangwu")
    assert fast_wecom.secret not in json.dumps({k: str(v) for k, v in kwargs.items()})

    started = time.monotonic()
    event = asyncio.run(first_event(deferred.value.trigger))
    assert time.monotonic() - started < EVENT_TIMEOUT
    result = WaitForCustomerTakeoverSensor(task_id="wait_for_customer_takeover").execute_complete(
        context_for(params), event
    )

    assert result == {
        "member": "lisi",
        "successor": "wangwu",
        "customers": 12,
        "taken_over": 11,
        "waiting": 0,
        "refused": 1,
        "limit_reached": 0,
        "file": TAKEOVER_RESULTS_PATH,
    }
    store = BackupStore(resolve_backup_root(params["backup_target"]).url)
    stored = json.loads(store.read_bytes("offboard-lisi", TAKEOVER_RESULTS_PATH))
    refused = [c for c in stored["customers"] if c["status"] == 3]
    assert refused == [
        {
            "external_userid": "wm_lisi_012",
            "kind": "onjob",
            "status": 3,
            "status_name": "refused",
            "takeover_time": 0,
        }
    ]
    ledger = {
        e.action: e for e in EvidenceLedger(store, "offboard-lisi", key=key_from_environment()).entries()
    }
    assert ledger["customers.takeover_follow_up"].result["refused"] == ["wm_lisi_012"]
    assert (
        "contacts the customer again"
        in ledger["customers.takeover_follow_up"].result["what_to_do"]["refused"]
    )
    assert ledger["customers.takeover_settled"].result["taken_over"] == 11


def test_the_wait_ends_at_once_when_nothing_is_waiting(fast_wecom: RunningSandbox, tmp_path: Any) -> None:
    params = person_case(tmp_path, userid="zhengshi", display_name="郑十")
    result = WaitForCustomerTakeoverSensor(task_id="wait_for_customer_takeover").execute(context_for(params))
    assert result["customers"] == 0
    assert result["waiting"] == 0


def test_an_error_event_fails_the_task_with_its_message(fast_wecom: RunningSandbox, tmp_path: Any) -> None:
    event = {"status": "error", "message": "WeComDataError: userid not found (60111)", "errcode": 60111}
    with pytest.raises(AirflowFailException, match="userid not found"):
        WaitForCustomerTakeoverSensor(task_id="wait_for_customer_takeover").execute_complete(
            context_for(person_case(tmp_path)), event
        )


def test_compressed_time_is_refused_unless_wecom_is_a_loopback_sandbox(
    fast_sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    use_connection(monkeypatch, fast_sandbox, host="https://qyapi.weixin.qq.com")
    with pytest.raises(AirflowFailException, match="time_scale=86400 compresses legal waits"):
        WaitForCustomerTakeoverSensor(task_id="wait_for_customer_takeover").execute(
            context_for(person_case(tmp_path))
        )


def test_no_execution_timeout_can_cut_the_wait() -> None:
    operator = WaitForCustomerTakeoverSensor(
        task_id="wait_for_customer_takeover", execution_timeout=dt.timedelta(hours=1)
    )
    assert operator.execution_timeout is None


class OnJobResultsGone:
    """Stands in for CustomerContacts in the one case the sandbox cannot produce: WeCom refusing the on-job
    transfer_result once the member is deleted (UNCONFIRMED behaviour of the real WeCom)."""

    def iter_transfer_results(
        self, handover: str, takeover: str, *, resigned: bool
    ) -> Iterator[dict[str, Any]]:
        from offboarding.wecom.errors import WeComDataError

        if not resigned:
            raise WeComDataError(60111, "userid not found", "/cgi-bin/externalcontact/transfer_result")
        yield {"external_userid": "wm_lisi_011", "status": 2, "takeover_time": 1795547995}


def test_on_job_results_refused_after_deletion_are_left_out_with_a_note() -> None:
    status = read_takeover_status(OnJobResultsGone(), "lisi", "wangwu")  # type: ignore[arg-type]
    assert status.waiting == ["wm_lisi_011"]
    assert status.customers["wm_lisi_011"].kind == "resigned"
    assert len(status.notes) == 1
    assert "on-job transfer results unreadable" in status.notes[0]
    assert "60111" in status.notes[0]
