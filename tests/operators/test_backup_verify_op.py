"""The backup phase end to end against the sandbox: three exports, then the verified manifest."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup import BackupStore, generate_key
from offboarding.backup.roots import resolve_backup_root
from offboarding.evidence import EvidenceLedger
from offboarding.evidence.keys import key_from_environment
from offboarding.operators.backup import (
    CUSTOMERS_TASK_ID,
    SNAPSHOT_TASK_ID,
    STANDING_NOT_EXPORTED,
    WEDRIVE_TASK_ID,
    ExportCustomersAndGroupsOperator,
    ExportWeDriveFilesOperator,
    SnapshotProfileOperator,
    VerifyBackupManifestOperator,
    verified_backup_entry,
)
from offboarding.policy import get_policy
from offboarding.wecom import Contacts, WeComClient

CASE_ID = "offboard-lisi"
VERIFY_TASK_ID = "backup.verify_backup_manifest"
EXPORTS = (
    (SnapshotProfileOperator, SNAPSHOT_TASK_ID),
    (ExportCustomersAndGroupsOperator, CUSTOMERS_TASK_ID),
    (ExportWeDriveFilesOperator, WEDRIVE_TASK_ID),
)


def _export_all(params: dict[str, Any], make_context: Any) -> Any:
    """Run the three exports like the DAG would, keeping their XComs in one task instance."""
    ti = None
    for operator_class, task_id in EXPORTS:
        context = make_context(params, task_id=task_id, ti=ti)
        ti = context["ti"]
        result = operator_class(task_id=task_id.split(".")[1]).execute(context)
        json.dumps(result)  # XCom must be JSON
        ti.xcom_push("return_value", result)
    return ti


def _verify(params: dict[str, Any], make_context: Any, ti: Any) -> dict[str, Any]:
    op = VerifyBackupManifestOperator(task_id="verify_backup_manifest")
    return op.execute(make_context(params, task_id=VERIFY_TASK_ID, ti=ti))


def _case_dir(params: dict[str, Any]) -> Path:
    return Path(resolve_backup_root(params["backup_target"]).url) / CASE_ID


def _manifest(params: dict[str, Any]) -> dict[str, Any]:
    return json.loads((_case_dir(params) / "manifest.json").read_text("utf-8"))


def _ledger(params: dict[str, Any]) -> EvidenceLedger:
    return EvidenceLedger(
        BackupStore(resolve_backup_root(params["backup_target"]).url), CASE_ID, key=key_from_environment()
    )


def _delete_lisi(sandbox: Any) -> None:
    client = WeComClient(sandbox.corpid, sandbox.secret, base_url=sandbox.base_url)
    assert Contacts(client).delete_user("lisi") == "deleted"


def test_lisi_backup_verifies_end_to_end(wecom_conn: Any, sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case()
    ti = _export_all(params, make_context)
    result = _verify(params, make_context, ti)

    case_dir = _case_dir(params)
    on_disk = hashlib.sha256((case_dir / "manifest.json").read_bytes()).hexdigest()
    assert result["verified"] is True and result["manifest_sha256"] == on_disk
    manifest = _manifest(params)
    paths = {item["path"] for item in manifest["items"]}
    assert paths == {
        "profile/member.json",
        "profile/memberships.json",
        "customers/customers.jsonl",
        "customers/groups.jsonl",
        "wedrive/index.jsonl",
        "wedrive/space_lisi/客户拜访记录.txt",
        "wedrive/space_lisi/报价单-2025Q3.csv",
        "wedrive/space_lisi/合同/合同清单.md",
    }
    for item in manifest["items"]:  # checksums recomputed here, independently of the store
        data = (case_dir / item["path"]).read_bytes()
        assert (item["size"], item["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert result["files"] == 8 and result["bytes"] == sum(i["size"] for i in manifest["items"])

    items = {n["item"] for n in manifest["not_exported"]}
    assert {n.item for n in STANDING_NOT_EXPORTED} <= items
    assert "personal WeDrive space of lisi" in items
    assert any("chat history" in item for item in items) and any("Exmail" in item for item in items)

    created = datetime.fromisoformat(manifest["created_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    retention = timedelta(days=get_policy().backup.retention_days)
    assert date.fromisoformat(manifest["retention_until"]) == (created + retention).date()
    assert result["retention_until"] == manifest["retention_until"]
    assert "all verified" in result["summary"]

    entry = verified_backup_entry(
        BackupStore(resolve_backup_root(params["backup_target"]).url), _ledger(params), CASE_ID
    )
    assert entry is not None and entry.key == on_disk
    assert entry.result["manifest_sha256"] == on_disk and entry.result["files"] == 8
    assert _ledger(params).has_action("backup.verified", on_disk)
    assert wecom_conn.control.stats()["writes"] == []
    assert wecom_conn.secret not in json.dumps(result)


def test_a_tampered_file_fails_verification(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    ti = _export_all(params, make_context)
    quote = _case_dir(params) / "wedrive/space_lisi/报价单-2025Q3.csv"
    quote.write_bytes(quote.read_bytes() + b"x")

    with pytest.raises(AirflowFailException) as failure:
        _verify(params, make_context, ti)

    assert "wedrive/space_lisi/报价单-2025Q3.csv" in str(failure.value)
    actions = [e.action for e in _ledger(params).entries()]
    assert actions[-1] == "backup.verification_failed" and "backup.verified" not in actions
    assert (
        verified_backup_entry(
            BackupStore(resolve_backup_root(params["backup_target"]).url), _ledger(params), CASE_ID
        )
        is None
    )


def test_a_manifest_changed_after_verification_is_not_trusted(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    _verify(params, make_context, _export_all(params, make_context))
    manifest_path = _case_dir(params) / "manifest.json"
    manifest_path.write_text(
        manifest_path.read_text("utf-8").replace("offboard-lisi", "offboard-lisi "), "utf-8"
    )

    assert (
        verified_backup_entry(
            BackupStore(resolve_backup_root(params["backup_target"]).url), _ledger(params), CASE_ID
        )
        is None
    )


def test_an_already_deleted_member_still_gets_a_verified_manifest(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    _delete_lisi(wecom_conn)
    params = sample_person_case()
    result = _verify(params, make_context, _export_all(params, make_context))

    assert result["verified"] is True
    manifest = _manifest(params)
    paths = {item["path"] for item in manifest["items"]}
    assert "customers/unassigned_customers.jsonl" in paths and "profile/member.json" not in paths
    items = {n["item"] for n in manifest["not_exported"]}
    assert {"profile of lisi (user/get)", "customer details of lisi"} <= items


def test_rerunning_the_backup_is_harmless(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    first = _verify(params, make_context, _export_all(params, make_context))
    wecom_conn.control.reset_stats()

    second = _verify(params, make_context, _export_all(params, make_context))

    assert second["verified"] is True and second["files"] == first["files"]
    stats = wecom_conn.control.stats()
    assert stats["writes"] == [] and "/cgi-bin/wedrive/file_download" not in stats["calls"]
    verified = [e for e in _ledger(params).entries() if e.action == "backup.verified"]
    assert [e.key for e in verified] == [first["manifest_sha256"], second["manifest_sha256"]]
    entry = verified_backup_entry(
        BackupStore(resolve_backup_root(params["backup_target"]).url), _ledger(params), CASE_ID
    )
    assert entry is not None and entry.key == second["manifest_sha256"]
    assert _ledger(params).verify_chain().ok


def test_missing_export_results_fail_before_writing(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    with pytest.raises(AirflowFailException) as failure:
        _verify(params, make_context, None)
    assert SNAPSHOT_TASK_ID in str(failure.value) and WEDRIVE_TASK_ID in str(failure.value)
    assert not (_case_dir(params) / "manifest.json").exists()


def test_retention_comes_from_the_policy_override(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    override = tmp_path / "policy-override.yaml"
    override.write_text("backup:\n  retention_days: 10\n", "utf-8")
    monkeypatch.setenv("OFFBOARDING_POLICY_FILE", str(override))
    params = sample_person_case()

    _verify(params, make_context, _export_all(params, make_context))

    manifest = _manifest(params)
    created = datetime.fromisoformat(manifest["created_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    assert date.fromisoformat(manifest["retention_until"]) == (created + timedelta(days=10)).date()


def test_encrypted_backup_verifies(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = generate_key()
    monkeypatch.setenv(
        "AIRFLOW_CONN_OFFBOARDING_BACKUP_KEY", json.dumps({"conn_type": "generic", "password": key})
    )
    params = sample_person_case()
    result = _verify(params, make_context, _export_all(params, make_context))

    assert result["verified"] is True
    manifest = _manifest(params)
    assert manifest["encrypted"] is True
    contract = _case_dir(params) / "wedrive/space_lisi/合同/合同清单.md"
    assert "合同清单".encode() not in contract.read_bytes()  # encrypted at rest
    assert all(item["encrypted"] for item in manifest["items"])
    assert key not in json.dumps(result)
