"""ExportCustomersAndGroupsOperator against the sandbox: customers and customer groups as JSON Lines."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from offboarding.backup.roots import resolve_backup_root
from offboarding.operators.backup import ExportCustomersAndGroupsOperator
from offboarding.steps.jsonl import JSONL_CHUNK_BYTES, Tally, jsonl_chunks
from offboarding.wecom import Contacts, WeComClient

TASK_ID = "backup.export_customers_and_groups"


def _export(params: dict[str, Any], make_context: Any) -> dict[str, Any]:
    op = ExportCustomersAndGroupsOperator(task_id="export_customers_and_groups")
    return op.execute(make_context(params, task_id=TASK_ID, run_id=f"offboard-{params['userid']}"))


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_lisi_customers_and_groups_are_exported(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    result = _export(params, make_context)

    case_dir = Path(resolve_backup_root(params["backup_target"]).url) / "offboard-lisi"
    customers = _lines(case_dir / "customers/customers.jsonl")
    assert sorted(c["external_contact"]["external_userid"] for c in customers) == [
        f"wm_lisi_{n:03d}" for n in range(1, 13)
    ]
    assert {c["follow_info"]["userid"] for c in customers} == {"lisi"}
    groups = _lines(case_dir / "customers/groups.jsonl")
    assert [g["chat_id"] for g in groups] == ["wr_lisi_01", "wr_lisi_02", "wr_lisi_03"]
    assert all(g["owner"] == "lisi" and len(g["member_list"]) == 4 for g in groups)

    assert result["customers"] == 12 and result["groups"] == 3 and result["member_exists"] is True
    assert result["not_exported"] == []
    for data in result["files"]:
        assert data["sha256"] == hashlib.sha256((case_dir / data["path"]).read_bytes()).hexdigest()
    assert wecom_conn.control.stats()["writes"] == []
    assert len(json.dumps(result)) < 2000  # counts and paths, never the customer list


def test_many_customers_are_paged(wecom_conn: Any, sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case(userid="bigsales", display_name="钱多多")
    wecom_conn.control.reset_stats()
    result = _export(params, make_context)

    assert result["customers"] == 250 and result["groups"] == 120
    lines = _lines(
        Path(resolve_backup_root(params["backup_target"]).url) / "offboard-bigsales/customers/customers.jsonl"
    )
    assert len({c["external_contact"]["external_userid"] for c in lines}) == 250
    calls = wecom_conn.control.stats()["calls"]
    assert calls["/cgi-bin/externalcontact/batch/get_by_user"] == 3  # 100 + 100 + 50
    assert calls["/cgi-bin/externalcontact/groupchat/get"] == 120


def test_deleted_member_lists_unassigned_customers(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    client = WeComClient(wecom_conn.corpid, wecom_conn.secret, base_url=wecom_conn.base_url)
    Contacts(client).delete_user("lisi")
    params = sample_person_case()

    result = _export(params, make_context)

    case_dir = Path(resolve_backup_root(params["backup_target"]).url) / "offboard-lisi"
    assert not (case_dir / "customers/customers.jsonl").exists()
    unassigned = _lines(case_dir / "customers/unassigned_customers.jsonl")
    assert sorted(u["external_userid"] for u in unassigned) == [f"wm_lisi_{n:03d}" for n in range(1, 13)]
    assert {u["handover_userid"] for u in unassigned} == {"lisi"}  # resigned01's are left out
    assert result["member_exists"] is False
    assert result["customers"] == 0 and result["unassigned_customers"] == 12
    assert [n["item"] for n in result["not_exported"]] == ["customer details of lisi"]
    groups = _lines(case_dir / "customers/groups.jsonl")
    assert [g["status"] for g in groups] == [1, 1, 1]  # awaiting inheritance


def test_jsonl_chunks_stream_lazily() -> None:
    """The encoder never pulls more records than one chunk needs (an endless source still streams)."""
    pulled = itertools.count()

    def endless() -> Iterator[dict[str, Any]]:
        for n in pulled:
            yield {"n": n, "text": "客户" * 50}

    tally = Tally()
    first = next(jsonl_chunks(endless(), tally))
    assert JSONL_CHUNK_BYTES <= len(first) < JSONL_CHUNK_BYTES + 1000
    assert tally.records == first.count(b"\n") == next(pulled)
    assert json.loads(first.split(b"\n")[0]) == {"n": 0, "text": "客户" * 50}
