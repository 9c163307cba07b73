"""SnapshotProfileOperator against the sandbox: profile, departments, tags and app chats of a member."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup.roots import resolve_backup_root
from offboarding.operators.backup import SnapshotProfileOperator
from offboarding.wecom import Contacts, WeComClient

TASK_ID = "backup.snapshot_profile_and_memberships"


@pytest.fixture
def chats_conn(wecom_conn: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The sandbox connection with the app-created chats configured (one is really another app's)."""
    sandbox = wecom_conn
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {
            "contact_secret": sandbox.secret,
            "customer_secret": sandbox.secret,
            "agent_id": sandbox.agent_id,
            "app_chat_ids": ["chat_sales_weekly", "chat_other_app"],
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    return sandbox


def _snapshot(params: dict[str, Any], make_context: Any) -> dict[str, Any]:
    op = SnapshotProfileOperator(task_id="snapshot_profile_and_memberships")
    return op.execute(make_context(params, task_id=TASK_ID))


def _case_dir(params: dict[str, Any], case_id: str = "offboard-lisi") -> Path:
    return Path(resolve_backup_root(params["backup_target"]).url) / case_id


def test_lisi_profile_and_memberships_are_saved(
    chats_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    result = _snapshot(params, make_context)

    case_dir = _case_dir(params)
    member = json.loads((case_dir / "profile/member.json").read_text("utf-8"))
    assert member["userid"] == "lisi" and member["name"] == "李四"
    memberships = json.loads((case_dir / "profile/memberships.json").read_text("utf-8"))
    assert memberships["departments"] == [{"id": 3, "name": "销售部", "is_leader": True, "is_main": True}]
    tags = {t["tagid"]: t for t in memberships["tags"]}
    assert set(tags) == {1, 2, 3}
    assert tags[1]["via_departments"] == [3]
    assert [c["chatid"] for c in memberships["app_chats"]] == ["chat_sales_weekly"]
    assert memberships["app_chats"][0]["is_owner"] is True

    assert result["tags"] == [1, 2, 3]
    assert result["app_chats"] == ["chat_sales_weekly"]
    assert result["member_exists"] is True
    # The chat of another app cannot be read: recorded with WeCom's errcode, not skipped.
    assert [(n["item"], n["reference"]) for n in result["not_exported"]] == [
        ("membership of app chat chat_other_app", "86008")
    ]
    # The XCom entries describe the files as written.
    for data in result["files"]:
        written = (case_dir / data["path"]).read_bytes()
        assert data["size"] == len(written)
        assert data["sha256"] == hashlib.sha256(written).hexdigest()
    assert {d["path"] for d in result["files"]} == {"profile/member.json", "profile/memberships.json"}
    text = json.dumps(result)
    assert chats_conn.secret not in text
    # Only reads: nothing changed in WeCom.
    assert chats_conn.control.stats()["writes"] == []


def test_snapshot_is_recorded_in_the_ledger(
    chats_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    _snapshot(params, make_context)
    lines = (_case_dir(params) / "evidence/ledger.jsonl").read_text("utf-8").splitlines()
    entry = json.loads(lines[-1])
    assert entry["action"] == "backup.profile_saved"
    assert entry["key"] == "lisi"
    assert entry["result"]["tags"] == [1, 2, 3]


def test_already_deleted_member_is_recorded_not_exported(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    sandbox = wecom_conn
    client = WeComClient(sandbox.corpid, sandbox.secret, base_url=sandbox.base_url)
    assert Contacts(client).delete_user("lisi") == "deleted"
    params = sample_person_case()

    result = _snapshot(params, make_context)

    case_dir = _case_dir(params)
    assert not (case_dir / "profile/member.json").exists()
    assert [d["path"] for d in result["files"]] == ["profile/memberships.json"]
    assert result["member_exists"] is False
    assert result["not_exported"][0]["reference"] == "60111"
    assert "profile of lisi" in result["not_exported"][0]["item"]
    memberships = json.loads((case_dir / "profile/memberships.json").read_text("utf-8"))
    assert memberships["member_exists"] is False and memberships["departments"] == []


def test_bad_secret_fails_with_the_connection_to_fix(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = wecom_conn
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": "wrong-secret",
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    with pytest.raises(AirflowFailException) as failure:
        _snapshot(sample_person_case(), make_context)
    message = str(failure.value)
    assert "40001" in message and "wecom_default" in message
    assert "wrong-secret" not in message
