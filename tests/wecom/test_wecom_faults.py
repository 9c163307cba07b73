"""Under 20% injected transient faults, a scripted offboarding-like sequence of 500 calls completes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offboarding.wecom import Contacts, CustomerContacts, RetryPolicy, WeComClient

MEMBERS = 100  # 5 client calls per member: 500 calls


def test_500_calls_complete_under_20_percent_transient_faults(
    make_client: Callable[..., WeComClient], sandbox: Any
) -> None:
    sandbox.control.reset(seed=f"members:{MEMBERS}")
    # 20% of all WeCom calls fail transiently (5% each of -1, 6000, 45033, HTTP 5xx), and 5% of writes are
    # applied but answered with an error (lost reply), so retried writes must not double-act.
    sandbox.control.set_faults(
        errcodes={"-1": 0.05, "6000": 0.05, "45033": 0.05}, http_5xx=0.05, apply_then_fail=0.05, seed=42
    )
    client = make_client(retry=RetryPolicy(attempts=10, base_seconds=0.001, cap_seconds=0.01))
    contacts, customers = Contacts(client), CustomerContacts(client)

    outcomes: list[str] = []
    for n in range(1, MEMBERS + 1):
        userid = f"u{n:06d}"
        assert contacts.get_user(userid)["userid"] == userid
        contacts.disable_user(userid)
        assert len(customers.list_customers(userid)) == 3
        assert customers.get_group_chat(f"wr_{userid}")["owner"] == userid
        outcomes.append(contacts.delete_user(userid))

    assert set(outcomes) <= {"deleted", "already_gone"}
    stats = sandbox.control.stats()
    assert stats["injected_faults"] >= 0.1 * 500  # the faults really happened
    assert sum(stats["calls"].values()) > 500
    sandbox.control.clear_faults()
    for n in (1, 37, MEMBERS):
        assert sandbox.control.user(f"u{n:06d}")["deleted"] is True
    # Each member was deleted exactly once, however many replies were lost and retried.
    assert stats["write_calls"]["/cgi-bin/user/delete"] == MEMBERS


def test_a_delete_whose_reply_was_lost_is_retried_without_acting_twice(
    make_client: Callable[..., WeComClient], sandbox: Any
) -> None:
    sandbox.control.set_faults(apply_then_fail=1.0, paths=["/cgi-bin/user/delete"], seed=1)
    assert Contacts(make_client()).delete_user("wangwu") == "already_gone"
    stats = sandbox.control.stats()
    assert stats["calls"]["/cgi-bin/user/delete"] == 2
    assert stats["write_calls"]["/cgi-bin/user/delete"] == 1
    assert sandbox.control.user("wangwu")["deleted"] is True
