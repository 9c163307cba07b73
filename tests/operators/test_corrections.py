"""Correct: the steps that use successor_userid, approvers or hr_owner use the accepted correction.

``controls.corrected(field, form_value)``: the latest accepted ``correct`` action wins over the form.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLOperator

from offboarding.cases import person_case_id
from offboarding.operators.approval import ApproveDeletionOperator
from offboarding.operators.handover import HandOverCustomersOperator
from offboarding.operators.human_step import HumanStepOperator

TRANSFER_RESULT = "/cgi-bin/externalcontact/transfer_result"


def test_the_handover_goes_to_the_corrected_successor(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, case_controls: Any
) -> None:
    params = sample_person_case()
    case_controls.correct(person_case_id(params), successor_userid="zhengshi")
    result = HandOverCustomersOperator(task_id="hand_over_customers").execute(
        make_context(params, task_id="handover.hand_over_customers")
    )
    assert result["successor"] == "zhengshi"
    assert "wm_lisi_001" in wecom_conn.control.user("lisi")["customers"]  # waiting for the takeover
    from offboarding.hooks.wecom import WeComHook
    from offboarding.steps.takeover import read_takeover_status

    contacts = WeComHook("wecom_default").customer_contacts
    assert read_takeover_status(contacts, "lisi", "zhengshi").customers
    assert not read_takeover_status(contacts, "lisi", "wangwu").customers


def test_the_approval_is_assigned_to_the_corrected_approvers(
    sample_person_case: Any, make_context: Any, case_controls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []
    monkeypatch.setattr(ApprovalOperator, "execute", lambda self, context: asked.append(self.assigned_users))
    params = sample_person_case(approvers=["approver"])
    case_controls.correct(person_case_id(params), approvers=["approver2"])
    ApproveDeletionOperator(task_id="approve_deletion", approvers="approver").execute(
        make_context(params, task_id="approve_deletion", run_id=person_case_id(params))
    )
    assert asked == [[{"id": "approver2", "name": "approver2"}]]


def test_an_hr_step_is_assigned_to_the_corrected_hr_owner(
    sample_person_case: Any, make_context: Any, case_controls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[Any] = []
    monkeypatch.setattr(HITLOperator, "execute", lambda self, context: asked.append(self.assigned_users))
    params = sample_person_case(hr_owner="hr")
    step = HumanStepOperator(task_id="stop_social_insurance", subject="社保减员", assignees="hr")
    context = make_context(
        params, task_id="statutory_steps.stop_social_insurance", run_id=person_case_id(params)
    )
    step.execute(context)
    case_controls.correct(person_case_id(params), hr_owner="hr_li")
    step.execute(context)
    assert asked == [[{"id": "hr", "name": "hr"}], [{"id": "hr_li", "name": "hr_li"}]]
