"""The tasks of ``offboarding_rescind``: undo a rescinded case as far as WeCom allows (thin adapters).

The run's conf is what the plugin's rescind handler sends: ``{"case_id", "dag_id", "run_id", "reason",
"action_id"}``. Each task reads the case run's own conf over REST (Connection ``offboarding_airflow_api``,
:mod:`offboarding.hooks.airflow_rest`) to find the member, the successor and the case folder, then calls
one step of :mod:`offboarding.steps.undo` and records what WeCom answered in the case's evidence ledger
(``rescind.*``; per item, never dropped) and in its XCom. Nothing is sent to WeCom once the member was
deleted (:class:`CheckRescindAllowedOperator` fails first, naming when).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

import pendulum
from airflow.sdk import BaseSensorOperator, Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator, config_errors_fail_the_task

RESCIND_FIELDS = ("case_id", "dag_id", "run_id", "reason", "action_id")
#: Task-instance states of the case run in which a task may still act.
ACTIVE_STATES = frozenset(
    {"running", "queued", "scheduled", "restarting", "deferred", "up_for_retry", "up_for_reschedule"}
)
DELETED_ACTIONS = ("member.deleted",)
COMPANY_NOTHING_TO_UNDO = (
    "a company or layoff case: no member was deleted yet and nothing of a member is undone; the case stopped"
)
CUSTOMERS_BACK_PATH = "rescind/customers_handed_back.json"
GROUPS_BACK_PATH = "rescind/customer_groups_handed_back.json"
RESCINDED_ACTION = "case.rescinded"


class RescindRequest(NamedTuple):
    """The conf of one ``offboarding_rescind`` run."""

    case_id: str
    dag_id: str
    run_id: str
    reason: str
    action_id: int

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any]) -> RescindRequest:
        """The request; AirflowFailException naming the field when one is missing or wrong."""
        for name in RESCIND_FIELDS:
            value = conf.get(name)
            if name == "action_id":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise AirflowFailException(
                        f"action_id: must be the rescind action's id (a number), got {value!r}"
                    )
            elif not isinstance(value, str) or not value.strip():
                raise AirflowFailException(f"{name}: required in the rescind run's conf, got {value!r}")
        return cls(*(conf[name] for name in RESCIND_FIELDS))


def rescind_request(context: Context) -> RescindRequest:
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or context.get("params") or {}
    return RescindRequest.from_conf(conf)


def case_run_reader() -> Any:
    """Reads one DAG run of the case (``get_dag_run``, ``list_task_instances``) over REST; tests replace it."""
    from offboarding.hooks.airflow_rest import airflow_api

    return airflow_api(needed_for="the rescind cannot read the case's run")


def rescinded_case(context: Context) -> Case:
    """The case being rescinded, from its own run's conf (read over REST)."""
    from offboarding.airflow_api import AirflowApiError, NotFound
    from offboarding.cases.case_ids import case_kind

    request = rescind_request(context)
    with case_run_reader() as api:
        try:
            run = api.get_dag_run(request.dag_id, request.run_id)
        except NotFound:
            raise AirflowFailException(
                f"run_id: DAG {request.dag_id} has no run {request.run_id} (case {request.case_id})"
            ) from None
        except AirflowApiError as err:
            raise RuntimeError(f"cannot read run {request.run_id} of {request.dag_id}: {err}") from None
    conf = dict(run.get("conf") or {})
    return Case(
        case_id=request.case_id,
        kind=case_kind(conf),
        conf=conf,
        run_id=request.run_id,
        triggered_by=run.get("triggering_user_name"),
    )


class WaitForCaseRunToStopSensor(BaseSensorOperator):
    """Waits (reschedule mode: no worker slot between pokes) until no task of the case run may still act.

    The rescind handler already skipped what had not started; a task that was running finishes at its safe
    point. Pokes ``GET .../taskInstances`` of the case run; done when none is running, queued, scheduled,
    deferred or up for retry.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", 10)
        kwargs.setdefault("timeout", dt.timedelta(hours=6))
        super().__init__(**kwargs)

    def poke(self, context: Context) -> bool:
        from offboarding.airflow_api import AirflowApiError

        request = rescind_request(context)
        with case_run_reader() as api:
            try:
                instances = api.list_task_instances(request.dag_id, request.run_id)
            except AirflowApiError as err:
                self.log.warning("cannot read the case run's tasks for now: %s", err)
                return False
        active = sorted(
            f"{ti['task_id']} ({ti.get('state')})"
            for ti in instances
            if (ti.get("state") or "none") in ACTIVE_STATES
        )
        if active:
            self.log.info(
                "case run %s still has %d active task(s): %s", request.run_id, len(active), ", ".join(active)
            )
            return False
        self.log.info("no task of case run %s can act any more: undoing starts", request.run_id)
        return True


class RescindStepOperator(CaseOperator):
    """A task of ``offboarding_rescind``: the case comes from the rescind conf, not from params."""

    ui_color = "#e4ecfb"

    def execute(self, context: Context) -> Any:
        case = rescinded_case(context)
        self._case = case
        with config_errors_fail_the_task():
            return self.run(case, context)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after a wait for WeCom's takeover: run again from the start."""
        if not event or event.get("status") != "final":
            message = (event or {}).get("message") or f"unexpected event {event!r}"
            raise AirflowFailException(f"{self.task_id}: the wait for WeCom's takeover stopped: {message}")
        return self.execute(context)

    # -- what the offboarding did, from the case folder and the ledger ---------------------------------

    def member_and_successor(self, case: Case) -> tuple[str, str]:
        from offboarding.operators.adapter import handover_pair

        return handover_pair(case)

    def record_items(
        self, case: Case, action: str, items: dict[str, dict[str, Any]], request: dict[str, Any]
    ) -> dict[str, Any]:
        """The step's result (per-item outcomes, counts, what WeCom refused) recorded as ledger ``action``."""
        from offboarding.operators.adapter import record_evidence

        result = {**request, "counts": _summary(items), "failed": _failed(items), "items": items}
        record_evidence(case, self.task_id, action, key=request["member"], request=request, result=result)
        return result

    def read_json(self, case: Case, relpath: str) -> Any:
        if not case.store.exists(case.case_id, relpath):
            return None
        return json.loads(case.store.read_bytes(case.case_id, relpath))

    def latest_entry(self, case: Case, action: str) -> Any:
        found = None
        for entry in case.ledger.entries():
            if entry.action == action:
                found = entry
        return found


def _summary(items: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in items.values():
        counts[str(record.get("outcome"))] = counts.get(str(record.get("outcome")), 0) + 1
    return counts


def _failed(items: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"item": k, **v} for k, v in items.items() if v.get("outcome") == "failed"]


class CheckRescindAllowedOperator(RescindStepOperator):
    """Refuses (fails, no WeCom call) when the ledger says the member was deleted: irreversible."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.operators.controls import read_controls

        request = rescind_request(context)
        read_controls(case, step=self.task_id)  # the rescind (and any action before it) into the ledger
        for entry in case.ledger.entries():
            if entry.action in DELETED_ACTIONS:
                raise AirflowFailException(
                    f"case {case.case_id} cannot be undone: irreversible since {entry.at}: {entry.key} was deleted "
                    "from WeCom (deletion.delete_member). What can still be done: re-invite the person as a new "
                    "member and hand customers back from the successor with an on-job transfer (在职继承)"
                )
        record_evidence(
            case,
            self.task_id,
            "rescind.started",
            key=f"action:{request.action_id}",
            request={
                "reason": request.reason,
                "action_id": request.action_id,
                "rescind_run": context["dag_run"].run_id,
            },
            result={"kind": case.kind},
        )
        return {"case_id": case.case_id, "kind": case.kind, "reason": request.reason}


class ReEnableMemberOperator(RescindStepOperator):
    """``user/update`` ``enable: 1`` and the snapshot's departments, then read back (the disabling undone)."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps.person_backup import MEMBER_PATH
        from offboarding.steps.undo import MemberDeleted, re_enable_member

        if case.kind != "person":
            return {"outcome": "not_applicable", "why": COMPANY_NOTHING_TO_UNDO}
        member, _ = self.member_and_successor(case)
        disabled = self.latest_entry(case, "member.disabled")
        changes = (disabled.request or {}).get("changes") if disabled is not None else None
        try:
            result = re_enable_member(
                self.hook.contacts, member, before=self.read_json(case, MEMBER_PATH), disabled=changes
            )
        except MemberDeleted:
            raise AirflowFailException(
                f"{member} is no longer in WeCom (60111): nothing can be undone; re-invite the person"
            ) from None
        record_evidence(
            case,
            self.task_id,
            "rescind.member_enabled",
            key=member,
            request={"member": member},
            result=result,
        )
        if result["changes"].get("enable") == 1 and result["read_back"]["status"] != 1 and not case.dry_run:
            raise AirflowFailException(
                f"WeCom accepted enabling {member} but reads back status {result['read_back']['status']}; check the "
                "member in the WeCom admin console, then clear this task"
            )
        return result


class RestoreTagsAndChatsOperator(RescindStepOperator):
    """The app-created tags and app chats the handover took the member out of: put them back."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.steps.handover_files import TAGS_AND_CHATS_PATH, load_outcomes
        from offboarding.steps.undo import restore_tags_and_chats

        if case.kind != "person":
            return {"outcome": "not_applicable", "why": COMPANY_NOTHING_TO_UNDO}
        member, successor = self.member_and_successor(case)
        left = load_outcomes(case.store, case.case_id, TAGS_AND_CHATS_PATH, member, successor)
        items = restore_tags_and_chats(self.hook.tags, self.hook.app_chats, member, left)
        return self.record_items(case, "rescind.memberships_restored", items, {"member": member})


class HandBackCustomerGroupsOperator(RescindStepOperator):
    """The customer groups the successor got on-job → back to the member (per group WeCom's answer)."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.steps.handover_files import GROUPS_ONJOB_PATH, load_outcomes, save_outcomes
        from offboarding.steps.undo import hand_back_groups

        if case.kind != "person":
            return {"outcome": "not_applicable", "why": COMPANY_NOTHING_TO_UNDO}
        member, successor = self.member_and_successor(case)
        sent = load_outcomes(case.store, case.case_id, GROUPS_ONJOB_PATH, member, successor)
        moved = [c for c, r in sent.items() if r.get("outcome") in ("started", "in_progress")]
        items = hand_back_groups(self.hook, member, successor, moved)
        save_outcomes(case.store, case.case_id, GROUPS_BACK_PATH, member, successor, items)
        request = {"member": member, "successor": successor}
        return self.record_items(case, "rescind.customer_groups_handed_back", items, request)


class HandBackCustomersOperator(RescindStepOperator):
    """The customers the successor took over → back to the member (在职继承), per customer WeCom's answer.

    Waits first (deferred, no worker slot) while a customer of the handover is still waiting for the
    successor's takeover: only a customer the successor follows can be handed back. Customers that never
    left the member (refused, successor at the limit) are listed as such.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps.handover_files import load_outcomes, save_outcomes
        from offboarding.steps.takeover import TAKEN_OVER, read_takeover_status, status_name
        from offboarding.steps.undo import hand_back_customers

        if case.kind != "person":
            return {"outcome": "not_applicable", "why": COMPANY_NOTHING_TO_UNDO}
        member, successor = self.member_and_successor(case)
        contacts = self.hook.customer_contacts
        status = read_takeover_status(contacts, member, successor)
        if status.waiting:
            self._wait(case, member, successor, len(status.waiting))
        done_before = {
            c: r
            for c, r in load_outcomes(
                case.store, case.case_id, CUSTOMERS_BACK_PATH, member, successor
            ).items()
            if r.get("outcome") == "handed_back"
        }
        taken = [c for c in status.with_status(TAKEN_OVER) if c not in done_before]
        stayed = {
            c: f"never left {member}: {status_name(t.status)}"
            for c, t in status.customers.items()
            if t.status != TAKEN_OVER
        }
        items = {**done_before, **hand_back_customers(self.hook, member, successor, taken, stayed)}
        save_outcomes(case.store, case.case_id, CUSTOMERS_BACK_PATH, member, successor, items)
        result = {
            "member": member,
            "successor": successor,
            "counts": _summary(items),
            "failed": _failed(items),
            "items": items,
        }
        record_evidence(
            case,
            self.task_id,
            "rescind.customers_handed_back",
            key=member,
            request={"member": member, "successor": successor, "sent": len(taken)},
            result=result,
        )
        for failure in result["failed"]:
            self.log.warning(
                "customer %s stays with %s: errcode %s %s",
                failure["item"],
                successor,
                failure.get("errcode"),
                failure.get("reason"),
            )
        return result

    def _wait(self, case: Case, handover: str, takeover: str, waiting: int) -> None:
        from offboarding.triggers.takeover import CustomerTakeoverTrigger

        interval = takeover_poll_seconds(case)
        self.log.info(
            "%d customers are still waiting for %s's takeover; handing back once it settled",
            waiting,
            takeover,
        )
        self.defer(
            trigger=CustomerTakeoverTrigger(
                wecom_conn_id=case.wecom_conn_id,
                handover_userid=handover,
                takeover_userid=takeover,
                poll_interval_seconds=interval,
                anchor=pendulum.now("UTC"),
            ),
            method_name="execute_complete",
            timeout=None,
        )


def takeover_poll_seconds(case: Case) -> float:
    from offboarding.policy import PolicyError, get_policy
    from offboarding.steps.takeover import poll_interval_seconds

    try:
        return poll_interval_seconds(get_policy().handover.transfer_result_poll_interval, case.time_scale)
    except PolicyError as err:
        raise AirflowFailException(str(err)) from None


class WaitForCustomersBackOperator(RescindStepOperator):
    """Waits (deferred) until WeCom settled every customer handed back, then lists who is back and who
    refused (status 3) or could not be taken (status 4), per customer."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.steps.takeover import read_takeover_status, status_name
        from offboarding.triggers.takeover import CustomerTakeoverTrigger

        if case.kind != "person":
            return {"outcome": "not_applicable", "why": COMPANY_NOTHING_TO_UNDO}
        member, successor = self.member_and_successor(case)
        status = read_takeover_status(self.hook.customer_contacts, successor, member)
        if status.waiting:
            self.defer(
                trigger=CustomerTakeoverTrigger(
                    wecom_conn_id=case.wecom_conn_id,
                    handover_userid=successor,
                    takeover_userid=member,
                    poll_interval_seconds=takeover_poll_seconds(case),
                    anchor=pendulum.now("UTC"),
                ),
                method_name="execute_complete",
                timeout=None,
            )
        from offboarding.steps.handover_files import load_outcomes

        sent = load_outcomes(case.store, case.case_id, CUSTOMERS_BACK_PATH, member, successor)
        items = {
            c: {"outcome": status_name(t.status)}
            for c, t in status.customers.items()
            if sent.get(c, {}).get("outcome") == "handed_back"  # not an older transfer between the two
        }
        result = {"member": member, "successor": successor, "counts": _summary(items), "items": items}
        record_evidence(
            case,
            self.task_id,
            "rescind.customers_back_settled",
            key=member,
            request={"member": member},
            result=result,
        )
        return result


class RecordRescindedOperator(RescindStepOperator):
    """``case.rescinded`` in the case's ledger: what was undone and what WeCom refused, per step."""

    STEPS = (
        "re_enable_member",
        "restore_tags_and_app_chats",
        "hand_back_customer_groups",
        "hand_back_customers",
        "wait_for_customers_back",
    )

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import record_evidence

        request = rescind_request(context)
        ti = context["ti"]
        steps = {}
        for task_id in self.STEPS:
            value = ti.xcom_pull(task_ids=f"{self.task_id.rpartition('.')[0]}.{task_id}".lstrip("."))
            if isinstance(value, Mapping):
                steps[task_id] = {
                    "counts": value.get("counts"),
                    "failed": value.get("failed"),
                    "outcome": value.get("outcome"),
                }
        result = {"rescind_run": context["dag_run"].run_id, "reason": request.reason, "steps": steps}
        if not case.ledger.has_action(RESCINDED_ACTION, f"action:{request.action_id}"):
            record_evidence(
                case,
                self.task_id,
                RESCINDED_ACTION,
                key=f"action:{request.action_id}",
                request={"reason": request.reason, "action_id": request.action_id},
                result=result,
            )
        return result
