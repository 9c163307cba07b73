"""Run a person case's operators in the DAG's order against the sandbox, counting WeCom calls per task.

The order is ``offboard_employee``'s: preflight, backup, handover, (approval; the deregistration guide),
deletion, then the account deregistration's check. Human steps are answered the way their operators
record it (the approval: Airflow's record, kept in memory, and its ledger entry); they call no WeCom
API. The takeover wait is run up to its first read (it then defers; its polling is measured per day by
the waiting_cost bench).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.environment import bench_backup_root
from benchmarks.person_minimum import HandoverOutcome, PersonFacts
from benchmarks.task_context import MemoryTaskInstance, approval_context, run_task

SUCCESSOR = "wangwu"
APP_CHATS = ["chat_sales_weekly", "chat_other_app"]
"""Group chats the app created, as a deployment lists them in the connection extra ``app_chat_ids``."""


@dataclass
class PersonRun:
    """Calls per task of one case, and what the handover tasks returned."""

    member: str
    calls: dict[str, Counter[str]] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    deferred: bool = False

    def outcome(self) -> HandoverOutcome:
        customers = self.results.get("handover.hand_over_customers") or {}
        groups = self.results.get("handover.hand_over_customer_groups") or {}
        return HandoverOutcome(
            customers_left=int(customers.get("failed", 0)),
            groups_left=int(groups.get("failed", 0)) + int(groups.get("deferred", 0)),
        )


def person_params(member: str, backups: Path, *, spaces: list[str], deregister: bool) -> dict[str, Any]:
    return {
        "userid": member,
        "display_name": member,
        "successor_userid": SUCCESSOR,
        "last_working_day": "2026-11-20",
        "role": "employee",
        "hr_owner": "hr",
        "backup_target": bench_backup_root(backups),
        "approvers": ["approver"],
        "deregister_account": deregister,
        "dry_run": False,
        "notify": {"webhook_conn_id": None, "userids": []},
        "wecom_conn_id": "wecom_default",
        "time_scale": 1,
        "wedrive_space_ids": spaces,
    }


def steps(member: str) -> list[tuple[str, Callable[[], Any] | None]]:
    """(task id, operator factory) in the DAG's order; None = a human step, answered in the ledger."""
    from offboarding.operators.backup import (
        ExportCustomersAndGroupsOperator,
        ExportWeDriveFilesOperator,
        SnapshotProfileOperator,
        VerifyBackupManifestOperator,
    )
    from offboarding.operators.close import CloseCaseOperator
    from offboarding.operators.deletion import DeleteMemberOperator, TransferResignedCustomersOperator
    from offboarding.operators.deregistration import (
        SendDeregistrationGuideOperator,
        VerifyAccountGoneOperator,
    )
    from offboarding.operators.handover import (
        DisableMemberOperator,
        HandOverCustomerGroupsOperator,
        HandOverCustomersOperator,
        LeaveTagsAndGroupChatsOperator,
    )
    from offboarding.operators.preflight import CheckCaseOperator, CheckMemberAndSuccessorOperator
    from offboarding.sensors.takeover import WaitForCustomerTakeoverSensor

    def op(cls: Any, task_id: str, **kwargs: Any) -> Callable[[], Any]:
        return lambda: cls(task_id=task_id.rsplit(".", 1)[-1], **kwargs)

    return [
        ("preflight.check_case", op(CheckCaseOperator, "preflight.check_case")),
        (
            "preflight.check_member_and_successor",
            op(CheckMemberAndSuccessorOperator, "check_member_and_successor"),
        ),
        (
            "backup.snapshot_profile_and_memberships",
            op(SnapshotProfileOperator, "snapshot_profile_and_memberships"),
        ),
        (
            "backup.export_customers_and_groups",
            op(ExportCustomersAndGroupsOperator, "export_customers_and_groups"),
        ),
        ("backup.export_wedrive_files", op(ExportWeDriveFilesOperator, "export_wedrive_files")),
        ("backup.verify_backup_manifest", op(VerifyBackupManifestOperator, "verify_backup_manifest")),
        ("handover.hand_over_customers", op(HandOverCustomersOperator, "hand_over_customers")),
        (
            "handover.hand_over_customer_groups",
            op(HandOverCustomerGroupsOperator, "hand_over_customer_groups"),
        ),
        (
            "handover.leave_tags_and_group_chats",
            op(LeaveTagsAndGroupChatsOperator, "leave_tags_and_group_chats"),
        ),
        ("handover.disable_member", op(DisableMemberOperator, "disable_member")),
        ("approve_deletion", None),
        (
            "account_deregistration.send_deregistration_guide",
            op(SendDeregistrationGuideOperator, "send_deregistration_guide", userid=member),
        ),
        ("deletion.delete_member", op(DeleteMemberOperator, "delete_member")),
        ("account_deregistration.record_submission", None),
        (
            "deletion.transfer_resigned_customers",
            op(TransferResignedCustomersOperator, "transfer_resigned_customers"),
        ),
        (
            "deletion.wait_for_customer_takeover",
            op(WaitForCustomerTakeoverSensor, "wait_for_customer_takeover"),
        ),
        (
            "account_deregistration.verify_account_gone",
            op(VerifyAccountGoneOperator, "verify_account_gone", userid=member),
        ),
        ("close_case", op(CloseCaseOperator, "close_case")),
    ]


def run_person_case(sandbox: Any, params: dict[str, Any]) -> PersonRun:
    """Execute every step of one case; calls per task from the sandbox's stats around each step."""
    from airflow.sdk.exceptions import TaskDeferred

    from offboarding_dev.testing.approvals import approvals_in_memory
    from offboarding_dev.testing.controls import case_services_in_memory

    member = params["userid"]
    run_id = f"offboard-{member}"
    ti = MemoryTaskInstance()
    run = PersonRun(member)
    # No api-server here: the case's controls (no hold) and the member's other cases (none) come from memory.
    with approvals_in_memory(approval_context) as approvals, case_services_in_memory():
        for task_id, factory in steps(member):
            if not params["deregister_account"] and task_id.startswith("account_deregistration."):
                continue
            before = Counter(sandbox.control.stats(include_writes=False)["calls"])
            if factory is None:
                answer_human_step(params, run_id, task_id, approvals)
            else:
                try:
                    run.results[task_id] = run_task(factory(), params, task_id=task_id, run_id=run_id, ti=ti)
                except TaskDeferred:
                    run.deferred = True
            after = Counter(sandbox.control.stats(include_writes=False)["calls"])
            run.calls[task_id] = +(after - before)
    return run


def answer_human_step(params: dict[str, Any], run_id: str, task_id: str, approvals: Any) -> None:
    """What a human step records when answered (no WeCom call): the approval (Airflow's record and the
    ledger entry, see offboarding_dev.testing.approvals), or a deregistration request submitted 30 days
    ago (its cooling-off is over: verify_account_gone checks it itself)."""
    if task_id == "approve_deletion":
        approvals.approve(params, run_id=run_id, user="bench")
        return
    import pendulum

    from offboarding.backup.roots import resolve_backup_root
    from offboarding.backup.storage import BackupStore
    from offboarding.evidence.keys import key_from_environment
    from offboarding.evidence.ledger import EvidenceLedger

    submitted_at = pendulum.now("Asia/Shanghai").subtract(days=30).isoformat()
    EvidenceLedger(
        BackupStore(resolve_backup_root(params["backup_target"]).url), run_id, key=key_from_environment()
    ).append(
        "human_step.answered",
        actor=params["userid"],
        step=task_id,
        result={"chosen_options": ["Done"], "evidence": {"submitted_at": submitted_at}},
    )


def read_facts(sandbox: Any, member: str, spaces: list[str]) -> PersonFacts:
    """What WeCom holds for ``member``, read through the API with a client of its own (not counted)."""
    from offboarding.wecom.app_chats import AppChats
    from offboarding.wecom.client import WeComClient
    from offboarding.wecom.customer_contacts import CustomerContacts
    from offboarding.wecom.errors import WeComDataError
    from offboarding.wecom.tags import Tags
    from offboarding.wecom.token_cache import MemoryTokenCache
    from offboarding.wecom.wedrive import FOLDER, WeDrive

    ordinary_file = 2  # WeDrive file_type of a downloadable file

    from benchmarks.environment import APP_SECRET, CUSTOMER_SECRET

    def client(secret: str) -> WeComClient:
        return WeComClient(sandbox.corpid, secret, base_url=sandbox.base_url, token_cache=MemoryTokenCache())

    app, customers = client(APP_SECRET), CustomerContacts(client(CUSTOMER_SECRET))
    tags = Tags(app)
    corp_tags = [int(t["tagid"]) for t in tags.list_tags()]
    member_tags = sum(
        1 for t in corp_tags if any(u.get("userid") == member for u in tags.get_tag(t).get("userlist", []))
    )
    chats_holding = 0
    for chat in APP_CHATS:
        try:
            chats_holding += member in AppChats(app).get(chat).get("userlist", [])
        except WeComDataError:
            continue  # created by another app: WeCom will not let this app change it
    folders = files = 0
    for space in spaces:
        items = list(WeDrive(app).iter_files(space))
        folders += 1 + sum(1 for i in items if int(i.get("file_type", 0)) == FOLDER)
        files += sum(1 for i in items if int(i.get("file_type", 0)) == ordinary_file)
    return PersonFacts(
        member=member,
        customers=len(customers.list_customers(member)),
        groups=sum(1 for _ in customers.iter_group_chats(owner=member)),
        corp_tags=len(corp_tags),
        member_tags=member_tags,
        app_chats=len(APP_CHATS),
        app_chats_holding_member=chats_holding,
        wedrive_folders=folders,
        wedrive_files=files,
        unassigned_customers=sum(1 for _ in customers.iter_unassigned()),
    )
