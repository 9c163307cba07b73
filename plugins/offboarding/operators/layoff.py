"""The tasks of ``offboard_layoff`` that differ from a dissolving company's: its check, its members, its plan.

* :class:`CheckLayoffCaseOperator` (``preflight.check_case``) — the shared form check; a list is its own
  case (``layoff-<list id>``), and none of its persons may be in another open case
  (:func:`open_cases_of_persons`: Airflow's open runs of the person and layoff DAGs).
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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator
from offboarding.operators.company_members import PLAN_SUMMARY_KEY, PlanMemberBatchesOperator, saved_plan
from offboarding.operators.preflight import MEMBER_STATUS, CheckCaseOperator

if TYPE_CHECKING:
    from offboarding.airflow_api import AirflowApi
    from offboarding.steps.batches import MemberPlan

MEMBERS_SHOWN = 20
"""Userids listed in a log line or ledger entry; the counts say how many there are."""


class CheckLayoffCaseOperator(CheckCaseOperator):
    """``check_case`` for a layoff list: every field as for every case, refusing another kind of form, and
    a list naming a person who is already in another open case (their own, or another list's)."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        if case.kind != "layoff":
            raise AirflowFailException("persons: a layoff case needs the list of persons leaving")
        result = super().run(case, context)
        return {**result, "persons": len(case.layoff.persons)}

    def _one_open_case(self, case: Case) -> Case:
        # The run id is the list's case id and case.json keeps a second run out of its folder; a person
        # must not be offboarded by this list and by another case at once.
        elsewhere = open_cases_of_persons(case)
        overlaps = [
            f"persons[{index}].userid: {person.userid} is in the open case {elsewhere[person.userid.lower()]}"
            for index, person in enumerate(case.layoff.persons)
            if person.userid.lower() in elsewhere
        ]
        if overlaps:
            raise AirflowFailException(
                f"{len(overlaps)} listed person(s) are being offboarded by another case: "
                f"{'; '.join(overlaps[:MEMBERS_SHOWN])}. Take them off the list, or finish or rescind that case "
                "first, then trigger the list again"
            )
        return case


def require_plan_of_the_list(case: Case, plan: MemberPlan) -> None:
    """The saved plan (a file in the case folder) must hold exactly the form's persons (Airflow's record):
    nobody left out of the batches, nobody added."""
    from offboarding.steps.batches import PLAN_PATH

    listed = set(case.layoff.successors)
    planned = {userid for _, members in plan.batches for userid in members}
    missing, added = sorted(listed - planned), sorted(planned - listed)
    if missing or added:
        raise AirflowFailException(
            f"{PLAN_PATH} does not match the list (persons): "
            + "; ".join(
                f"{what}: {', '.join(users[:MEMBERS_SHOWN])}"
                for what, users in (("not planned", missing), ("not on the list", added))
                if users
            )
            + ". Archive the case folder and trigger the list again"
        )


def open_cases_of_persons(case: Case) -> dict[str, str]:
    """Every person (lower-cased userid) of the same corp (``wecom_conn_id``) in another open case → that
    case: a running, queued or failed ``offboard_employee`` run, or another open ``offboard_layoff`` list;
    read over REST with the deployment's credential (Connection ``offboarding_airflow_api``). Tests replace
    this function."""
    from offboarding.airflow_api import AirflowApiError
    from offboarding.cases import LAYOFF_DAG_ID, PERSON_DAG_ID
    from offboarding.cases.case_ids import case_id_shown_for_run
    from offboarding.cases.lifecycle import FINAL_STATES
    from offboarding.hooks.airflow_rest import airflow_api

    listed = {userid.lower() for userid in case.layoff.successors}
    found: dict[str, str] = {}
    with airflow_api(needed_for="check_case cannot see the persons' other cases") as api:
        try:
            for dag_id in (PERSON_DAG_ID, LAYOFF_DAG_ID):
                for run in api.list_dag_runs(dag_id, states=OPEN_RUN_STATES):
                    # Airflow's REST API names a run's id dag_run_id (run_id is the ORM's name).
                    conf, run_id = run.get("conf") or {}, str(run.get("dag_run_id") or run.get("run_id"))
                    if run_id == case.run_id or not isinstance(conf, dict):
                        continue
                    if (conf.get("wecom_conn_id") or "wecom_default") != case.wecom_conn_id:
                        continue  # another corp: the same userid is another person
                    shared = listed & {userid.lower() for userid in persons_of_run(conf)}
                    if not shared:
                        continue
                    case_id, state = case_id_shown_for_run(conf, run_id), str(run.get("state"))
                    # A failed run is an open case unless its check_case refused it (nothing happened: no
                    # case) or it was rescinded (rare: asked one by one).
                    if state == "failed" and (
                        _refused_at_creation(api, dag_id, run_id)
                        or api.get_case(case_id).get("state") in FINAL_STATES
                    ):
                        continue
                    for userid in shared:
                        found.setdefault(userid, f"{case_id} ({state})")
        except AirflowApiError as err:  # unreachable, busy, or the plugin not served: a retry may help
            raise RuntimeError(f"check_case cannot read the persons' other cases: {err}") from None
    return found


def _refused_at_creation(api: AirflowApi, dag_id: str, run_id: str) -> bool:
    """The run's check_case refused it: nothing was done, it is no case."""
    from offboarding.operators.base import CHECK_CASE_TASK_ID

    states = {ti.get("task_id"): ti.get("state") for ti in api.list_task_instances(dag_id, run_id)}
    return states.get(CHECK_CASE_TASK_ID) in ("failed", "upstream_failed")


OPEN_RUN_STATES = ("queued", "running", "failed")
"""Run states of a case that may still act (a failed case is open until it is rescinded or finished)."""


def persons_of_run(conf: Mapping[str, Any]) -> list[str]:
    """The userids a case run's form offboards: a person's ``userid``, a list's ``persons``."""
    from offboarding.cases.layoff import listed_userids

    userid = conf.get("userid")
    return [userid] if isinstance(userid, str) else listed_userids(conf)


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
        if plan is not None:
            require_plan_of_the_list(case, plan)
        else:
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
