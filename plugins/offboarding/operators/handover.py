"""Handover while the member still exists: customers, customer groups, tags and chats, then disable.

Four tasks of the ``handover`` group, each safe to rerun: it reads WeCom first and acts only on what is
left, and items that failed before (kept in the task's results file) are not sent again.

* :class:`HandOverCustomersOperator` (在职继承) — customers → successor, ``handover/customers_onjob.json``.
* :class:`HandOverCustomerGroupsOperator` — customer groups → successor (≤ 300 per day),
  ``handover/customer_groups_onjob.json``.
* :class:`LeaveTagsAndGroupChatsOperator` — out of the app's tags and app chats,
  ``handover/tags_and_chats.json``.
* :class:`DisableMemberOperator` — ``enable=0`` (+ the leavers' department), read back.

Results files live in the case's backup folder and hold one record per item::

    {"member": "lisi", "successor": "wangwu", "updated_at": "...", "counts": {"started": 10, ...},
     "items": {"wm_lisi_001": {"outcome": "started"}, "wm_lisi_011": {"outcome": "failed",
               "errcode": 40128, "errmsg": "..."}}}

Ledger actions (key = the member's userid): ``customers.handed_over``, ``customer_groups.handed_over``
(result ``successor``, ``day`` (Asia/Shanghai) and ``started``: what counts toward WeCom's daily group
allowance), ``memberships.left``, ``member.disabled``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import pendulum
from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.backup_common import (
    SNAPSHOT_TASK_ID,
    is_member_gone,
    member_userid,
    record_evidence,
)
from offboarding.operators.base import Case, CaseOperator
from offboarding.operators.deadlines import LAST_WORKING_DAY, require_deadline_passed
from offboarding.triggers.takeover import read_takeover_status, status_name
from offboarding.wecom.errors import WeComDataError, WeComError
from offboarding.wecom.results import ItemResults

CUSTOMERS_ONJOB_PATH = "handover/customers_onjob.json"
GROUPS_ONJOB_PATH = "handover/customer_groups_onjob.json"
TAGS_AND_CHATS_PATH = "handover/tags_and_chats.json"

GROUP_TRANSFERS_PER_DAY = 300
"""WeCom's rule: at most 300 customer groups a day from one owner to one new owner (on-job and resigned)."""
GROUP_ALLOWANCE_ACTIONS = ("customer_groups.handed_over", "customer_groups.inherited")
"""Ledger actions whose ``started`` counts toward the daily group allowance."""
GROUP_DAILY_LIMIT_ERRCODES = frozenset({90503})
"""Per-group answers meaning "today's allowance is used up": deferred, not failed. 90503 is the sandbox's
code; WeCom's real one is UNCONFIRMED (the 300/day rule itself is documented)."""

PER_ITEM_ERRCODES = frozenset({81011, 40068, 40031, 86003, 86008, 86216})
"""Answers about one tag or app chat (not created by this app, gone, not allowed): surfaced, not fatal."""
MANUAL_STEP = {
    81011: "the tag was not created by this app: remove the member in the WeCom admin console",
    86008: "the chat was created by another app or a person: remove the member in the WeCom client",
    86003: "no such chat: remove its id from the connection extra app_chat_ids",
    40068: "no such tag any more: nothing to do",
}

DISABLED_STATUS = 2


# -- shared by the handover and deletion tasks --------------------------------------------------------


def handover_pair(case: Case) -> tuple[str, str]:
    """(member, successor) from the form, or a clear failure naming the field."""
    member = member_userid(case)
    successor = case.conf.get("successor_userid")
    if not isinstance(successor, str) or not successor.strip():
        raise AirflowFailException(
            f"successor_userid: must be the successor's WeCom userid, got {successor!r}"
        )
    if successor == member:
        raise AirflowFailException(f"successor_userid: must be someone other than the member {member!r}")
    return member, successor


def read_member(hook: Any, userid: str) -> dict[str, Any] | None:
    """``user/get`` of the member, or None when WeCom no longer knows them (60111/40003)."""
    try:
        return hook.contacts.get_user(userid)
    except WeComDataError as err:
        if is_member_gone(err):
            return None
        raise


def china_today() -> date:
    """Today's date in Asia/Shanghai (WeCom's "day" for daily allowances)."""
    return pendulum.now("Asia/Shanghai").date()


def groups_started_today(case: Case, member: str, successor: str, day: date) -> int:
    """Customer groups already handed from ``member`` to ``successor`` on ``day``, per the ledger."""
    started = 0
    for entry in case.ledger.entries():
        if entry.action not in GROUP_ALLOWANCE_ACTIONS or entry.key != member:
            continue
        result = entry.result if isinstance(entry.result, Mapping) else {}
        if result.get("successor") == successor and result.get("day") == day.isoformat():
            started += int(result.get("started") or 0)
    return started


def load_outcomes(case: Case, relpath: str, member: str, successor: str) -> dict[str, dict[str, Any]]:
    """Per-item outcomes a previous try wrote to ``relpath`` for the same member and successor."""
    if not case.store.exists(case.case_id, relpath):
        return {}
    previous = json.loads(case.store.read_bytes(case.case_id, relpath))
    if not isinstance(previous, Mapping) or (previous.get("member"), previous.get("successor")) != (
        member,
        successor,
    ):
        return {}
    items = previous.get("items")
    return {str(k): dict(v) for k, v in items.items()} if isinstance(items, Mapping) else {}


def save_outcomes(
    case: Case,
    relpath: str,
    member: str,
    successor: str,
    items: Mapping[str, Mapping[str, Any]],
    **extra: Any,
) -> dict[str, int]:
    """Write the per-item outcomes file; returns the count per outcome."""
    counts = dict(Counter(str(v.get("outcome")) for v in items.values()))
    case.store.write_json(
        case.case_id,
        relpath,
        {
            "member": member,
            "successor": successor,
            "updated_at": datetime.now(UTC).isoformat(),
            "counts": counts,
            "items": {k: dict(v) for k, v in items.items()},
            **extra,
        },
        source="handover",
    )
    return counts


def outcomes_of(results: ItemResults, *, deferred_errcodes: Iterable[int] = ()) -> dict[str, dict[str, Any]]:
    """Per-item records of a bulk call: ``started``, ``in_progress``, ``deferred`` or ``failed`` (+ errcode)."""
    deferred = frozenset(deferred_errcodes)
    items: dict[str, dict[str, Any]] = {i: {"outcome": "started"} for i in results.succeeded}
    items.update({i: {"outcome": "in_progress"} for i in results.in_progress})
    for failure in results.failed:
        outcome = "deferred" if failure.errcode in deferred else "failed"
        items[failure.item] = {"outcome": outcome, "errcode": failure.errcode, "errmsg": failure.errmsg}
    return items


def errcode_counts(items: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """How many failed items per errcode (``{"40128": 1}``)."""
    return dict(Counter(str(v.get("errcode")) for v in items.values() if v.get("outcome") == "failed"))


def split_by_allowance(
    case: Case, member: str, successor: str, chat_ids: list[str]
) -> tuple[list[str], list[str], date]:
    """(send now, defer to another day, today) under WeCom's daily group allowance."""
    day = china_today()
    left = max(GROUP_TRANSFERS_PER_DAY - groups_started_today(case, member, successor, day), 0)
    return chat_ids[:left], chat_ids[left:], day


# -- customers ----------------------------------------------------------------------------------------


class HandOverCustomersOperator(CaseOperator):
    """在职继承: hand every customer the member follows to ``successor_userid`` (on-job transfer).

    Reads ``transfer_result`` first: customers already in transfer or transferred to the successor are
    not sent again, nor are customers that failed before (e.g. 40128, too many transfers in 90 days):
    those are kept in ``handover/customers_onjob.json`` for the resigned transfer after deletion. WeCom
    answers per customer; "started" means WeCom takes the customer over automatically after 24 h.
    Member already deleted → nothing to do (recorded). Returns counts and the file path.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        member, successor = handover_pair(case)
        require_deadline_passed(
            case,
            LAST_WORKING_DAY,
            step=self.task_id,
            what=f"handing over {member}'s customers",
            context=context,
        )
        if read_member(self.hook, member) is None:
            return self._member_gone(case, member, successor)
        customers = self.hook.customer_contacts.list_customers(member)
        known = read_takeover_status(self.hook.customer_contacts, member, successor).customers
        previous = load_outcomes(case, CUSTOMERS_ONJOB_PATH, member, successor)
        items: dict[str, dict[str, Any]] = {}
        to_send: list[str] = []
        for customer in customers:
            if customer in known:
                items[customer] = {
                    "outcome": "in_transfer",
                    "status": status_name(known[customer].status),
                }
            elif previous.get(customer, {}).get("outcome") == "failed":
                items[customer] = previous[customer]
            else:
                to_send.append(customer)
        if to_send:
            results = self.hook.customer_contacts.transfer_customers(
                member, successor, to_send, resigned=False
            )
            items.update(outcomes_of(results))
        counts = save_outcomes(case, CUSTOMERS_ONJOB_PATH, member, successor, items)
        summary = {
            "member": member,
            "successor": successor,
            "customers": len(customers),
            "sent": len(to_send),
            "started": counts.get("started", 0),
            "in_progress": counts.get("in_progress", 0),
            "in_transfer_before": counts.get("in_transfer", 0),
            "failed": counts.get("failed", 0),
            "failed_errcodes": errcode_counts(items),
            "file": CUSTOMERS_ONJOB_PATH,
        }
        record_evidence(
            case,
            self.task_id,
            "customers.handed_over",
            key=member,
            request={"member": member, "successor": successor, "kind": "onjob", "sent": len(to_send)},
            result=summary,
        )
        self.log.info(
            "Customers of %s → %s: %d in all, %d sent now (%d started, %d already in progress), %d were "
            "already in transfer, %d failed (kept for the resigned transfer after deletion: %s)",
            member,
            successor,
            len(customers),
            len(to_send),
            summary["started"],
            summary["in_progress"],
            summary["in_transfer_before"],
            summary["failed"],
            summary["failed_errcodes"] or "none",
        )
        return summary

    def _member_gone(self, case: Case, member: str, successor: str) -> dict[str, Any]:
        summary = {
            "member": member,
            "successor": successor,
            "member_deleted": True,
            "customers": 0,
            "sent": 0,
        }
        self.log.info("%s no longer exists in WeCom: the resigned transfer after deletion takes over", member)
        record_evidence(
            case,
            self.task_id,
            "customers.handed_over",
            key=member,
            request={"member": member, "successor": successor, "kind": "onjob"},
            result={**summary, "note": "member already deleted: nothing to hand over on-job"},
        )
        return summary


# -- customer groups ----------------------------------------------------------------------------------


class HandOverCustomerGroupsOperator(CaseOperator):
    """Hand the customer groups the member owns to the successor (``groupchat/onjob_transfer``).

    WeCom changes the owner at once, so a rerun finds only the groups still owned by the member; groups
    that failed before are kept in ``handover/customer_groups_onjob.json`` and not sent again. At most
    300 groups a day go from one owner to one new owner: beyond what today's allowance leaves (counted
    from the ledger), groups are recorded as deferred for a rerun tomorrow or the resigned transfer.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        member, successor = handover_pair(case)
        require_deadline_passed(
            case,
            LAST_WORKING_DAY,
            step=self.task_id,
            what=f"handing over {member}'s customer groups",
            context=context,
        )
        if read_member(self.hook, member) is None:
            return self._member_gone(case, member, successor)
        owned = [g["chat_id"] for g in self.hook.customer_contacts.iter_group_chats(owner=member)]
        previous = load_outcomes(case, GROUPS_ONJOB_PATH, member, successor)
        failed_before = {c: previous[c] for c in owned if previous.get(c, {}).get("outcome") == "failed"}
        candidates = [c for c in owned if c not in failed_before]
        send, deferred, day = split_by_allowance(case, member, successor, candidates)
        items: dict[str, dict[str, Any]] = dict(failed_before)
        if send:
            results = self.hook.customer_contacts.transfer_group_chats(send, successor, resigned=False)
            items.update(outcomes_of(results, deferred_errcodes=GROUP_DAILY_LIMIT_ERRCODES))
        items.update({c: {"outcome": "deferred", "reason": "daily allowance used up"} for c in deferred})
        counts = save_outcomes(case, GROUPS_ONJOB_PATH, member, successor, items, day=day.isoformat())
        summary = {
            "member": member,
            "successor": successor,
            "owned": len(owned),
            "sent": len(send),
            "started": counts.get("started", 0) + counts.get("in_progress", 0),
            "failed": counts.get("failed", 0),
            "deferred": counts.get("deferred", 0),
            "failed_errcodes": errcode_counts(items),
            "day": day.isoformat(),
            "file": GROUPS_ONJOB_PATH,
        }
        record_evidence(
            case,
            self.task_id,
            "customer_groups.handed_over",
            key=member,
            request={"member": member, "successor": successor, "kind": "onjob", "sent": len(send)},
            result=summary,
        )
        self.log.info(
            "Customer groups of %s → %s: %d owned, %d sent (%d handed over), %d failed, %d deferred",
            member,
            successor,
            len(owned),
            len(send),
            summary["started"],
            summary["failed"],
            summary["deferred"],
        )
        if summary["deferred"]:
            self.log.warning(
                "%d groups exceed WeCom's daily allowance of %d groups from %s to %s: they are left for a "
                "rerun of this task tomorrow or for the resigned transfer after deletion",
                summary["deferred"],
                GROUP_TRANSFERS_PER_DAY,
                member,
                successor,
            )
        return summary

    def _member_gone(self, case: Case, member: str, successor: str) -> dict[str, Any]:
        summary = {"member": member, "successor": successor, "member_deleted": True, "owned": 0, "sent": 0}
        self.log.info("%s no longer exists in WeCom: the resigned transfer after deletion takes over", member)
        record_evidence(
            case,
            self.task_id,
            "customer_groups.handed_over",
            key=member,
            request={"member": member, "successor": successor, "kind": "onjob"},
            result={**summary, "started": 0, "note": "member already deleted: nothing to hand over on-job"},
        )
        return summary


# -- tags and app chats -------------------------------------------------------------------------------


class LeaveTagsAndGroupChatsOperator(CaseOperator):
    """Take the member out of the app-created tags and app chats that contain them.

    Which ones: the snapshot's XCom (``backup.snapshot_profile_and_memberships``: ``tags``, ``app_chats``)
    when present, else every tag (``tag/list``); app chats also include the connection's ``app_chat_ids``.
    Each is read first, so a rerun touches only those still holding the member. When the member owns an
    app chat, the successor becomes its owner in the same update (added to the chat if needed). Tags and
    chats WeCom does not let this app change (81011, 86008, ...) are surfaced with what to do by hand.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        member, successor = handover_pair(case)
        require_deadline_passed(
            case,
            LAST_WORKING_DAY,
            step=self.task_id,
            what=f"removing {member} from tags and group chats",
            context=context,
        )
        if read_member(self.hook, member) is None:
            return self._member_gone(case, member)
        snapshot = _snapshot(context)
        tag_ids = self._candidate_tags(snapshot)
        chat_ids = list(dict.fromkeys([*(snapshot or {}).get("app_chats", []), *self.hook.app_chat_ids]))
        previous = load_outcomes(case, TAGS_AND_CHATS_PATH, member, successor)
        items: dict[str, dict[str, Any]] = {}
        for tagid in tag_ids:
            key = f"tag:{tagid}"
            refused = _refused_before(previous, key)
            items[key] = refused or _latest(previous, key, self._leave_tag(tagid, member))
        for chatid in chat_ids:
            key = f"chat:{chatid}"
            refused = _refused_before(previous, key)
            items[key] = refused or _latest(previous, key, self._leave_chat(str(chatid), member, successor))
        counts = save_outcomes(
            case, TAGS_AND_CHATS_PATH, member, successor, items, source="snapshot" if snapshot else "wecom"
        )
        failures = [{"item": k, **v} for k, v in items.items() if v["outcome"] == "failed"]
        summary = {
            "member": member,
            "successor": successor,
            "tags_left": sum(
                1 for k, v in items.items() if k.startswith("tag:") and v["outcome"] == "removed"
            ),
            "chats_left": sum(
                1 for k, v in items.items() if k.startswith("chat:") and v["outcome"].startswith("removed")
            ),
            "chats_handed_to_successor": counts.get("removed_owner_handed_over", 0),
            "not_a_member": counts.get("not_a_member", 0),
            "failed": failures,
            "file": TAGS_AND_CHATS_PATH,
        }
        record_evidence(
            case,
            self.task_id,
            "memberships.left",
            key=member,
            request={"member": member, "tags": tag_ids, "app_chats": chat_ids},
            result=summary,
        )
        self.log.info(
            "%s left %d tags and %d app chats (%d handed to %s); %d to do by hand",
            member,
            summary["tags_left"],
            summary["chats_left"],
            summary["chats_handed_to_successor"],
            successor,
            len(failures),
        )
        for failure in failures:
            self.log.warning("%s: %s", failure["item"], failure.get("what_to_do") or failure.get("errmsg"))
        return summary

    def _candidate_tags(self, snapshot: Mapping[str, Any] | None) -> list[int]:
        if snapshot is not None and "tags" in snapshot:
            raw = snapshot["tags"] or []
        else:
            raw = self.hook.tags.list_tags()
        ids = [int(t["tagid"]) if isinstance(t, Mapping) else int(t) for t in raw]
        return list(dict.fromkeys(ids))

    def _leave_tag(self, tagid: int, member: str) -> dict[str, Any]:
        try:
            tag = self.hook.tags.get_tag(tagid)
            if not any(u.get("userid") == member for u in tag.get("userlist") or []):
                return {"outcome": "not_a_member"}
            results = self.hook.tags.remove_members(tagid, [member])
        except WeComError as err:
            return _item_failure(err)
        if results.failed:
            failure = results.failed[0]
            return {"outcome": "failed", "errcode": failure.errcode, "errmsg": failure.errmsg}
        return {"outcome": "removed"}

    def _leave_chat(self, chatid: str, member: str, successor: str) -> dict[str, Any]:
        try:
            chat = self.hook.app_chats.get(chatid)
            users = list(chat.get("userlist") or [])
            if member not in users:
                return {"outcome": "not_a_member"}
            if chat.get("owner") != member:
                self.hook.app_chats.remove_member(chatid, member)
                return {"outcome": "removed"}
            if successor in users:
                self.hook.app_chats.remove_member(chatid, member, new_owner=successor)
            else:
                # AppChats.remove_member cannot add the new owner; WeCom needs the owner in the chat.
                self.hook.app_chats.client.post(
                    "appchat/update",
                    {
                        "chatid": chatid,
                        "add_user_list": [successor],
                        "del_user_list": [member],
                        "owner": successor,
                    },
                    item=chatid,
                )
        except WeComError as err:
            return _item_failure(err)
        return {"outcome": "removed_owner_handed_over", "new_owner": successor}

    def _member_gone(self, case: Case, member: str) -> dict[str, Any]:
        summary = {"member": member, "member_deleted": True, "tags_left": 0, "chats_left": 0, "failed": []}
        record_evidence(
            case,
            self.task_id,
            "memberships.left",
            key=member,
            request={"member": member},
            result={**summary, "note": "member already deleted: WeCom removed them from tags"},
        )
        return summary


def _snapshot(context: Context) -> Mapping[str, Any] | None:
    """The snapshot task's XCom, if it ran in this DAG run."""
    ti = context.get("ti")
    if ti is None:
        return None
    value = ti.xcom_pull(task_ids=SNAPSHOT_TASK_ID)
    return value if isinstance(value, Mapping) else None


def _refused_before(previous: Mapping[str, Mapping[str, Any]], key: str) -> dict[str, Any] | None:
    """The earlier record of a tag or chat WeCom refused to this app (retrying cannot help), else None."""
    record = previous.get(key)
    if record and record.get("outcome") == "failed" and record.get("errcode") in MANUAL_STEP:
        return dict(record)
    return None


def _latest(previous: Mapping[str, Mapping[str, Any]], key: str, now: dict[str, Any]) -> dict[str, Any]:
    """``now``, unless it only says "not a member" of what an earlier try removed the member from."""
    earlier = previous.get(key) or {}
    if now["outcome"] == "not_a_member" and str(earlier.get("outcome", "")).startswith("removed"):
        return dict(earlier)
    return now


def _item_failure(err: WeComError) -> dict[str, Any]:
    """A tag or chat this app may not change, as a surfaced failure; other errors are re-raised."""
    if err.errcode not in PER_ITEM_ERRCODES:
        raise err
    record: dict[str, Any] = {"outcome": "failed", "errcode": err.errcode, "errmsg": err.message}
    if err.errcode in MANUAL_STEP:
        record["what_to_do"] = MANUAL_STEP[err.errcode]
    return record


# -- disable ------------------------------------------------------------------------------------------


class DisableMemberOperator(CaseOperator):
    """Disable the member (``user/update enable=0``, reversible) and move them to the leavers' department.

    The department is the connection extra ``leavers_department_id`` (not moved when unset). Reads the
    member first (already disabled and in place, or already deleted → recorded, no write), and reads them
    back after the update: the ledger's ``member.disabled`` holds the read-back (status 2).
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        member = member_userid(case)
        require_deadline_passed(
            case, LAST_WORKING_DAY, step=self.task_id, what=f"disabling {member}", context=context
        )
        before = read_member(self.hook, member)
        if before is None:
            summary = {"member": member, "already_deleted": True, "changed": False}
            record_evidence(
                case,
                self.task_id,
                "member.disabled",
                key=member,
                request={"member": member},
                result={**summary, "note": "member already deleted: nothing to disable"},
            )
            self.log.info("%s no longer exists in WeCom: nothing to disable", member)
            return summary
        changes = self._changes(before)
        if changes:
            self.hook.contacts.update_user(member, **changes)
        after = read_member(self.hook, member) or {}
        read_back = {"status": after.get("status"), "department": after.get("department")}
        done = read_back["status"] == DISABLED_STATUS and (
            "department" not in changes or read_back["department"] == changes["department"]
        )
        summary = {"member": member, "changed": bool(changes), "read_back": read_back}
        record_evidence(
            case,
            self.task_id,
            "member.disabled",
            key=member,
            request={
                "member": member,
                "changes": changes,
                "before": {"status": before.get("status"), "department": before.get("department")},
            },
            result=summary,
        )
        if not done and not case.dry_run:
            raise AirflowFailException(
                f"{member}: WeCom accepted the update but reads back status {read_back['status']} and "
                f"departments {read_back['department']}; check the member in the WeCom admin console, then "
                "clear this task"
            )
        self.log.info(
            "%s is disabled (read back: status %s, departments %s)%s",
            member,
            read_back["status"],
            read_back["department"],
            "" if changes else " — it already was; nothing sent",
        )
        return summary

    def _changes(self, before: Mapping[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if before.get("status") != DISABLED_STATUS:
            changes["enable"] = 0
        leavers = self.hook.leavers_department_id
        if leavers is not None and list(before.get("department") or []) != [leavers]:
            changes.update(department=[leavers], main_department=leavers, is_leader_in_dept=[0], order=[0])
        return changes
