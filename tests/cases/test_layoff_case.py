"""The layoff form (``offboard_layoff``): a list of persons leaving together, parsed once, every bad
input refused naming its field; its case id (``layoff-<list id>``) and its kind.

``invalid_cases.yaml`` is not extended: its runner (test_case_schemas.py) knows the person and company
bases only, so the layoff's corpus is here, with the same contract (exactly one field named, what it says).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from types import SimpleNamespace
from typing import Any

import pytest

from offboarding.cases import (
    LAYOFF_CASE_SCHEMA,
    MAX_LAYOFF_PERSONS,
    InvalidCase,
    LayoffCase,
    case_kind,
    is_dry_run_case_id,
    layoff_case_id,
    parse_case,
    parse_layoff_case,
    validate_layoff_case,
)
from offboarding.cases.typed import LayoffPerson
from offboarding.timescale import TimeScale

LAYOFF_BASE: dict[str, Any] = {
    "list_id": "2026q4-east",
    "list_name": "2026年Q4 华东区优化",
    "last_working_day": "2026-12-31",
    "persons": [
        {"userid": "zhangsan", "successor_userid": "lisi", "display_name": "张三"},
        {"userid": "wangwu", "successor_userid": "zhaoliu"},
        {"userid": "Sun.Qi@corp", "successor_userid": "lisi", "display_name": "孙七"},
    ],
    "hr_owner": "hr_wang",
    "approvers": ["boss_li", "cfo_wu"],
}
# Airflow's run-id rule ([scheduler] allowed_run_id_pattern default) and its ban on "..".
AIRFLOW_RUN_ID = re.compile(r"^[A-Za-z0-9_.~:+-]+$")


def form(**overrides: Any) -> dict[str, Any]:
    conf = copy.deepcopy(LAYOFF_BASE)
    conf.update(copy.deepcopy(overrides))
    return conf


def with_person(*extra: dict[str, Any]) -> dict[str, Any]:
    return form(persons=[*LAYOFF_BASE["persons"], *extra])


def problems_of(conf: Any) -> list[tuple[str, str]]:
    return [(p.field, p.message) for p in validate_layoff_case(conf)]


# -- a valid list -----------------------------------------------------------------------------------


def test_a_valid_list_parses_to_a_typed_layoff_case() -> None:
    conf = form(time_scale=86400, dry_run=False, wecom_conn_id="wecom_layoff")
    assert validate_layoff_case(conf) == []

    case = parse_layoff_case(conf)

    assert isinstance(case, LayoffCase)
    assert (case.list_id, case.list_name) == ("2026q4-east", "2026年Q4 华东区优化")
    assert case.last_working_day == dt.date(2026, 12, 31)
    assert case.persons == (
        LayoffPerson("zhangsan", "lisi", "张三"),
        LayoffPerson("wangwu", "zhaoliu", ""),  # no display name: empty, not missing
        LayoffPerson("Sun.Qi@corp", "lisi", "孙七"),  # the userid as typed, never lower-cased
    )
    assert isinstance(case.persons, tuple) and isinstance(case.approvers, tuple)
    assert case.approvers == ("boss_li", "cfo_wu")
    assert case.successors == {"zhangsan": "lisi", "wangwu": "zhaoliu", "Sun.Qi@corp": "lisi"}
    assert list(case.successors) == ["zhangsan", "wangwu", "Sun.Qi@corp"]  # the list's order
    assert case.time_scale == TimeScale(86400)
    assert (case.wecom_conn_id, case.hr_owner) == ("wecom_layoff", "hr_wang")
    assert (case.kind, case.subject, case.case_id) == ("layoff", "2026年Q4 华东区优化", "layoff-2026q4-east")
    assert parse_case(conf) == case  # the form's own kind, found from its fields


def test_the_schema_defaults_fill_what_the_list_leaves_out() -> None:
    case = parse_layoff_case(LAYOFF_BASE)
    assert (case.backup_target, case.wecom_conn_id, case.dry_run) == ("", "wecom_default", False)
    assert (case.notify.webhook_conn_id, case.notify.userids) == (None, ())
    assert case.time_scale.is_real_time


def test_a_parsed_list_cannot_be_changed_on_the_way() -> None:
    case = parse_layoff_case(LAYOFF_BASE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.list_id = "another"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.persons[0].successor_userid = "someone_else"  # type: ignore[misc]


def test_a_list_of_exactly_the_most_persons_allowed_passes() -> None:
    persons = [{"userid": f"p{n:05d}", "successor_userid": "heir01"} for n in range(MAX_LAYOFF_PERSONS)]
    case = parse_layoff_case(form(persons=persons))
    assert len(case.persons) == MAX_LAYOFF_PERSONS == 10_000
    assert set(case.successors.values()) == {"heir01"}


# -- every bad input names its field ------------------------------------------------------------------

INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "a person listed twice",
        with_person({"userid": "wangwu", "successor_userid": "lisi"}),
        "persons[3].userid",
        "wangwu is listed already (persons[1])",
    ),
    (
        "a person listed twice in other letter case",
        with_person({"userid": "ZhangSan", "successor_userid": "zhaoliu"}),
        "persons[3].userid",
        "ZhangSan is listed already (persons[0])",
    ),
    (
        "a successor who is also on the list",
        with_person({"userid": "zhaoliu", "successor_userid": "lisi"}),
        "persons[1].successor_userid",
        "zhaoliu is leaving in this list too (persons[3]); name a successor who stays",
    ),
    (
        "a successor on the list in other letter case",
        form(
            persons=[
                {"userid": "zhangsan", "successor_userid": "WANGWU"},
                {"userid": "wangwu", "successor_userid": "zhaoliu"},
            ]
        ),
        "persons[0].successor_userid",
        "WANGWU is leaving in this list too (persons[1])",
    ),
    (
        "a person who is their own successor",
        with_person({"userid": "zhouba", "successor_userid": "ZhouBa"}),
        "persons[3].successor_userid",
        "must differ from userid (zhouba)",
    ),
    ("a list id with a space", form(list_id="2026 q4"), "list_id", "is not a list id"),
    ("a list id in capitals", form(list_id="Q4-East"), "list_id", "is not a list id"),
    ("a list id starting with a dash", form(list_id="-q4"), "list_id", "is not a list id"),
    ("a list id longer than 63", form(list_id="a" * 64), "list_id", "is not a list id"),
    ("an empty list id", form(list_id=""), "list_id", "is not a list id"),
    (
        "an approver who is a listed person",
        form(approvers=["boss_li", "WangWu"]),
        "approvers",
        "WangWu is a departing person (persons[1]) and may not approve this case (separation of duties)",
    ),
    (
        "an approver who is a successor",
        form(approvers=["zhaoliu"]),
        "approvers",
        "zhaoliu is a successor (persons[1].successor_userid) and may not approve this case",
    ),
    (
        "an hr owner who is on the list",
        form(hr_owner="sun.qi@corp"),
        "hr_owner",
        "sun.qi@corp is a departing person (persons[2]) and may not own the case",
    ),
    ("no persons", form(persons=[]), "persons", "needs at least 1 entry"),
    (
        "a person without a successor",
        form(persons=[{"userid": "zhangsan"}]),
        "persons[0].successor_userid",
        "is required",
    ),
    (
        "a person who is not an object",
        form(persons=["zhangsan"]),
        "persons[0]",
        "must be an object",
    ),
    (
        "a person with a field the list does not know",
        form(persons=[{"userid": "zhangsan", "successor_userid": "lisi", "dept": "sales"}]),
        "persons[0].dept",
        "unknown field",
    ),
    (
        "a userid that is not a WeCom userid",
        form(persons=[{"userid": "zhang san", "successor_userid": "lisi"}]),
        "persons[0].userid",
        "not a WeCom userid",
    ),
    (
        "a missing last working day",
        {k: v for k, v in LAYOFF_BASE.items() if k != "last_working_day"},
        "last_working_day",
        "is required",
    ),
    (
        "a missing list name",
        {k: v for k, v in LAYOFF_BASE.items() if k != "list_name"},
        "list_name",
        "is required",
    ),
    (
        "a missing hr owner",
        {k: v for k, v in LAYOFF_BASE.items() if k != "hr_owner"},
        "hr_owner",
        "is required",
    ),
]


@pytest.mark.parametrize(
    ("conf", "field", "says"), [pytest.param(c, f, s, id=name) for name, c, f, s in INVALID]
)
def test_a_bad_list_is_refused_naming_the_field(conf: dict[str, Any], field: str, says: str) -> None:
    problems = validate_layoff_case(conf)
    assert [p.field for p in problems] == [field], problems
    assert says in problems[0].message
    assert str(problems[0]).startswith(f"{field}: ")
    with pytest.raises(InvalidCase) as refused:
        parse_layoff_case(conf)
    assert refused.value.problems == problems  # the one validation, not a second one


def test_more_than_ten_thousand_persons_are_refused_in_a_short_message() -> None:
    persons = [{"userid": f"p{n:05d}", "successor_userid": "heir01"} for n in range(MAX_LAYOFF_PERSONS + 1)]

    problems = validate_layoff_case(form(persons=persons))

    assert [(p.field, p.message) for p in problems] == [
        ("persons", "has 10,001 entries, more than the 10,000 allowed")
    ]
    with pytest.raises(InvalidCase) as refused:
        parse_layoff_case(form(persons=persons))
    message = str(refused.value)
    assert len(message) < 200, message  # not the whole list back to the ops engineer
    assert "p00042" not in message


def test_every_person_handed_to_a_leaving_successor_is_named() -> None:
    conf = with_person({"userid": "lisi", "successor_userid": "zhaoliu"})  # lisi inherits persons 0 and 2
    assert problems_of(conf) == [
        (
            "persons[0].successor_userid",
            "lisi is leaving in this list too (persons[3]); name a successor who stays",
        ),
        (
            "persons[2].successor_userid",
            "lisi is leaving in this list too (persons[3]); name a successor who stays",
        ),
    ]


def test_every_problem_of_a_bad_list_is_reported_at_once() -> None:
    conf = form(
        list_id="Bad List",
        persons=[
            {"userid": "zhangsan", "successor_userid": "zhangsan"},
            {"userid": "ZHANGSAN", "successor_userid": "lisi"},
        ],
        approvers=["lisi"],
        hr_owner="zhangsan",
    )
    assert sorted(field for field, _ in problems_of(conf)) == [
        "approvers",
        "hr_owner",
        "list_id",
        "persons[0].successor_userid",
        "persons[1].userid",
    ]


def test_a_conf_that_is_not_an_object_is_refused() -> None:
    assert [str(p) for p in validate_layoff_case(["zhangsan"])] == [
        "(case): must be an object of fields, got list"
    ]


def test_allow_unknown_accepts_the_fields_a_task_adds() -> None:
    conf = form(rehearsal_seed="default")
    assert [field for field, _ in problems_of(conf)] == ["rehearsal_seed"]
    assert validate_layoff_case(conf, allow_unknown=True) == []


def test_the_schema_is_plain_json_with_form_extras_for_every_field() -> None:
    import json

    json.dumps(LAYOFF_CASE_SCHEMA)
    for name, field in LAYOFF_CASE_SCHEMA["properties"].items():
        assert field.get("title") and field.get("description") and field.get("section"), name
        assert re.search(r"\(.+\)", field["title"]), f"{name}: the title carries the Chinese term"
    assert LAYOFF_CASE_SCHEMA["properties"]["persons"]["maxItems"] == MAX_LAYOFF_PERSONS


# -- case id and kind ----------------------------------------------------------------------------------


@pytest.mark.parametrize("list_id", ["2026q4-east", "a", "q4_2026.batch-2", "0" + "x" * 62])
def test_the_case_id_is_the_list_id_and_a_valid_airflow_run_id(list_id: str) -> None:
    case_id = layoff_case_id(form(list_id=list_id))
    assert case_id == f"layoff-{list_id}"
    assert AIRFLOW_RUN_ID.match(case_id) and ".." not in case_id
    assert parse_layoff_case(form(list_id=list_id)).case_id == case_id


def test_a_dry_run_of_a_list_has_its_own_case_id() -> None:
    assert layoff_case_id(form(dry_run=True)) == "dryrun-layoff-2026q4-east"
    assert layoff_case_id(form(dry_run=False)) == "layoff-2026q4-east"
    assert is_dry_run_case_id(layoff_case_id(form(dry_run=True)))
    assert not is_dry_run_case_id(layoff_case_id(LAYOFF_BASE))
    assert parse_layoff_case(form(dry_run=True)).case_id == "dryrun-layoff-2026q4-east"


@pytest.mark.parametrize("list_id", ["Bad List", "", None, 42, "a..b/../x"])
def test_no_case_id_is_made_from_a_bad_list_id(list_id: Any) -> None:
    with pytest.raises(ValueError, match=r"list_id: .* is not a list id"):
        layoff_case_id(form(list_id=list_id))


def test_the_kind_of_a_form_is_found_from_its_fields() -> None:
    assert case_kind(LAYOFF_BASE) == "layoff"
    assert case_kind({"userid": "zhangsan", "successor_userid": "lisi"}) == "person"
    assert case_kind({"credit_code": "91350100M000100Y43", "successor_userid": "admin01"}) == "company"
    # persons alone make a list, even before anything else is filled in
    assert case_kind({"persons": []}) == "layoff"


def test_a_task_reads_the_typed_list_from_its_case() -> None:
    from offboarding.operators.base import Case

    context: Any = {
        "params": form(),
        "dag_run": SimpleNamespace(run_id="layoff-2026q4-east", triggering_user_name="ops"),
    }
    case = Case.from_context(context)
    assert (case.kind, case.case_id) == ("layoff", "layoff-2026q4-east")
    assert case.layoff.successors["wangwu"] == "zhaoliu"
    assert case.form is case.layoff  # parsed once per task
    with pytest.raises(TypeError, match=r"not a company case"):
        _ = case.company
    # A run started from the UI form (manual__...) still gets the list's case id.
    manual: Any = {
        "params": form(),
        "dag_run": SimpleNamespace(run_id="manual__2026-12-05T10:00:00", triggering_user_name="ops"),
    }
    assert Case.from_context(manual).case_id == "layoff-2026q4-east"
