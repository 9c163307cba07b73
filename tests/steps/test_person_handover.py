"""A person's handover steps (on-job and resigned) with their results files, without Airflow."""

from __future__ import annotations

import json
from typing import Any

from offboarding.steps import onjob_handover, resigned_handover
from offboarding.steps.deleting import delete_member
from offboarding.steps.handover_files import (
    CUSTOMERS_ONJOB_PATH,
    CUSTOMERS_RESIGNED_PATH,
    GROUPS_RESIGNED_PATH,
    load_outcomes,
)

CASE = "offboard-lisi"


def test_onjob_customers_keep_the_refused_one_for_after_the_deletion(
    corp: Any, store: Any, calls: Any
) -> None:
    summary = onjob_handover.hand_over_customers(corp, store, CASE, "lisi", "wangwu")

    assert summary is not None
    assert (summary["customers"], summary["sent"], summary["started"], summary["failed"]) == (12, 12, 11, 1)
    assert summary["failed_errcodes"] == {"40128": 1}
    saved = load_outcomes(store, CASE, CUSTOMERS_ONJOB_PATH, "lisi", "wangwu")
    assert saved["wm_lisi_011"]["errcode"] == 40128
    assert load_outcomes(store, CASE, CUSTOMERS_ONJOB_PATH, "lisi", "someone_else") == {}  # other successor

    again = onjob_handover.hand_over_customers(corp, store, CASE, "lisi", "wangwu")
    assert again is not None
    assert (again["sent"], again["in_transfer_before"], again["failed"]) == (0, 11, 1)
    assert calls("externalcontact/transfer_customer") == 1


def test_onjob_steps_do_nothing_for_a_deleted_member(corp: Any, store: Any, ledger: Any) -> None:
    assert onjob_handover.hand_over_customers(corp, store, CASE, "resigned01", "wangwu") is None
    assert onjob_handover.hand_over_customer_groups(corp, store, ledger, CASE, "resigned01", "wangwu") is None


def test_onjob_groups_count_todays_allowance_from_the_ledger(corp: Any, store: Any, ledger: Any) -> None:
    from offboarding.steps.outcomes import china_today

    ledger.append(
        "customer_groups.handed_over",
        actor="airflow:handover.hand_over_customer_groups",
        step="handover.hand_over_customer_groups",
        key="bigsales",
        request={},
        result={"successor": "wangwu", "day": china_today().isoformat(), "started": 290},
    )

    summary = onjob_handover.hand_over_customer_groups(corp, store, ledger, CASE, "bigsales", "wangwu")

    assert summary is not None
    assert (summary["owned"], summary["sent"], summary["started"], summary["deferred"]) == (120, 10, 10, 110)


def test_resigned_transfer_after_the_deletion(corp: Any, store: Any, ledger: Any) -> None:
    onjob_handover.hand_over_customers(corp, store, CASE, "Lin..Feng@corp.cn", "wangwu")
    deletion = delete_member(corp, "Lin..Feng@corp.cn")
    assert (deletion.answer, deletion.still_there) == ("deleted", False)

    customers = resigned_handover.inherit_customers(corp, store, CASE, "Lin..Feng@corp.cn", "wangwu")
    groups, day = resigned_handover.inherit_customer_groups(
        corp, store, ledger, CASE, "Lin..Feng@corp.cn", "wangwu"
    )

    # The customers handed over on-job are in transfer already: none is sent twice.
    assert (
        customers["customers"],
        customers["customers_sent"],
        customers["customers_in_transfer_before"],
    ) == (
        3,
        0,
        3,
    )
    assert (groups["groups"], groups["groups_sent"], groups["groups_started"]) == (1, 1, 1)
    assert load_outcomes(store, CASE, GROUPS_RESIGNED_PATH, "Lin..Feng@corp.cn", "wangwu") == {
        "wr_linfeng_01": {"outcome": "started"}
    }
    assert store.exists(CASE, CUSTOMERS_RESIGNED_PATH)
    assert json.loads(store.read_bytes(CASE, GROUPS_RESIGNED_PATH))["day"] == day.isoformat()
