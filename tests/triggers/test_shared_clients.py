"""Customer-takeover waits share one WeCom hook (one HTTP session) per corp and secret per triggerer process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pendulum
import pytest

from offboarding.triggers import shared_clients
from offboarding.triggers.takeover import CustomerTakeoverTrigger

WAITS = 20


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    shared_clients.forget_all()
    yield
    shared_clients.forget_all()


def use_connection(monkeypatch: pytest.MonkeyPatch, sandbox: Any, customer_secret: str) -> None:
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {"contact_secret": sandbox.secret, "customer_secret": customer_secret},
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))


def wait_for(member: str = "lisi") -> CustomerTakeoverTrigger:
    """A wait for lisi's customers (none handed over in the seed: every read answers "nothing waiting")."""
    return CustomerTakeoverTrigger(
        wecom_conn_id="wecom_default",
        handover_userid=member,
        takeover_userid="wangwu",
        poll_interval_seconds=0.5,
        anchor=pendulum.now("UTC"),
    )


async def first_events(triggers: list[CustomerTakeoverTrigger]) -> list[dict[str, Any]]:
    async def first(trigger: CustomerTakeoverTrigger) -> dict[str, Any]:
        events = trigger.run()
        try:
            return (await asyncio.wait_for(events.__anext__(), 60)).payload
        finally:
            await events.aclose()

    return await asyncio.gather(*(first(t) for t in triggers))


def session_of(hook: Any) -> Any:
    return hook.customer_contacts.client.session


def connections_opened(session: Any, base_url: str) -> int:
    """TCP connections the session's pool opened to WeCom (urllib3 counts each new one)."""
    pools = session.get_adapter(base_url).poolmanager.pools  # urllib3's container: iterate its keys()
    keys = list(pools.keys())
    return sum(pools[key].num_connections for key in keys)


async def test_many_waits_poll_through_one_session_with_a_bounded_number_of_sockets(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_connection(monkeypatch, sandbox, sandbox.secret)
    # Every wait reads both transfer results from WeCom and ends "final".
    events = await first_events([wait_for() for _ in range(WAITS)])

    assert {e["status"] for e in events} == {"final"}, events[:2]
    hook = shared_clients.current_hook("wecom_default")
    assert hook is not None
    calls = sandbox.control.stats(include_writes=False)["calls"]
    reads = sum(n for path, n in calls.items() if path.endswith("transfer_result"))
    assert reads >= 2 * WAITS, calls  # on-job + resigned per wait, all really sent
    # One hook per process made 40+ reads over at most a pool's worth of sockets (10), not one per wait.
    assert 1 <= connections_opened(session_of(hook), sandbox.base_url) <= 10
    second = await first_events([wait_for()])
    assert second[0]["status"] == "final"
    assert shared_clients.current_hook("wecom_default") is hook


async def test_a_rotated_secret_gets_a_new_client_at_the_next_wait(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_connection(monkeypatch, sandbox, sandbox.secret)
    assert (await first_events([wait_for()]))[0]["status"] == "final"
    before = shared_clients.current_hook("wecom_default")

    use_connection(monkeypatch, sandbox, "a-rotated-secret-wecom-does-not-know")
    event = (await first_events([wait_for()]))[0]

    after = shared_clients.current_hook("wecom_default")
    assert after is not before and session_of(after) is not session_of(before)
    # The new client really used the new secret: WeCom refused it (a configuration error ends the wait).
    assert event["status"] == "error", event
    assert "a-rotated-secret" not in json.dumps(event)
