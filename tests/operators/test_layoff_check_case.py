"""``check_case`` of a layoff list: the form and the separation of duties for a list, and no person offboarded
by this list and by another open case at once (their own, or another list's), before anything is written."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.cases import layoff_case_id
from offboarding.operators.layoff import CheckLayoffCaseOperator


def layoff(**overrides: Any) -> dict[str, Any]:
    params = {
        "list_id": "2026q4-east",
        "list_name": "华东区优化",
        "last_working_day": "2026-11-20",
        "persons": [
            {"userid": "lisi", "successor_userid": "wangwu", "display_name": "李四"},
            {"userid": "zhaoliu", "successor_userid": "wangwu"},
        ],
        "hr_owner": "hr",
        "approvers": ["approver"],
        "backup_target": "test",
        "wecom_conn_id": "wecom_default",
        "time_scale": 1,
    }
    params.update(overrides)
    return params


def check(params: dict[str, Any], make_context: Any, **context: Any) -> dict[str, Any]:
    context.setdefault("run_id", layoff_case_id(params))
    return CheckLayoffCaseOperator(task_id="check_case").execute(
        make_context(params, task_id="preflight.check_case", **context)
    )


def opened(case_store: Any, params: dict[str, Any]) -> bool:
    return case_store(params).exists(layoff_case_id(params), "case.json")


def test_a_valid_list_opens_its_case(wecom_conn: Any, make_context: Any, case_store: Any) -> None:
    params = layoff()
    result = check(params, make_context, user="ops_li")
    assert result["case_id"] == "layoff-2026q4-east" and result["persons"] == 2
    assert opened(case_store, params)


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"approvers": ["zhaoliu"]}, r"approvers: zhaoliu is a departing person \(persons\[1\]\)"),
        ({"approvers": ["wangwu"]}, r"approvers: wangwu is a successor \(persons\[0\]\.successor_userid\)"),
        ({"hr_owner": "lisi"}, r"hr_owner: lisi is a departing person \(persons\[0\]\)"),
        (
            {
                "persons": [
                    {"userid": "lisi", "successor_userid": "zhaoliu"},
                    {"userid": "zhaoliu", "successor_userid": "wangwu"},
                ]
            },
            r"persons\[0\]\.successor_userid: zhaoliu is leaving in this list too",
        ),
    ],
    ids=[
        "a listed person approves",
        "a successor approves",
        "a listed person owns it",
        "a leaving successor",
    ],
)
def test_an_ineligible_list_is_refused_naming_the_field_before_anything_is_written(
    wecom_conn: Any, make_context: Any, case_store: Any, overrides: dict[str, Any], says: str
) -> None:
    params = layoff(**overrides)
    with pytest.raises(AirflowFailException, match=says):
        check(params, make_context)
    assert not opened(case_store, params)


def test_the_user_who_triggers_the_list_may_not_approve_it(
    wecom_conn: Any, make_context: Any, case_store: Any
) -> None:
    params = layoff(approvers=["approver", "ops"])
    with pytest.raises(AirflowFailException, match="approvers: ops is the user who triggered this case"):
        check(params, make_context, user="ops")
    assert not opened(case_store, params)


def test_a_person_in_another_open_case_keeps_the_list_out(
    wecom_conn: Any, make_context: Any, case_store: Any, open_cases: dict[str, str]
) -> None:
    open_cases["zhaoliu"] = "offboard-zhaoliu (running)"
    params = layoff()
    with pytest.raises(
        AirflowFailException,
        match=r"persons\[1\]\.userid: zhaoliu is in the open case offboard-zhaoliu \(running\)",
    ):
        check(params, make_context)
    assert not opened(case_store, params)
    open_cases.clear()
    check(params, make_context)
    assert opened(case_store, params)
