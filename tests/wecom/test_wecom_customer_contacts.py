"""Customer contacts against the sandbox: listing, paging, handover per customer and per group."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from offboarding.wecom import Contacts, CustomerContacts, MemoryTokenCache, WeComClient, WeComDataError
from offboarding_dev.sandbox.testing import running_sandbox


@pytest.fixture
def customers(client: WeComClient) -> CustomerContacts:
    return CustomerContacts(client)


# -- reading ---------------------------------------------------------------------------------------
def test_list_customers(customers: CustomerContacts) -> None:
    assert customers.list_customers("lisi") == [f"wm_lisi_{n:03d}" for n in range(1, 13)]


def test_a_member_without_customers_has_an_empty_list(customers: CustomerContacts) -> None:
    assert customers.list_customers("zhengshi") == []


def test_customer_details_page_by_cursor(customers: CustomerContacts, calls: Callable[[str], int]) -> None:
    details = list(customers.iter_customer_details("bigsales", page_size=100))
    assert len(details) == 250
    assert len({d["external_contact"]["external_userid"] for d in details}) == 250
    assert calls("/cgi-bin/externalcontact/batch/get_by_user") == 3


def test_group_chats_page_by_cursor_and_filter_by_owner(
    customers: CustomerContacts, calls: Callable[[str], int]
) -> None:
    groups = list(customers.iter_group_chats(owner="bigsales", page_size=50))
    assert len(groups) == 120 and len({g["chat_id"] for g in groups}) == 120
    assert calls("/cgi-bin/externalcontact/groupchat/list") == 3
    awaiting = {g["chat_id"] for g in customers.iter_group_chats(status_filter=1)}
    assert {"wr_resigned_01", "wr_resigned_02"} <= awaiting
    assert customers.get_group_chat("wr_lisi_01")["owner"] == "lisi"


def test_unassigned_customers_of_deleted_members(customers: CustomerContacts) -> None:
    unassigned = {
        (c["handover_userid"], c["external_userid"]) for c in customers.iter_unassigned(page_size=2)
    }
    assert {("resigned01", f"wm_resigned_{n:03d}") for n in (1, 2, 3)} <= unassigned


def test_paging_arguments_are_checked(customers: CustomerContacts) -> None:
    with pytest.raises(ValueError, match="page_size"):
        list(customers.iter_unassigned(page_size=5000))
    with pytest.raises(ValueError, match="status_filter"):
        list(customers.iter_group_chats(status_filter=7))


# -- customer handover -----------------------------------------------------------------------------
def test_handing_over_250_customers_takes_three_calls(customers: CustomerContacts, sandbox: Any) -> None:
    ids = customers.list_customers("bigsales")
    result = customers.transfer_customers(
        "bigsales", "wangwu", ids, "您好，后续由王五为您服务。", resigned=False
    )
    assert result.ok and len(result.succeeded) == 250
    assert sandbox.control.stats()["calls"]["/cgi-bin/externalcontact/transfer_customer"] == 3


def test_per_customer_errcodes_are_kept_and_repeats_count_as_in_progress(customers: CustomerContacts) -> None:
    ids = customers.list_customers("lisi")
    first = customers.transfer_customers("lisi", "wangwu", ids, resigned=False)
    assert [(f.item, f.errcode) for f in first.failed] == [("wm_lisi_011", 40128)]
    assert "90 days" in first.failed[0].errmsg
    assert len(first.succeeded) == 11
    again = customers.transfer_customers("lisi", "wangwu", ids, resigned=False)
    assert sorted(again.in_progress) == sorted(first.succeeded)  # 40129: already being handed over
    assert again.succeeded == [] and [f.item for f in again.failed] == ["wm_lisi_011"]


def test_resigned_handover_needs_a_deleted_member(customers: CustomerContacts) -> None:
    with pytest.raises(WeComDataError) as caught:
        customers.transfer_customers("lisi", "wangwu", ["wm_lisi_001"], resigned=True)
    assert caught.value.errcode == 40097 and caught.value.item == "lisi"


def test_resigned_handover_of_a_deleted_member(customers: CustomerContacts, client: WeComClient) -> None:
    Contacts(client).delete_user("lisi")
    ids = [f"wm_lisi_{n:03d}" for n in range(1, 13)]
    result = customers.transfer_customers("lisi", "wangwu", ids, resigned=True)
    assert len(result.succeeded) + len(result.in_progress) + len(result.failed) == 12
    assert len(result.succeeded) >= 11
    statuses = {
        r["external_userid"]: r["status"]
        for r in customers.iter_transfer_results("lisi", "wangwu", resigned=True)
    }
    assert statuses["wm_lisi_001"] == 2  # waiting for the automatic takeover in 24 h


@pytest.mark.parametrize(
    ("handover", "takeover", "message", "resigned", "error"),
    [
        ("lisi", "lisi", None, False, "different member"),
        ("lisi", "wangwu", "hi", True, "on-job"),
        ("lisi", "wangwu", "长" * 201, False, "characters"),
        ("", "wangwu", None, False, "handover"),
    ],
)
def test_handover_input_is_checked_before_any_call(
    customers: CustomerContacts,
    sandbox: Any,
    handover: str,
    takeover: str,
    message: str | None,
    resigned: bool,
    error: str,
) -> None:
    with pytest.raises(ValueError, match=error):
        customers.transfer_customers(handover, takeover, ["wm_lisi_001"], message, resigned=resigned)
    assert not any("transfer" in path for path in sandbox.control.stats()["calls"])


# -- group handover --------------------------------------------------------------------------------
def test_group_handover_surfaces_failed_chat_list(customers: CustomerContacts) -> None:
    result = customers.transfer_group_chats(["wr_resigned_01", "wr_lisi_01"], "wangwu", resigned=True)
    assert result.succeeded == ["wr_resigned_01"]
    assert [(f.item, f.errcode) for f in result.failed] == [("wr_lisi_01", 90500)]
    again = customers.transfer_group_chats(["wr_resigned_01"], "wangwu", resigned=True)
    assert again.in_progress == ["wr_resigned_01"] and again.ok  # 90507: handover under way


def test_onjob_group_handover_of_120_groups_takes_two_calls(
    customers: CustomerContacts, sandbox: Any
) -> None:
    chat_ids = [g["chat_id"] for g in customers.iter_group_chats(owner="bigsales")]
    result = customers.transfer_group_chats(chat_ids, "wangwu", resigned=False)
    assert result.ok and len(result.succeeded) == 120
    assert sandbox.control.stats()["calls"]["/cgi-bin/externalcontact/groupchat/onjob_transfer"] == 2
    assert customers.get_group_chat("wr_big_0120")["owner"] == "wangwu"


# -- handover results over (compressed) time ---------------------------------------------------------
@pytest.fixture(scope="module")
def fast_days_sandbox() -> Iterator[Any]:
    """A sandbox where WeCom's 24 h automatic takeover lasts about one second."""
    with running_sandbox(time_scale=86400.0) as sb:
        yield sb


def test_transfer_results_report_done_refused_and_limit(fast_days_sandbox: Any) -> None:
    sb = fast_days_sandbox
    sb.control.reset()
    customers = CustomerContacts(
        WeComClient(sb.corpid, sb.secret, base_url=sb.base_url, token_cache=MemoryTokenCache())
    )
    customers.transfer_customers("lisi", "wangwu", ["wm_lisi_001", "wm_lisi_012"], resigned=False)
    customers.transfer_customers("wangwu", "fullsales", ["wm_wangwu_001"], resigned=False)
    time.sleep(1.5)
    to_wangwu = {
        r["external_userid"]: r["status"]
        for r in customers.iter_transfer_results("lisi", "wangwu", resigned=False)
    }
    assert to_wangwu == {"wm_lisi_001": 1, "wm_lisi_012": 3}
    to_full = {
        r["external_userid"]: r["status"]
        for r in customers.iter_transfer_results("wangwu", "fullsales", resigned=False)
    }
    assert to_full == {"wm_wangwu_001": 4}
