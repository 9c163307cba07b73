"""The tasks of ``offboard_layoff`` that differ from a dissolving company's: its check, its members, its plan.

* :class:`CheckLayoffCaseOperator` (``preflight.check_case``) — the shared form check; a list is its own
  case (``layoff-<list id>``), so there is no earlier case of the same member to look up.
* :class:`CheckListedMembersOperator` (``preflight.check_members``) — one ``user/list_id`` pass: which
  listed persons WeCom knows (the others are recorded as already gone), every successor a member and
  active.
* :class:`PlanLayoffBatchesOperator` (``offboard_all_members.plan_member_batches``) — the list cut in
  batches of 200 persons with one successor each (:func:`offboarding.steps.batches.make_list_plan`).

The batches, the approval and the summary are the company wind-up's operators
(:mod:`offboarding.operators.company_members`): a layoff's batches wait for the last working day where a
company's wait for the notice period.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator
from offboarding.operators.company_members import PLAN_SUMMARY_KEY, PlanMemberBatchesOperator, saved_plan
from offboarding.operators.preflight import MEMBER_STATUS, CheckCaseOperator

MEMBERS_SHOWN = 20
"""Userids listed in a log line or ledger entry; the counts say how many there are."""


class CheckLayoffCaseOperator(CheckCaseOperator):
    """``check_case`` for a layoff list: every field as for every case, refusing another kind of form."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        if case.kind != "layoff":
            raise AirflowFailException("persons: a layoff case needs the list of persons leaving")
        result = super().run(case, context)
        return {**result, "persons": len(case.layoff.persons)}

    def _one_open_case(self, case: Case) -> Case:
        return case  # the run id is the list's case id; case.json keeps a second run out of its folder


class CheckListedMembersOperator(CaseOperator):
    """Read the corp's member ids once: listed persons WeCom does not know are recorded (their batch marks
    them already gone); every successor must be a member and active, or the case stops here."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.wecom.errors import WeComDataError

        form = case.layoff
        members = set(self.hook.contacts.iter_member_ids())
        unknown = [p.userid for p in form.persons if p.userid not in members]
        successors = sorted({p.successor_userid for p in form.persons})
        problems = []
        for successor in successors:
            if successor not in members:
                problems.append(f"{successor} is not a member of the corp (user/list_id does not list them)")
                continue
            try:
                status = int(self.hook.contacts.get_user(successor).get("status", 1))
            except WeComDataError as err:
                problems.append(f"{successor} cannot be read ({err.errcode})")
                continue
            if status != 1:
                problems.append(f"{successor} is {MEMBER_STATUS.get(status, status)}, not active")
        if problems:
            raise AirflowFailException(
                f"persons[].successor_userid: {'; '.join(problems[:MEMBERS_SHOWN])}. Customers and groups can "
                "only go to an active member: trigger the case again with active successors"
            )
        result = {
            "persons": len(form.persons),
            "members": len(form.persons) - len(unknown),
            "not_in_wecom": unknown[:MEMBERS_SHOWN],
            "not_in_wecom_count": len(unknown),
            "successors": len(successors),
        }
        self.record("preflight.checked", request={"list_id": form.list_id}, result=result)
        if unknown:
            self.log.warning(
                "%d listed persons are not members of the corp (already deleted?); their batch records them "
                "as already gone: %s",
                len(unknown),
                ", ".join(unknown[:MEMBERS_SHOWN]),
            )
        return result


class PlanLayoffBatchesOperator(PlanMemberBatchesOperator):
    """Cut the list in batches of up to 200 persons who share a successor; save the plan once.

    A rerun returns the saved plan, so batches never shift. Returns the batches
    (``[{"batch_id", "number", "of", "first", "last", "leaders", "label", "successor"}]``).
    """

    def run(self, case: Case, context: Context) -> list[dict[str, Any]]:
        from offboarding.steps.batches import make_list_plan, save_plan

        form = case.layoff
        plan = saved_plan(case)
        if plan is None:
            plan = make_list_plan(form.successors)
            save_plan(case.store, case.case_id, plan)
            self.record(
                "members.planned",
                request={"list_id": form.list_id, "successors": len(set(form.successors.values()))},
                result=plan.summary(),
            )
        summary = plan.summary()
        context["ti"].xcom_push(key=PLAN_SUMMARY_KEY, value=summary)
        self.log.info(
            "%d persons in %d batches of one successor each", summary["members"], summary["batches"]
        )
        return [batch.to_xcom() for batch in plan.regular]
