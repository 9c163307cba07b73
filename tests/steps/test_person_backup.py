"""A person's backup steps (profile and memberships, customers and groups), without Airflow."""

from __future__ import annotations

import json
from typing import Any

from offboarding.steps.person_backup import (
    CUSTOMERS_PATH,
    MEMBERSHIPS_PATH,
    UNASSIGNED_PATH,
    export_customers_and_groups,
    snapshot_profile,
)

CASE = "offboard-lisi"


def test_profile_snapshot_lists_tags_and_app_chats(corp: Any, store: Any) -> None:
    corp.app_chat_ids = ["chat_sales_weekly", "chat_other_app"]

    snapshot = snapshot_profile(corp, store, CASE, "lisi")

    assert snapshot.member_exists
    assert [t["tagid"] for t in snapshot.tags if t["as_member"]] == [1, 2, 3]
    assert [c["chatid"] for c in snapshot.app_chats] == ["chat_sales_weekly"]
    assert [n["reference"] for n in snapshot.not_exported] == ["86008"]  # the other app's chat: not readable
    assert {e.path for e in snapshot.files} == {"profile/member.json", MEMBERSHIPS_PATH}


def test_a_deleted_members_profile_is_recorded_as_not_exported(corp: Any, store: Any) -> None:
    snapshot = snapshot_profile(corp, store, CASE, "resigned01")

    assert not snapshot.member_exists
    assert snapshot.not_exported[0]["reference"] == "60111"
    assert [e.path for e in snapshot.files] == [MEMBERSHIPS_PATH]


def test_customers_are_streamed_and_a_deleted_member_gives_unassigned_ids(corp: Any, store: Any) -> None:
    bigsales = export_customers_and_groups(corp, store, CASE, "bigsales")
    assert (bigsales.member_exists, bigsales.customers, bigsales.groups) == (True, 250, 120)
    lines = store.read_bytes(CASE, CUSTOMERS_PATH).decode().splitlines()
    assert len(lines) == 250 and json.loads(lines[0])["external_contact"]["external_userid"]

    gone = export_customers_and_groups(corp, store, "offboard-resigned01", "resigned01")
    assert (gone.member_exists, gone.customers) == (False, 3)
    assert store.exists("offboard-resigned01", UNASSIGNED_PATH)
    assert gone.not_exported[0]["reference"] == "get_unassigned_list"
