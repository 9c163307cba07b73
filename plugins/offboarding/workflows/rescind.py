"""``offboarding_rescind``: undo a rescinded case, in reverse order of what the offboarding did.

Triggered by the plugin's rescind handler (run id ``rescind-<case_id>-<action_id>``, conf ``{case_id,
dag_id, run_id, reason, action_id}``), never by hand: the handler has recorded the rescind, skipped the
case run's steps that had not started and stopped its human steps asking.
"""

from __future__ import annotations

from airflow.sdk import TaskGroup

from offboarding.operators.rescind import (
    CheckRescindAllowedOperator,
    HandBackCustomerGroupsOperator,
    HandBackCustomersOperator,
    RecordRescindedOperator,
    ReEnableMemberOperator,
    RestoreTagsAndChatsOperator,
    WaitForCaseRunToStopSensor,
    WaitForCustomersBackOperator,
)

STALLED = (
    "\n\n**If it stalls or fails:** the log says why; the connection `offboarding_airflow_api` (the rescind "
    "reads the case run over REST) and the WeCom connection of the case must work. Every step reads WeCom "
    "before it writes, so clearing it is safe."
)
WAIT_FOR_CASE_RUN = (
    "**Wait until the case run has stopped.** The rescind already skipped every step of the case that had not "
    "started; a step that was running finishes at its safe point. This waits (reschedule mode, no worker slot "
    "between checks) until no step of the case run is running, queued, deferred or up for retry."
    "\n\n**If it stalls:** a step of the case run is still running: look at it in the case run; when it "
    "cannot finish, mark it failed there, and this wait ends."
)
CHECK_ALLOWED = (
    "**Refuse when it is too late.** Once the member was deleted from WeCom nothing can be undone (a new "
    "account would be a new person): this step then fails naming when, and what can still be done "
    "(re-invite the person, hand customers back on-job). Makes no WeCom call; records `rescind.started`."
    + STALLED
)
RE_ENABLE = (
    "**Re-enable the member** (`user/update` `enable: 1`) and put them back in the departments of the profile "
    "snapshot, in one call, then read back. Only what the offboarding changed is changed back; records "
    "`rescind.member_enabled`." + STALLED
)
RESTORE_MEMBERSHIPS = (
    "**Put the member back in the app-created tags** (`tag/addtagusers`) **and app group chats** "
    "(`appchat/update` `add_user_list`, and the ownership when they owned the chat) that the handover took "
    "them out of. Tags or chats WeCom does not let this app change are listed with the errcode; records "
    "`rescind.memberships_restored`." + STALLED
)
HAND_BACK_GROUPS = (
    "**Hand the customer groups back** that went to the successor (on-job group transfer), one outcome per "
    "group (errcode and reason when WeCom refuses, e.g. a group transferred too often); records "
    "`rescind.customer_groups_handed_back`." + STALLED
)
HAND_BACK_CUSTOMERS = (
    "**Hand the customers back** that the successor took over (在职继承 successor → member). Waits first "
    "(deferred) while the successor's takeover is still pending. WeCom allows two on-job transfers of a "
    "customer in 90 days: a customer refused (40128) stays with the successor and is listed with the errcode "
    "and reason, never dropped; records `rescind.customers_handed_back`." + STALLED
)
WAIT_CUSTOMERS_BACK = (
    "**Wait until WeCom has settled every customer handed back** (deferred, polled at the policy's "
    "transfer-result interval), then list per customer: back (taken over), refused by the customer, or the "
    "member at the customer limit; records `rescind.customers_back_settled`." + STALLED
)
RECORD_RESCINDED = (
    "**Record `case.rescinded`** in the case's evidence ledger with what each step undid and what WeCom "
    "refused. The case shows *rescinded* once this run succeeded." + STALLED
)


def undo_case() -> TaskGroup:
    """The undo, in reverse order of the offboarding: enable, memberships, groups, customers, record."""
    with TaskGroup("undo", tooltip="Undo what the offboarding did, as far as WeCom allows") as group:
        stopped = WaitForCaseRunToStopSensor(task_id="wait_for_case_run_to_stop", doc_md=WAIT_FOR_CASE_RUN)
        allowed = CheckRescindAllowedOperator(task_id="check_rescind_allowed", doc_md=CHECK_ALLOWED)
        enable = ReEnableMemberOperator(task_id="re_enable_member", doc_md=RE_ENABLE)
        memberships = RestoreTagsAndChatsOperator(
            task_id="restore_tags_and_app_chats", doc_md=RESTORE_MEMBERSHIPS
        )
        groups = HandBackCustomerGroupsOperator(task_id="hand_back_customer_groups", doc_md=HAND_BACK_GROUPS)
        customers = HandBackCustomersOperator(task_id="hand_back_customers", doc_md=HAND_BACK_CUSTOMERS)
        back = WaitForCustomersBackOperator(task_id="wait_for_customers_back", doc_md=WAIT_CUSTOMERS_BACK)
        record = RecordRescindedOperator(task_id="record_rescinded", doc_md=RECORD_RESCINDED)
        stopped >> allowed >> enable >> memberships >> groups >> customers >> back >> record
    return group
