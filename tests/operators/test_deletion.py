"""Deleting the member and the resigned transfer, against the WeCom sandbox over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup.manifest import MANIFEST_PATH, BackupManifest, write_manifest
from offboarding.backup.roots import resolve_backup_root
from offboarding.backup.storage import BackupStore
from offboarding.cases import person_case_id
from offboarding.evidence.keys import key_from_environment
from offboarding.evidence.ledger import LEDGER_PATH, EvidenceLedger
from offboarding.operators.backup import manifest_sha256_on_disk
from offboarding.operators.deletion import DeleteMemberOperator, TransferResignedCustomersOperator
from offboarding.operators.handover import HandOverCustomersOperator
from offboarding.policy import get_policy
from offboarding.steps.handover_files import CUSTOMERS_RESIGNED_PATH, GROUPS_RESIGNED_PATH

USER_DELETE = "/cgi-bin/user/delete"
RESIGNED_TRANSFER = "/cgi-bin/externalcontact/resigned/transfer_customer"
GROUP_TRANSFER = "/cgi-bin/externalcontact/groupchat/transfer"


def case_id(params: dict[str, Any]) -> str:
    return person_case_id(params)


def store_of(params: dict[str, Any]) -> BackupStore:
    return BackupStore(resolve_backup_root(params["backup_target"]).url)


def ledger_of(params: dict[str, Any]) -> EvidenceLedger:
    return EvidenceLedger(store_of(params), case_id(params), key=key_from_environment())


def entries(params: dict[str, Any], action: str) -> list[Any]:
    return [e for e in ledger_of(params).entries() if e.action == action]


def calls(sandbox: Any, path: str) -> int:
    return int(sandbox.control.stats()["calls"].get(path, 0))


def writes(sandbox: Any, path: str) -> int:
    return int(sandbox.control.stats()["write_calls"].get(path, 0))


def write_backup(params: dict[str, Any]) -> str:
    """A manifest in the case folder; returns its sha256 as stored."""
    manifest = BackupManifest.start(
        case_id(params), params["userid"], retention=get_policy().backup.retention_days, encrypted=False
    )
    manifest.record_not_exported("chat history", "message archive not enabled")
    write_manifest(store_of(params), manifest)
    sha256 = manifest_sha256_on_disk(store_of(params), case_id(params))
    assert sha256 is not None
    return sha256


def record_verified(params: dict[str, Any], sha256: str) -> None:
    """The ledger entry the backup verification writes (contract in offboarding.operators.backup)."""
    ledger_of(params).append(
        "backup.verified",
        actor="airflow:backup.verify_backup_manifest",
        step="backup.verify_backup_manifest",
        key=sha256,
        request={"manifest": MANIFEST_PATH},
        result={"manifest_path": MANIFEST_PATH, "manifest_sha256": sha256, "summary": "all verified"},
    )


APPROVALS: Any = None
"""Airflow's approval records of the running test (see ``airflow_approvals`` in conftest)."""


@pytest.fixture(autouse=True)
def _airflow_approvals(airflow_approvals: Any) -> None:
    global APPROVALS
    APPROVALS = airflow_approvals


def record_answer(params: dict[str, Any], action: str = "approval.approved", **kwargs: Any) -> None:
    """The approver answers in Airflow: Airflow's record + the ledger entry ApproveDeletionOperator writes."""
    APPROVALS.approve(params, chosen="Approve" if action == "approval.approved" else "Reject", **kwargs)


def allow_deletion(params: dict[str, Any]) -> None:
    record_verified(params, write_backup(params))
    record_answer(params)


def delete(params: dict[str, Any], make_context: Any, **context: Any) -> dict[str, Any]:
    context.setdefault("run_id", case_id(params))
    return DeleteMemberOperator(task_id="delete_member").execute(
        make_context(params, task_id="delete.delete_member", **context)
    )


def delete_in_wecom(userid: str) -> None:
    """Delete a member straight through the WeCom API (test setup for the resigned transfer)."""
    from offboarding.hooks.wecom import WeComHook

    assert WeComHook("wecom_default").contacts.delete_user(userid) == "deleted"


# -- refusals: no WeCom call at all -------------------------------------------------------------------


def test_deletion_without_a_backup_is_refused_before_any_wecom_call(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    record_answer(params)
    with pytest.raises(AirflowFailException, match="no backup manifest"):
        delete(params, make_context)
    assert wecom_conn.control.stats()["calls"] == {}
    assert wecom_conn.control.user("lisi")["deleted"] is False


def test_an_unverified_backup_is_refused(wecom_conn: Any, sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case()
    write_backup(params)
    record_answer(params)
    with pytest.raises(AirflowFailException, match=r"no backup\.verified entry in the ledger matches"):
        delete(params, make_context)
    assert wecom_conn.control.stats()["calls"] == {}


def test_a_backup_changed_after_verification_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    write_backup(params)  # a new manifest (new created_at) that nobody verified
    with pytest.raises(AirflowFailException, match="changed after verification"):
        delete(params, make_context)
    assert wecom_conn.control.stats()["calls"] == {}


@pytest.mark.parametrize(
    "answers", [[], ["approval.approved", "approval.rejected"]], ids=["none", "rejected"]
)
def test_deletion_without_an_approval_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, answers: list[str]
) -> None:
    params = sample_person_case()
    record_verified(params, write_backup(params))
    for action in answers:
        record_answer(params, action)
    with pytest.raises(AirflowFailException, match=r"approval\.approved missing"):
        delete(params, make_context)
    assert wecom_conn.control.stats()["calls"] == {}


def test_a_tampered_ledger_is_refused(wecom_conn: Any, sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case()
    record_verified(params, write_backup(params))
    record_answer(params, "approval.rejected")
    ledger_file = store_of(params).local_path(case_id(params), LEDGER_PATH)
    assert ledger_file is not None
    ledger_file.write_text(ledger_file.read_text().replace('"chosen":"Reject"', '"chosen":"Approve"'))
    with pytest.raises(AirflowFailException, match="BROKEN"):
        delete(params, make_context)
    assert wecom_conn.control.stats()["calls"] == {}


# -- deleting -----------------------------------------------------------------------------------------


def test_lisi_is_deleted_and_read_back(wecom_conn: Any, sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case()
    allow_deletion(params)
    result = delete(params, make_context)

    assert result["wecom_answer"] == "deleted"
    assert result["read_back"] == {"call": "user/get", "member_found": False, "errcode": 60111}
    assert wecom_conn.control.user("lisi")["deleted"] is True
    assert writes(wecom_conn, USER_DELETE) == 1
    (entry,) = entries(params, "member.deleted")
    assert entry.key == "lisi"
    assert entry.result["read_back"]["errcode"] == 60111
    assert entry.request["approved_by"] == "approver"
    assert entry.request["manifest_sha256"] == manifest_sha256_on_disk(store_of(params), case_id(params))


def test_the_creator_fails_with_the_manual_step(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="zhangsan", display_name="张三")
    allow_deletion(params)
    with pytest.raises(AirflowFailException) as failure:
        delete(params, make_context)

    message = str(failure.value)
    assert "301005" in message
    assert "transfers the creator role" in message
    assert "clear this task" in message
    assert wecom_conn.control.user("zhangsan")["deleted"] is False
    assert writes(wecom_conn, USER_DELETE) == 0
    (entry,) = entries(params, "member.delete_refused")
    assert entry.result["errcode"] == 301005
    assert entries(params, "member.deleted") == []


def test_an_already_deleted_member_counts_as_deleted(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="resigned01", display_name="已离职")
    allow_deletion(params)
    result = delete(params, make_context)

    assert result["wecom_answer"] == "already_gone"
    assert calls(wecom_conn, USER_DELETE) == 0
    assert len(entries(params, "member.deleted")) == 1


def test_a_lost_reply_still_deletes_exactly_once(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    wecom_conn.control.set_faults(apply_then_fail=1.0, paths=[USER_DELETE], seed=7)

    result = delete(params, make_context)

    stats = wecom_conn.control.stats()
    assert stats["write_calls"][USER_DELETE] == 1
    assert stats["calls"][USER_DELETE] == 2  # the retry found the member gone (60111)
    assert stats["injected_faults"] == 1
    assert result["wecom_answer"] == "already_gone"
    assert result["read_back"]["member_found"] is False
    assert wecom_conn.control.user("lisi")["deleted"] is True


def test_a_real_backup_verification_lets_the_deletion_through(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    """The backup helper's own operators produce the proof the deletion trusts."""
    from offboarding.operators.backup import (
        CUSTOMERS_TASK_ID,
        SNAPSHOT_TASK_ID,
        WEDRIVE_TASK_ID,
        ExportCustomersAndGroupsOperator,
        ExportWeDriveFilesOperator,
        SnapshotProfileOperator,
        VerifyBackupManifestOperator,
    )

    params = sample_person_case()
    context = make_context(params, task_id="verify_backup_manifest")
    ti = context["ti"]
    for task_id, operator in (
        (SNAPSHOT_TASK_ID, SnapshotProfileOperator),
        (CUSTOMERS_TASK_ID, ExportCustomersAndGroupsOperator),
        (WEDRIVE_TASK_ID, ExportWeDriveFilesOperator),
    ):
        ti.xcoms[(task_id, "return_value")] = operator(task_id=task_id.split(".")[1]).execute(
            make_context(params, task_id=task_id)
        )
    VerifyBackupManifestOperator(task_id="verify_backup_manifest").execute(context)
    record_answer(params)

    assert delete(params, make_context)["wecom_answer"] == "deleted"


# -- the resigned transfer ----------------------------------------------------------------------------


def test_after_deletion_only_what_the_onjob_handover_left_is_inherited(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    HandOverCustomersOperator(task_id="hand_over_customers").execute(make_context(params))
    allow_deletion(params)
    delete(params, make_context)

    result = TransferResignedCustomersOperator(task_id="transfer_resigned_customers").execute(
        make_context(params)
    )

    assert result["customers"] == 12
    assert result["customers_in_transfer_before"] == 11
    assert result["customers_sent"] == 1  # wm_lisi_011, refused on-job (40128)
    assert result["customers_started"] == 1
    assert result["groups"] == 3
    assert result["groups_started"] == 3
    assert calls(wecom_conn, RESIGNED_TRANSFER) == 1
    assert calls(wecom_conn, GROUP_TRANSFER) == 1
    assert wecom_conn.control.state()["pending_transfers"] == 12
    assert wecom_conn.control.state()["group_chats"]["inheriting"] == 3
    stored = json.loads(store_of(params).read_bytes(case_id(params), CUSTOMERS_RESIGNED_PATH))
    assert stored["items"]["wm_lisi_011"] == {"outcome": "started"}
    assert stored["items"]["wm_lisi_001"]["kind"] == "onjob"
    groups = json.loads(store_of(params).read_bytes(case_id(params), GROUPS_RESIGNED_PATH))
    assert groups["counts"] == {"started": 3}
    (customers_entry,) = entries(params, "customers.inherited")
    assert customers_entry.result["customers_started"] == 1
    (groups_entry,) = entries(params, "customer_groups.inherited")
    assert groups_entry.result["started"] == 3

    again = TransferResignedCustomersOperator(task_id="transfer_resigned_customers").execute(
        make_context(params)
    )

    assert again["customers_sent"] == 0
    assert again["groups"] == 0  # inheriting groups are no longer "awaiting inheritance"
    assert calls(wecom_conn, RESIGNED_TRANSFER) == 1
    assert calls(wecom_conn, GROUP_TRANSFER) == 1


def test_bigsales_inherits_250_customers_in_three_calls_and_120_groups_in_two(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(userid="bigsales", display_name="钱多多")
    delete_in_wecom("bigsales")

    result = TransferResignedCustomersOperator(task_id="transfer_resigned_customers").execute(
        make_context(params)
    )

    assert result["customers_started"] == 250
    assert result["groups_started"] == 120
    assert calls(wecom_conn, RESIGNED_TRANSFER) == 3
    assert calls(wecom_conn, GROUP_TRANSFER) == 2


def test_nothing_is_inherited_while_the_member_exists(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    result = TransferResignedCustomersOperator(task_id="transfer_resigned_customers").execute(
        make_context(params)
    )

    assert result["member_exists"] is True
    assert result["customers"] == 0
    assert result["groups"] == 0
    assert calls(wecom_conn, RESIGNED_TRANSFER) == 0
    assert calls(wecom_conn, GROUP_TRANSFER) == 0


def test_a_dry_run_checks_the_proof_but_sends_no_delete(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(dry_run=True)
    with pytest.raises(AirflowFailException, match="no backup manifest"):
        delete(params, make_context)  # the proof is checked in a dry run too

    allow_deletion(params)
    result = delete(params, make_context)

    assert result["wecom_answer"] == "deleted"  # planned, not sent
    assert result["read_back"]["member_found"] is True
    assert wecom_conn.control.stats()["write_calls"] == {}
    assert wecom_conn.control.user("lisi")["deleted"] is False
    (planned,) = entries(params, "dry_run.planned")
    assert planned.request["calls"][0]["path"] == USER_DELETE
    # A dry run deletes nothing, so it never says so (bug 9b), and it has its own case folder.
    assert entries(params, "member.deleted") == []
    assert [e.key for e in entries(params, "member.delete_planned")] == ["lisi"]
    assert ledger_of(params).case_id == "dryrun-offboard-lisi"


# -- the approval that counts: Airflow's own record, an eligible approver, this run, this backup ------


def refused_without_a_wecom_call(
    params: dict[str, Any], make_context: Any, wecom_conn: Any, match: str
) -> None:
    with pytest.raises(AirflowFailException, match=match):
        delete(params, make_context)
    assert wecom_conn.control.stats()["calls"] == {}
    assert wecom_conn.control.user("lisi")["deleted"] is False


def test_an_approval_appended_to_the_ledger_by_hand_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    """Anyone with file access can append ``approval.approved``; Airflow has no record of it."""
    params = sample_person_case()
    record_verified(params, write_backup(params))
    record_answer(params, in_airflow=False)
    refused_without_a_wecom_call(
        params, make_context, wecom_conn, "Airflow has no human-in-the-loop record of approve_deletion"
    )
    assert APPROVALS.reads == [("offboard_employee", "offboard-lisi", "approve_deletion")]


def test_a_forged_ledger_entry_next_to_a_real_rejection_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    record_verified(params, write_backup(params))
    record_answer(params, "approval.rejected")  # what the approver really answered in Airflow
    ledger_of(params).append(
        "approval.approved",
        actor="approver",
        step="approve_deletion",
        result={
            "chosen": "Approve",
            "run_id": "offboard-lisi",
            "ti_id": "forged",
            "manifest_sha256": manifest_sha256_on_disk(store_of(params), case_id(params)),
        },
    )
    refused_without_a_wecom_call(params, make_context, wecom_conn, "is not an approval")


def test_a_ledger_entry_naming_another_task_instance_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    (approved,) = entries(params, "approval.approved")
    ledger_of(params).append(
        "approval.approved",
        actor="approver",
        step="approve_deletion",
        result={**approved.result, "ti_id": "x"},
    )
    refused_without_a_wecom_call(params, make_context, wecom_conn, "names task instance 'x'")


def test_an_approval_from_before_a_rebackup_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    allow_deletion(params)  # approved for the first backup
    record_verified(params, write_backup(params))  # a new backup, verified after the approval
    refused_without_a_wecom_call(params, make_context, wecom_conn, "the backup changed after the approval")


def test_an_airflow_answer_from_before_the_backup_was_verified_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    import datetime as dt

    params = sample_person_case()
    allow_deletion(params)
    ((dag_id, run_id, task_id), record) = next(iter(APPROVALS.records.items()))
    APPROVALS.record(
        dag_id=dag_id,
        run_id=run_id,
        task_id=task_id,
        ti_id=record.ti_id,
        by="approver",
        at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    refused_without_a_wecom_call(params, make_context, wecom_conn, "before the backup was verified")


def test_an_approval_from_another_run_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    record_verified(params, write_backup(params))
    record_answer(params, run_id="manual__2026-11-01")  # approved in an earlier run of the same case
    refused_without_a_wecom_call(params, make_context, wecom_conn, "was given in run 'manual__2026-11-01'")


@pytest.mark.parametrize(
    ("approver", "why"),
    [
        ("ops", "the user who triggered this case"),
        ("lisi", r"the departing person \(userid\)"),
        ("wangwu", r"the successor \(successor_userid\)"),
    ],
    ids=["self-approval by the trigger user", "the person", "the successor"],
)
def test_a_self_approval_is_refused_inside_the_deletion(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, approver: str, why: str
) -> None:
    """Even when Airflow recorded the answer (the trigger form named them), the deletion refuses."""
    params = sample_person_case(approvers=[approver])
    record_verified(params, write_backup(params))
    with pytest.raises(AirflowFailException, match=f"approval does not count: {approver} is {why}"):
        APPROVALS.approve(params, by=approver)  # the approval task itself does not count it ...
    # ... and a ledger entry saying it did (written by hand next to Airflow's record) does not help.
    (record,) = APPROVALS.records.values()
    ledger_of(params).append(
        "approval.approved",
        actor=approver,
        step="approve_deletion",
        result={
            "chosen": "Approve",
            "run_id": case_id(params),
            "ti_id": record.ti_id,
            "manifest_sha256": manifest_sha256_on_disk(store_of(params), case_id(params)),
        },
    )
    refused_without_a_wecom_call(params, make_context, wecom_conn, f"approvers: {approver} is {why}")


def test_an_answer_by_someone_not_assigned_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    """E.g. an administrator when ``simple_auth_manager_all_admins`` lets anyone answer."""
    params = sample_person_case()
    record_verified(params, write_backup(params))
    with pytest.raises(AirflowFailException, match="approval does not count: approver2 is not one of"):
        APPROVALS.approve(params, by="approver2")
    assert [e.action for e in ledger_of(params).entries()][-1] == "approval.not_counted"
    refused_without_a_wecom_call(params, make_context, wecom_conn, "approval.approved missing")


def test_an_approver_not_on_the_deployment_list_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case(approvers=["stranger"])
    record_verified(params, write_backup(params))
    refused_without_a_wecom_call(
        params, make_context, wecom_conn, "approvers: stranger is not on the deployment's approver list"
    )


def test_without_a_deployment_approver_list_every_deletion_is_refused(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sample_person_case()
    allow_deletion(params)
    monkeypatch.delenv("AIRFLOW_VAR_OFFBOARDING_APPROVERS")
    refused_without_a_wecom_call(
        params, make_context, wecom_conn, "set the Airflow Variable offboarding_approvers"
    )
