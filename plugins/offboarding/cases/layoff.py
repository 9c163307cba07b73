"""The layoff case (DAG ``offboard_layoff``): a list of persons leaving together (批量优化), as one case.

A mass layoff is one HR export of hundreds of persons with the same last working day. As one case it is
offboarded the way a dissolving company's members are: the persons in batches of 200 (backup verified,
customers and groups to each person's successor, ``user/batchdelete``, resigned transfers), after one
approval for the whole list. ``offboarding bulk-trigger export.csv --one-case <list id>`` turns the export
into this form; a person with steps of their own (a legal representative, an account to deregister)
gets an ``offboard_employee`` case instead.

``persons`` is a list of ``{"userid", "successor_userid", "display_name"}``; a successor may not be on
the list (they keep what they inherit) and nobody is their own successor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from offboarding.cases import fields as f
from offboarding.cases.person import time_scale_problem

if TYPE_CHECKING:
    from offboarding.cases.problems import FieldProblem

LAYOFF_DAG_ID = "offboard_layoff"
MAX_LAYOFF_PERSONS = 10_000
"""The most persons one layoff case takes (the plan and the approval screen stay readable)."""

LAYOFF_CASE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Offboard a list of persons (批量优化)",
    "type": "object",
    "properties": {
        "list_id": {
            "type": "string",
            "pattern": f.LIST_ID_PATTERN,
            "title": "List id (批次编号)",
            "description": "Names the case: layoff-<list id>, e.g. 2026q4-east. A list is offboarded once.",
            "section": f.SECTION_PERSON,
        },
        "list_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "title": "Name (名称)",
            "description": "What HR calls this list, e.g. 2026年Q4 华东区优化; shown in messages and the evidence.",
            "section": f.SECTION_PERSON,
        },
        "last_working_day": {
            "type": "string",
            "format": "date",
            "title": "Last working day (最后工作日)",
            "description": "Everyone's; nothing irreversible happens before the end of this day (Asia/Shanghai).",
            "section": f.SECTION_PERSON,
        },
        "persons": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_LAYOFF_PERSONS,
            "items": {
                "type": "object",
                "properties": {
                    "userid": {"type": "string", "pattern": f.WECOM_USERID_PATTERN},
                    "successor_userid": {"type": "string", "pattern": f.WECOM_USERID_PATTERN},
                    "display_name": {"type": "string", "maxLength": 64},
                },
                "required": ["userid", "successor_userid"],
                "additionalProperties": False,
            },
            "title": "Persons (离职人员)",
            "description": (
                'One entry per person: {"userid": "zhangsan", "successor_userid": "lisi", "display_name": '
                '"张三"}. The successor inherits the person\'s customers and customer groups.'
            ),
            "section": f.SECTION_HANDOVER,
        },
        "hr_owner": f.airflow_user(
            "HR owner (HR负责人)",
            "Airflow user name of the HR person who owns this list.",
            f.SECTION_APPROVAL,
        ),
        "approvers": f.approvers("Airflow user names allowed to approve deleting the listed members."),
        "backup_target": f.field(f.BACKUP_TARGET),
        "notify": f.field(f.NOTIFY),
        "wecom_conn_id": f.field(f.WECOM_CONN_ID),
        "dry_run": f.field(f.DRY_RUN),
        "time_scale": f.field(f.TIME_SCALE),
    },
    "required": ["list_id", "list_name", "last_working_day", "persons", "hr_owner", "approvers"],
    "additionalProperties": False,
}

LAYOFF_CASE_FIELDS: tuple[str, ...] = tuple(LAYOFF_CASE_SCHEMA["properties"])


def listed_persons(conf: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The form's ``persons`` entries that are objects (the schema reports the rest)."""
    persons = conf.get("persons")
    return [p for p in persons if isinstance(p, Mapping)] if isinstance(persons, list) else []


def listed_userids(conf: Mapping[str, Any]) -> list[str]:
    """Every listed person's userid, in the list's order."""
    return [p["userid"] for p in listed_persons(conf) if isinstance(p.get("userid"), str)]


def _list_problems(conf: Mapping[str, Any]) -> list[FieldProblem]:
    """A person listed twice, a successor who is also leaving, a person who is their own successor."""
    from offboarding.cases.problems import FieldProblem

    problems: list[FieldProblem] = []
    first_at: dict[str, int] = {}
    for index, person in enumerate(listed_persons(conf)):
        userid = person.get("userid")
        if isinstance(userid, str):
            seen = first_at.setdefault(userid.lower(), index)
            if seen != index:
                problems.append(
                    FieldProblem(f"persons[{index}].userid", f"{userid} is listed already (persons[{seen}])")
                )
    for index, person in enumerate(listed_persons(conf)):
        userid, successor = person.get("userid"), person.get("successor_userid")
        if not isinstance(successor, str):
            continue
        if isinstance(userid, str) and successor.lower() == userid.lower():
            problems.append(
                FieldProblem(f"persons[{index}].successor_userid", f"must differ from userid ({userid})")
            )
        elif successor.lower() in first_at:
            problems.append(
                FieldProblem(
                    f"persons[{index}].successor_userid",
                    f"{successor} is leaving in this list too (persons[{first_at[successor.lower()]}]); "
                    "name a successor who stays",
                )
            )
    return problems


def validate_layoff_case(
    conf: Any, *, allow_unknown: bool = False, deployment_defaults: bool = False
) -> list[FieldProblem]:
    """Everything wrong with a layoff case's conf (empty list: valid); see :func:`validate_person_case`."""
    from offboarding.cases.approvers import separation_problems
    from offboarding.cases.person import schema_to_check
    from offboarding.cases.problems import schema_problems

    schema = schema_to_check(
        LAYOFF_CASE_SCHEMA, allow_unknown=allow_unknown, deployment_defaults=deployment_defaults
    )
    problems = schema_problems(schema, conf)
    if not isinstance(conf, Mapping):
        return problems
    problems.extend(_list_problems(conf))
    if (problem := time_scale_problem(conf)) is not None:
        problems.append(problem)
    problems.extend(separation_problems(conf, "layoff"))
    return problems
