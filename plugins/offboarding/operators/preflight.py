"""Preflight: the case is valid, claimed by this run, and the people in it can be acted on."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case, CaseOperator

MEMBER_STATUS = {1: "active", 2: "disabled", 4: "not_activated", 5: "left_enterprise"}

# What the seed article asks before deregistering that WeCom cannot answer by API.
MANUAL_CHECKLIST = [
    "The account belongs to only one enterprise/team (注销条件: 只有一个企业/团队)",
    "The account is not the creator or super-admin of the enterprise (非创建人/超级管理员)",
    "The account is in a safe state: not stolen, not banned (账号处于安全状态)",
    "Important chats and files are backed up by the person (聊天记录、文件)",
]


class CheckCaseOperator(CaseOperator):
    """Validate the form again (with its ``backup_target`` against the deployment's storage roots and the
    separation of duties against the deployment's approver and HR-owner lists and the triggering user),
    check its connections (type, https), guard rehearsal time, and claim the case folder for this run."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.backup.roots import backup_target_problem
        from offboarding.cases.problems import FieldProblem
        from offboarding.cases.typed import PARSERS, InvalidCase
        from offboarding.hooks.connection_rules import check_case_connections
        from offboarding.operators.approvers import check_separation_of_duties

        # The one validation of the form: every field (none it does not know), then the rules across them.
        try:
            form = PARSERS[case.kind](case.conf)
            problems: list[FieldProblem] = []
        except InvalidCase as err:
            form, problems = None, err.problems
        # The deployment's roots, checked before anything is written (Case.store checks it again); its
        # message names the roots allowed, so it replaces the schema's.
        unknown = backup_target_problem(case.conf.get("backup_target") or "")
        if unknown:
            problems = [p for p in problems if p.field != "backup_target"]
            problems.append(FieldProblem("backup_target", unknown))
        if problems or form is None:
            raise AirflowFailException(
                "the trigger form is invalid: " + "; ".join(f"{p.field}: {p.message}" for p in problems)
            )
        self._check_run_id(case)
        case = self._one_open_case(case)
        # Before anything is written: the deployment's lists, no self-approval.
        check_separation_of_duties(case)
        check_case_connections(form.wecom_conn_id, form.notify.webhook_conn_id)
        try:
            form.time_scale.require_sandbox(self.hook.base_url, conn_id=form.wecom_conn_id)
        except ValueError as err:
            raise AirflowFailException(str(err)) from None
        self._claim(case)
        self.record(
            "case.opened",
            actor=case.triggered_by or "unknown",
            request={
                "run_id": case.run_id,
                "kind": case.kind,
                "subject": form.subject,
                "name": form.subject
                if form.kind == "layoff"
                else getattr(form, "display_name", form.subject),
                "dry_run": form.dry_run,
                "time_scale": form.time_scale.factor,
            },
        )
        return {"case_id": case.case_id, "backup_root": case.backup_root}

    @staticmethod
    def _check_run_id(case: Case) -> None:
        """A run id spelled like a case id must be this case's id: a dry run triggered as
        ``offboard-<userid>`` would use up the real case's run id (dry runs are ``dryrun-...``)."""
        from offboarding.cases import (
            COMPANY_CASE_PREFIX,
            DRY_RUN_CASE_PREFIX,
            LAYOFF_CASE_PREFIX,
            PERSON_CASE_PREFIX,
        )

        prefixes = (PERSON_CASE_PREFIX, COMPANY_CASE_PREFIX, LAYOFF_CASE_PREFIX, DRY_RUN_CASE_PREFIX)
        if case.run_id.startswith(prefixes) and case.run_id != case.case_id:
            raise AirflowFailException(
                f"run id {case.run_id} is spelled like a case id but this case's id is {case.case_id} "
                f"({'a dry run' if case.dry_run else 'a real run'}); trigger it again with run id "
                f"{case.case_id} (dry runs use {DRY_RUN_CASE_PREFIX}<case id>)"
            )

    def _one_open_case(self, case: Case) -> Case:
        case_id = open_case_id(case)
        if case_id != case.case_id:
            case = dataclasses.replace(case, case_id=case_id)
            self._case = case
        return case

    @staticmethod
    def _claim(case: Case) -> None:
        """One case, one run: refuse a second run for a case another run already owns."""
        if case.store.exists(case.case_id, "case.json"):
            owner = json.loads(case.store.read_bytes(case.case_id, "case.json")).get("run_id")
            if owner != case.run_id:
                raise AirflowFailException(
                    f"case {case.case_id} is already handled by run {owner}; follow that run instead "
                    "(or archive its folder to start over)"
                )
            return
        case.store.write_json(
            case.case_id, "case.json", {"case_id": case.case_id, "run_id": case.run_id, "kind": case.kind}
        )


def open_case_id(case: Case) -> str:
    """Re-offboarding: the case id this run opens — its run id when that is a case id (bulk, CLI, REST),
    the member's next one for a run from the UI form (``offboard-lisi+2`` after a closed or rescinded
    case). AirflowFailException naming the open case when the member already has one (a dry run is
    its own case and is not checked)."""
    from offboarding.cases.lifecycle import checked_case_id

    if case.dry_run:
        return case.case_id
    try:
        return checked_case_id(case.run_id, case.case_id, case.conf, member_cases(case))
    except ValueError as err:
        raise AirflowFailException(str(err)) from None


def member_cases(case: Case) -> Mapping[str, Any]:
    """The member's other cases (``GET /offboarding/api/cases/{id}/series`` without this run), read with
    the deployment's REST credential (Connection ``offboarding_airflow_api``); tests replace this function."""
    from offboarding.airflow_api import AirflowApiError
    from offboarding.hooks.airflow_rest import airflow_api

    with airflow_api(needed_for="check_case cannot see the member's other cases") as api:
        try:
            return api.case_series(case.case_id, exclude_run_id=case.run_id)
        except AirflowApiError as err:  # unreachable, busy, or the plugin not served: a retry may help
            raise RuntimeError(f"check_case cannot read the member's other cases: {err}") from None


class CheckMemberAndSuccessorOperator(CaseOperator):
    """Read the member and the successor from WeCom; record the checklist WeCom cannot answer."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.wecom.errors import WeComDataError

        userid, successor = case.person.userid, case.person.successor_userid
        try:
            member = self.hook.contacts.get_user(userid)
            state = MEMBER_STATUS.get(int(member.get("status", 1)), "unknown")
        except WeComDataError as err:
            if err.errcode not in (60111, 40003):
                raise
            member, state = {}, "already_deleted"
        try:
            heir = self.hook.contacts.get_user(successor)
        except WeComDataError as err:
            raise AirflowFailException(
                f"successor_userid {successor}: not found in WeCom ({err.errcode}); trigger the case "
                "again with an existing successor"
            ) from None
        if int(heir.get("status", 1)) != 1:
            raise AirflowFailException(
                f"successor_userid {successor}: is {MEMBER_STATUS.get(int(heir['status']), heir['status'])}, "
                "not active; choose an active successor"
            )
        result = {
            "userid": userid,
            "member_state": state,
            "member_name": member.get("name"),
            "departments": member.get("department", []),
            "successor": successor,
            "manual_checklist": MANUAL_CHECKLIST,
        }
        self.record("preflight.checked", request={"userid": userid, "successor": successor}, result=result)
        return result
