"""The one transfer algorithm (offboarding.steps.transfer) against the sandbox over HTTP, without Airflow.

Every customer and group gets an outcome — WeCom's refusals with their errcode and reason, never dropped —
for one member or a list of several, on-job and resigned.
"""

from __future__ import annotations

from typing import Any

import pytest

from offboarding.steps.corp import is_member_gone
from offboarding.steps.outcomes import ALLOWANCE_USED_UP, errcode_counts
from offboarding.steps.takeover import read_takeover_status
from offboarding.steps.transfer import Transfer, transfer_customers, transfer_groups
from offboarding.wecom.errors import WeComDataError

LISI_CUSTOMERS = [f"wm_lisi_{n:03d}" for n in range(1, 13)]
TOO_OFTEN = "wm_lisi_011"  # transferred on-job twice in 90 days: 40128
SEVERAL = ["lisi", "bigsales", "Lin..Feng@corp.cn"]


def customers_of(corp: Any, members: list[str]) -> dict[str, list[str]]:
    return {m: corp.customer_contacts.list_customers(m) for m in members}


def test_every_customer_gets_an_outcome_and_a_refusal_keeps_errcode_and_reason(corp: Any) -> None:
    transfer = transfer_customers(corp, "wangwu", {"lisi": LISI_CUSTOMERS}, resigned=False)["lisi"]

    assert sorted(transfer.items) == LISI_CUSTOMERS  # none dropped
    refused = transfer.items[TOO_OFTEN]
    assert refused["outcome"] == "failed"
    assert refused["errcode"] == 40128
    assert "90" in refused["errmsg"]  # WeCom's reason: twice in 90 days
    assert {c: v["outcome"] for c, v in transfer.items.items() if c != TOO_OFTEN} == dict.fromkeys(
        set(LISI_CUSTOMERS) - {TOO_OFTEN}, "started"
    )
    assert errcode_counts(transfer.items) == {"40128": 1}


def test_a_rerun_sends_nothing_in_transfer_or_refused_before(corp: Any, calls: Any) -> None:
    first = transfer_customers(corp, "wangwu", {"lisi": LISI_CUSTOMERS}, resigned=False)["lisi"]
    sent_before = calls("externalcontact/transfer_customer")

    again = transfer_customers(
        corp, "wangwu", {"lisi": LISI_CUSTOMERS}, resigned=False, previous={"lisi": first.items}
    )["lisi"]

    assert again.sent == []
    assert calls("externalcontact/transfer_customer") == sent_before
    assert again.items[TOO_OFTEN] == first.items[TOO_OFTEN]
    in_transfer = {c: v for c, v in again.items.items() if c != TOO_OFTEN}
    assert {v["outcome"] for v in in_transfer.values()} == {"in_transfer"}
    assert {v["status"] for v in in_transfer.values()} == {"waiting"}
    assert "kind" not in in_transfer["wm_lisi_001"]  # on-job records name no kind (as before)


def test_several_members_in_one_step(corp: Any, calls: Any) -> None:
    holdings = customers_of(corp, SEVERAL)
    seen: list[str] = []

    done = transfer_customers(
        corp, "wangwu", holdings, resigned=False, on_member=lambda member, transfer: seen.append(member)
    )

    assert seen == SEVERAL  # told after each member, in order (a batch saves its progress there)
    assert {m: sorted(t.items) for m, t in done.items()} == {m: sorted(c) for m, c in holdings.items()}
    assert len(holdings["bigsales"]) == 250
    assert calls("externalcontact/transfer_customer") == 1 + 3 + 1  # ≤ 100 customers per call
    assert done["bigsales"].items["wm_big_0250"] == {"outcome": "started"}
    assert done["lisi"].items[TOO_OFTEN]["errcode"] == 40128
    status = read_takeover_status(corp.customer_contacts, "bigsales", "wangwu")
    assert status.counts()["waiting"] == 250


def test_a_call_refused_as_a_whole_is_raised_or_kept_per_item(corp: Any) -> None:
    gone = {"resigned01": ["wm_resigned_001", "wm_resigned_002"]}
    with pytest.raises(WeComDataError) as raised:
        transfer_customers(corp, "wangwu", gone, resigned=False, read_takeover=False)
    assert raised.value.errcode == 60111

    kept = transfer_customers(
        corp, "wangwu", gone, resigned=False, read_takeover=False, refused_call=is_member_gone
    )["resigned01"]
    assert kept.items.keys() == {"wm_resigned_001", "wm_resigned_002"}
    assert {(v["outcome"], v["errcode"]) for v in kept.items.values()} == {("failed", 60111)}


def test_resigned_transfer_of_a_deleted_member(corp: Any) -> None:
    unassigned = [
        str(i["external_userid"])
        for i in corp.customer_contacts.iter_unassigned()
        if i.get("handover_userid") == "resigned01"
    ]
    groups = [
        g["chat_id"] for g in corp.customer_contacts.iter_group_chats(owner="resigned01", status_filter=1)
    ]

    customers = transfer_customers(corp, "wangwu", {"resigned01": unassigned}, resigned=True)["resigned01"]
    inherited = transfer_groups(corp, "wangwu", {"resigned01": groups}, resigned=True)["resigned01"]

    assert {v["outcome"] for v in customers.items.values()} == {"started"}
    assert sorted(inherited.items) == ["wr_resigned_01", "wr_resigned_02"]
    assert {v["outcome"] for v in inherited.items.values()} == {"started"}
    again = transfer_customers(corp, "wangwu", {"resigned01": unassigned}, resigned=True)["resigned01"]
    assert again.sent == []
    assert {(v["outcome"], v["kind"]) for v in again.items.values()} == {("in_transfer", "resigned")}


def test_groups_of_several_owners_go_100_per_call_within_each_owners_allowance(corp: Any, calls: Any) -> None:
    groups = {m: [g["chat_id"] for g in corp.customer_contacts.iter_group_chats(owner=m)] for m in SEVERAL}
    chunks: list[dict[str, Any]] = []

    done = transfer_groups(
        corp,
        "wangwu",
        groups,
        resigned=False,
        used_today={"bigsales": 250},  # 50 left today for bigsales → wangwu
        on_chunk=lambda by_owner: chunks.append({o: len(v) for o, v in by_owner.items()}),
    )

    assert [len(groups[m]) for m in SEVERAL] == [3, 120, 1]
    assert len(done["bigsales"].sent) == 50
    deferred = [c for c, v in done["bigsales"].items.items() if v["outcome"] == "deferred"]
    assert len(deferred) == 70
    assert done["bigsales"].items[deferred[0]] == {"outcome": "deferred", "reason": ALLOWANCE_USED_UP}
    assert calls("externalcontact/groupchat/onjob_transfer") == 1  # 3 + 50 + 1 groups in one call
    assert chunks == [{"lisi": 3, "bigsales": 50, "Lin..Feng@corp.cn": 1}]
    assert all(sorted(done[m].items) == sorted(groups[m]) for m in SEVERAL)  # none dropped


def test_a_group_the_successor_already_owns_counts_as_handed_over(corp: Any) -> None:
    transfer_groups(corp, "wangwu", {"lisi": ["wr_lisi_01"]}, resigned=False)

    again = transfer_groups(corp, "wangwu", {"lisi": ["wr_lisi_01"]}, resigned=False)["lisi"]

    assert again.items["wr_lisi_01"]["outcome"] == "in_progress"  # 90504: the answer of a lost call


def test_groups_refused_before_are_not_sent_again(corp: Any, calls: Any) -> None:
    previous = {"lisi": {"wr_lisi_02": {"outcome": "failed", "errcode": 90500, "errmsg": "refused"}}}

    done = transfer_groups(
        corp, "wangwu", {"lisi": ["wr_lisi_01", "wr_lisi_02"]}, resigned=False, previous=previous
    )["lisi"]

    assert done.sent == ["wr_lisi_01"]
    assert done.items["wr_lisi_02"] == previous["lisi"]["wr_lisi_02"]
    assert calls("externalcontact/groupchat/onjob_transfer") == 1


def test_wecoms_own_daily_group_limit_defers_the_rest(
    monkeypatch: pytest.MonkeyPatch, make_corp: Any
) -> None:
    """A sandbox allowing 1 group a day from one owner to one new owner: WeCom refuses the 2nd (90503),
    recorded as deferred with WeCom's answer, not failed."""
    from offboarding_dev.sandbox.testing import running_sandbox

    monkeypatch.setenv("WECOM_SANDBOX_GROUP_TRANSFERS_PER_DAY", "1")
    with running_sandbox() as sandbox:
        corp = make_corp(sandbox)
        done: Transfer = transfer_groups(
            corp, "wangwu", {"resigned01": ["wr_resigned_01", "wr_resigned_02"]}, resigned=True
        )["resigned01"]

    assert done.sent == ["wr_resigned_01", "wr_resigned_02"]
    outcomes = {c: v["outcome"] for c, v in done.items.items()}
    assert outcomes == {"wr_resigned_01": "started", "wr_resigned_02": "deferred"}
    assert done.items["wr_resigned_02"]["errcode"] == 90503
