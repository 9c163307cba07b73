"""The phases of a departing person's case (``offboard_employee``), one factory each.

The order is the seed article's, made safe: nothing is removed before a verified backup and an
approval; the member is disabled (reversible) before being deleted (irreversible); the person's
statutory steps block only the account deregistration, not the backup or the handover.
"""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import TaskGroup, TriggerRule

from offboarding.operators.approval import ApproveDeletionOperator
from offboarding.operators.backup import (
    ExportCustomersAndGroupsOperator,
    ExportWeDriveFilesOperator,
    SnapshotProfileOperator,
    VerifyBackupManifestOperator,
)
from offboarding.operators.base import with_retry_defaults
from offboarding.operators.branches import ChooseStatutoryStepsOperator
from offboarding.operators.close import CloseCaseOperator
from offboarding.operators.deletion import DeleteMemberOperator, TransferResignedCustomersOperator
from offboarding.operators.handover import (
    DisableMemberOperator,
    HandOverCustomerGroupsOperator,
    HandOverCustomersOperator,
    LeaveTagsAndGroupChatsOperator,
)
from offboarding.operators.human_step import EvidenceField, HumanStepOperator
from offboarding.operators.preflight import CheckCaseOperator, CheckMemberAndSuccessorOperator
from offboarding.sensors.last_working_day import WaitForLastWorkingDaySensor
from offboarding.sensors.takeover import WaitForCustomerTakeoverSensor
from offboarding.settings import wecom_backups_pool, wecom_writes_pool
from offboarding.workflows import docs

PERSON_OWNER = "{{ params.airflow_user or params.userid }}"
# 24:00 Asia/Shanghai of the last working day, i.e. 00:00 of the next day.
END_OF_LAST_WORKING_DAY = (
    "{{ (macros.datetime.fromisoformat(params.last_working_day) + macros.timedelta(days=1))"
    ".strftime('%Y-%m-%dT00:00:00+08:00') }}"
)


def preflight() -> TaskGroup:
    with TaskGroup("preflight", tooltip="Check the case, the member and the successor") as group:
        check = CheckCaseOperator(task_id="check_case", doc_md=docs.CHECK_CASE)
        member = CheckMemberAndSuccessorOperator(
            task_id="check_member_and_successor", doc_md=docs.CHECK_MEMBER
        )
        wait = wait_for_last_working_day()
        check >> member >> wait
    return group


def wait_for_last_working_day() -> WaitForLastWorkingDaySensor:
    """The legal wait until 24:00 Asia/Shanghai of the form's ``last_working_day`` (a person's, a list's)."""
    return WaitForLastWorkingDaySensor(  # re-reads a rescheduled day when it wakes
        task_id="wait_for_last_working_day",
        deadline=END_OF_LAST_WORKING_DAY,
        anchor="{{ dag_run.run_after }}",
        time_scale="{{ params.time_scale }}",
        label="last working day",
        deadline_name="last_working_day",
        doc_md=docs.WAIT_LAST_DAY,
    )


def backup() -> TaskGroup:
    with TaskGroup("backup", tooltip="Back up everything reachable, then verify it") as group:
        snapshot = SnapshotProfileOperator(
            task_id="snapshot_profile_and_memberships", doc_md=docs.SNAPSHOT, pool=wecom_backups_pool()
        )
        customers = ExportCustomersAndGroupsOperator(
            task_id="export_customers_and_groups", doc_md=docs.EXPORT_CUSTOMERS, pool=wecom_backups_pool()
        )
        files = ExportWeDriveFilesOperator(
            task_id="export_wedrive_files", doc_md=docs.EXPORT_WEDRIVE, pool=wecom_backups_pool()
        )
        verify = VerifyBackupManifestOperator(task_id="verify_backup_manifest", doc_md=docs.VERIFY_BACKUP)
        [snapshot, customers, files] >> verify
    return group


def statutory_steps() -> TaskGroup:
    """社保减员, 公积金封存, 退工登记 for everyone; the tax role and legal-representative change by role."""
    with TaskGroup(
        "statutory_steps", tooltip="Social insurance, housing fund, termination record; tax roles"
    ) as group:
        chosen = ChooseStatutoryStepsOperator(
            task_id="choose_statutory_steps", doc_md=docs.CHOOSE_STATUTORY, **with_retry_defaults({})
        )
        hr_steps = [
            HumanStepOperator(
                task_id="stop_social_insurance",
                subject="社保减员: stop social insurance for {{ params.display_name }} ({{ params.userid }})",
                body=docs.STOP_SOCIAL_INSURANCE_BODY,
                assignees="{{ params.hr_owner }}",
                evidence={
                    "stopped_on": EvidenceField("Stopped on (减员日期)", format="date"),
                    "reference": EvidenceField("Reference (业务流水号)", "Receipt or transaction number"),
                },
                doc_md=docs.HUMAN_STEP,
            ),
            HumanStepOperator(
                task_id="seal_housing_fund",
                subject="公积金封存: seal the housing fund account of {{ params.display_name }}",
                body=docs.SEAL_HOUSING_FUND_BODY,
                assignees="{{ params.hr_owner }}",
                evidence={
                    "sealed_on": EvidenceField("Sealed on (封存日期)", format="date"),
                    "reference": EvidenceField("Reference (业务流水号)"),
                },
                doc_md=docs.HUMAN_STEP,
            ),
            HumanStepOperator(
                task_id="issue_termination_record",
                subject="退工登记 / 离职证明: termination record for {{ params.display_name }}",
                body=docs.TERMINATION_RECORD_BODY,
                assignees="{{ params.hr_owner }}",
                evidence={
                    "registered_on": EvidenceField("退工登记 date", format="date"),
                    "certificate_issued_on": EvidenceField("离职证明 issued on", format="date"),
                },
                doc_md=docs.HUMAN_STEP,
            ),
        ]
        role_steps = [
            HumanStepOperator(
                task_id="hand_over_tax_role",
                subject="办税人员 / 财务负责人: hand over {{ params.display_name }}'s tax role in the electronic tax bureau",
                body=docs.TAX_ROLE_BODY,
                assignees=PERSON_OWNER,
                evidence={
                    "changed_on": EvidenceField("Change registered on", format="date"),
                    "new_holder": EvidenceField("New 办税人员 / 财务负责人"),
                    "reference": EvidenceField("Tax bureau reference (受理编号)"),
                },
                doc_md=docs.HUMAN_STEP,
            ),
            HumanStepOperator(
                task_id="register_legal_representative_change",
                subject="法定代表人变更: register the change of legal representative (within 30 days)",
                body=docs.LEGAL_REP_CHANGE_BODY,
                assignees=PERSON_OWNER,
                evidence={
                    "registered_on": EvidenceField("Change registered on", format="date"),
                    "new_legal_representative": EvidenceField("New legal representative"),
                    "reference": EvidenceField("Registration reference (受理通知书编号)"),
                },
                doc_md=docs.HUMAN_STEP,
            ),
        ]
        done = EmptyOperator(
            task_id="statutory_steps_done",
            trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
            doc_md=docs.STATUTORY_DONE,
        )
        chosen >> [*hr_steps, *role_steps] >> done
    return group


def handover() -> TaskGroup:
    with TaskGroup("handover", tooltip="Customers, groups, tags, chats to the successor; disable") as group:
        customers = HandOverCustomersOperator(
            task_id="hand_over_customers", doc_md=docs.HAND_OVER_CUSTOMERS, pool=wecom_writes_pool()
        )
        groups = HandOverCustomerGroupsOperator(
            task_id="hand_over_customer_groups", doc_md=docs.HAND_OVER_GROUPS, pool=wecom_writes_pool()
        )
        leave = LeaveTagsAndGroupChatsOperator(
            task_id="leave_tags_and_group_chats", doc_md=docs.LEAVE_TAGS, pool=wecom_writes_pool()
        )
        disable = DisableMemberOperator(
            task_id="disable_member", doc_md=docs.DISABLE_MEMBER, pool=wecom_writes_pool()
        )
        [customers, groups, leave] >> disable
    return group


def approve_deletion() -> ApproveDeletionOperator:
    return ApproveDeletionOperator(task_id="approve_deletion", doc_md=docs.APPROVE_DELETION)


def deletion() -> TaskGroup:
    with TaskGroup("deletion", tooltip="Delete the member, inherit the rest, wait for takeover") as group:
        delete = DeleteMemberOperator(
            task_id="delete_member", doc_md=docs.DELETE_MEMBER, pool=wecom_writes_pool()
        )
        resigned = TransferResignedCustomersOperator(
            task_id="transfer_resigned_customers", doc_md=docs.TRANSFER_RESIGNED, pool=wecom_writes_pool()
        )
        takeover = WaitForCustomerTakeoverSensor(
            task_id="wait_for_customer_takeover", doc_md=docs.WAIT_TAKEOVER
        )
        delete >> resigned >> takeover
    return group


def close_case() -> CloseCaseOperator:
    return CloseCaseOperator(
        task_id="close_case", trigger_rule=TriggerRule.NONE_FAILED, doc_md=docs.CLOSE_CASE
    )
