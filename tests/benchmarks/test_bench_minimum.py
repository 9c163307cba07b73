"""The minimum call counts the WeCom-economy benches judge against."""

from __future__ import annotations

import math
from collections import Counter

from benchmarks.company import causes
from benchmarks.company_minimum import CompanyFacts, company_minimum, member_chunks
from benchmarks.person_minimum import (
    HandoverOutcome,
    PersonFacts,
    by_task,
    compare,
    explain,
    person_minimum,
    secret_kind,
    token_minimum,
    total,
)

LISI = PersonFacts(
    member="lisi",
    customers=12,
    groups=3,
    corp_tags=3,
    member_tags=3,
    app_chats=2,
    app_chats_holding_member=1,
    wedrive_folders=2,
    wedrive_files=3,
    unassigned_customers=3,
)


def test_person_minimum_follows_batch_limits_and_pages() -> None:
    big = PersonFacts(
        **{
            **LISI.__dict__,
            "member": "bigsales",
            "customers": 250,
            "groups": 120,
            "wedrive_folders": 0,
            "wedrive_files": 0,
        }
    )
    needs = by_task(person_minimum(big, HandoverOutcome(customers_left=0, groups_left=0), deregister=False))
    assert needs["handover.hand_over_customers"]["/cgi-bin/externalcontact/transfer_customer"] == 3
    assert needs["backup.export_customers_and_groups"]["/cgi-bin/externalcontact/batch/get_by_user"] == 3
    assert needs["backup.export_customers_and_groups"]["/cgi-bin/externalcontact/groupchat/get"] == 120
    assert (
        needs["handover.hand_over_customer_groups"]["/cgi-bin/externalcontact/groupchat/onjob_transfer"] == 2
    )
    assert "backup.export_wedrive_files" not in needs  # no WeDrive space: no call
    assert "deletion.transfer_resigned_customers" in needs
    assert (
        "/cgi-bin/externalcontact/resigned/transfer_customer"
        not in needs["deletion.transfer_resigned_customers"]
    )
    assert "account_deregistration.send_deregistration_guide" not in needs


def test_person_minimum_for_lisi() -> None:
    needs = person_minimum(LISI, HandoverOutcome(customers_left=1, groups_left=0), deregister=True)
    table = by_task(needs)
    assert total(table) == 55
    assert (
        table["deletion.transfer_resigned_customers"]["/cgi-bin/externalcontact/resigned/transfer_customer"]
        == 1
    )
    assert table["handover.disable_member"] == Counter({"/cgi-bin/user/get": 1, "/cgi-bin/user/update": 1})
    assert table["account_deregistration.send_deregistration_guide"] == Counter({"/cgi-bin/message/send": 1})
    assert all(need.why for need in needs)


def test_differences_are_listed_per_task_with_their_known_cause() -> None:
    minimum = {"handover.disable_member": Counter({"/cgi-bin/user/get": 1, "/cgi-bin/user/update": 1})}
    measured = {
        "handover.disable_member": Counter(
            {"/cgi-bin/user/get": 2, "/cgi-bin/user/update": 1, "/cgi-bin/gettoken": 1}
        )
    }
    lines = compare(measured, minimum)
    assert lines == ["handover.disable_member user/get +1"]
    assert explain(lines[0]).endswith("reads the member back after WeCom confirmed the update")
    assert compare(minimum, minimum) == []


def test_one_token_per_secret_kind_used() -> None:
    assert secret_kind("/cgi-bin/user/get") == "contacts"
    assert secret_kind("/cgi-bin/externalcontact/list") == "customers"
    assert secret_kind("/cgi-bin/tag/get") == "app"
    assert (
        token_minimum(["/cgi-bin/user/get", "/cgi-bin/user/delete", "/cgi-bin/gettoken", "/wedrive/download"])
        == 1
    )
    assert token_minimum(["/cgi-bin/user/get", "/cgi-bin/externalcontact/list", "/cgi-bin/message/send"]) == 3


def test_company_minimum_matches_the_batching_minimum_of_the_member_tests() -> None:
    """The same counts tests/operators/test_members_offboarding.py asserts for 2,000 members."""
    members = 2000
    facts = CompanyFacts(
        members=members, admins_deleted_last=1, kept=2, customers=3 * members, groups=members
    )
    calls = company_minimum(facts)
    batches = math.ceil(members / 200)
    assert calls["/cgi-bin/user/batchdelete"] == batches
    assert calls["/cgi-bin/user/delete"] == 1  # the one admin deleted last (the creator)
    assert calls["/cgi-bin/externalcontact/transfer_customer"] == members
    assert calls["/cgi-bin/externalcontact/groupchat/onjob_transfer"] == math.ceil(members / 100)
    assert calls["/cgi-bin/user/get"] == members + 3 + 1
    assert calls["/cgi-bin/externalcontact/batch/get_by_user"] == batches * 2 * 3 + 1
    assert calls["/cgi-bin/externalcontact/groupchat/get"] == members
    assert calls["/cgi-bin/user/list_id"] == 2
    assert "/cgi-bin/externalcontact/resigned/transfer_customer" not in calls
    several_admins = company_minimum(
        CompanyFacts(members, admins_deleted_last=3, kept=2, customers=0, groups=0)
    )
    assert several_admins["/cgi-bin/user/batchdelete"] == batches + 1
    assert "/cgi-bin/user/delete" not in several_admins


def test_member_chunks_never_cross_a_batch() -> None:
    assert member_chunks(450, 200, 100) == [100, 100, 100, 100, 50]
    assert member_chunks(0, 200, 100) == []


def test_company_excess_is_blamed_on_the_phase_that_made_it() -> None:
    get, delete = "/cgi-bin/externalcontact/groupchat/get", "/cgi-bin/user/delete"
    phases = {"batches": Counter({get: 400}), "leaders": Counter({get: 400, delete: 1})}
    text = causes(Counter({get: 800, delete: 1}), {get: 400}, phases)
    assert text.startswith("externalcontact/groupchat/get +400: the leaders' batch read again groups")
    assert "user/delete +1: the admins' batch holds several admins, one of them the creator" in text
    unknown = causes(
        Counter({"/cgi-bin/tag/get": 5}),
        {"/cgi-bin/tag/get": 3},
        {"batches": Counter({"/cgi-bin/tag/get": 5})},
    )
    assert unknown == "tag/get +2: cause not known (most calls: batches)"
    assert causes(Counter({get: 400}), {get: 400}, phases) == ""
