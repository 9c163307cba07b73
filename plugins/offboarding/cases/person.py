"""The person case (DAG ``offboard_employee``): one departing employee, as typed into the trigger form.

``PERSON_CASE_SCHEMA`` is the one definition the trigger form (``person_params()``), the bulk CLI
and the DAG's first task validate with; ``validate_person_case`` adds the cross-field rules a
per-field schema cannot express.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from offboarding.cases import fields as f

if TYPE_CHECKING:
    from offboarding.cases.problems import FieldProblem

PERSON_DAG_ID = "offboard_employee"
PERSON_ROLES = ("employee", "legal_representative", "finance_owner")

PERSON_CASE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Offboard one employee (员工离职)",
    "type": "object",
    "properties": {
        "userid": f.wecom_userid(
            "WeCom userid (企业微信账号)",
            "The departing person's userid in WeCom contacts (成员UserID), e.g. zhangsan.",
            f.SECTION_PERSON,
        ),
        "display_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "title": "Name (姓名)",
            "description": "The person's name as HR knows it; shown in messages and the evidence bundle.",
            "section": f.SECTION_PERSON,
        },
        "last_working_day": {
            "type": "string",
            "format": "date",
            "title": "Last working day (最后工作日)",
            "description": "Nothing irreversible happens before the end of this day (Asia/Shanghai).",
            "section": f.SECTION_PERSON,
        },
        "role": {
            "type": "string",
            "enum": list(PERSON_ROLES),
            "default": "employee",
            "values_display": {
                "employee": "Employee (员工)",
                "legal_representative": "Legal representative (法定代表人)",
                "finance_owner": "Finance owner (财务负责人)",
            },
            "title": "Role (角色)",
            "description": (
                "Legal representatives and finance owners get extra statutory steps "
                "(tax and social-insurance hand-over) before their account is removed."
            ),
            "section": f.SECTION_PERSON,
        },
        "successor_userid": f.wecom_userid(
            "Successor userid (交接人)",
            "Who inherits the customers, customer groups and files (在职继承/离职继承). Must differ from the userid.",
            f.SECTION_HANDOVER,
        ),
        "wedrive_space_ids": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
            "default": [],
            "title": "WeDrive spaces (微盘空间ID)",
            "description": "Ids of app-created WeDrive spaces to back up; empty: none.",
            "section": f.SECTION_BACKUP,
        },
        "backup_target": f.field(f.BACKUP_TARGET),
        "hr_owner": f.airflow_user(
            "HR owner (HR负责人)",
            "Airflow user name of the HR person who owns this case and answers its HR steps.",
            f.SECTION_APPROVAL,
        ),
        "airflow_user": f.field(
            f.airflow_user(
                "The person's Airflow user (本人的 Airflow 账号)",
                "Who answers the person's own steps (tax role hand-over, legal-representative change, "
                "account deregistration). Empty: the WeCom userid.",
                f.SECTION_PERSON,
            ),
            minLength=0,
            pattern=f"^$|{f.AIRFLOW_USERNAME_PATTERN}",
            default="",
        ),
        "approvers": f.approvers("Airflow user names allowed to approve deleting the member (at least one)."),
        "deregister_account": {
            "type": "boolean",
            "default": False,
            "title": "Deregister the WeCom account (注销账号)",
            "description": (
                "Also walk the person through deleting their own WeCom account in the app "
                "(review 1-2 working days, then a 15-day cooling-off)."
            ),
            "section": f.SECTION_PERSON,
        },
        "notify": f.field(f.NOTIFY),
        "wecom_conn_id": f.field(f.WECOM_CONN_ID),
        "dry_run": f.field(f.DRY_RUN),
        "time_scale": f.field(f.TIME_SCALE),
    },
    "required": ["userid", "display_name", "last_working_day", "successor_userid", "hr_owner", "approvers"],
    "additionalProperties": False,
}

PERSON_CASE_FIELDS: tuple[str, ...] = tuple(PERSON_CASE_SCHEMA["properties"])
#: Fields the deployment may default (policy ``approvals.default_approvers`` / ``default_hr_owner``): an
#: HR export may leave them out; Airflow fills them from the trigger form's defaults, or refuses the run.
DEPLOYMENT_DEFAULT_FIELDS = ("hr_owner", "approvers")


def without_deployment_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` where the fields the deployment may default are not required."""
    return {**schema, "required": [r for r in schema["required"] if r not in DEPLOYMENT_DEFAULT_FIELDS]}


def schema_to_check(
    schema: dict[str, Any], *, allow_unknown: bool, deployment_defaults: bool
) -> dict[str, Any]:
    """A form's schema as a validation asks for it: fields it does not know allowed (``allow_unknown``), the
    fields the deployment may default not required (``deployment_defaults``)."""
    if allow_unknown:
        schema = {**schema, "additionalProperties": True}
    return without_deployment_defaults(schema) if deployment_defaults else schema


def time_scale_problem(conf: Mapping[str, Any]) -> FieldProblem | None:
    """A time_scale that JSON schema lets through (a number, not below 1) but :class:`TimeScale` refuses
    (NaN, infinity); the schema reports every other bad value."""
    from offboarding.cases.problems import FieldProblem
    from offboarding.timescale import TimeScale

    scale = conf.get("time_scale")
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale < 1:
        return None
    try:
        TimeScale(scale)
    except ValueError:
        return FieldProblem("time_scale", f"must be a finite number, got {scale!r}")
    return None


def validate_person_case(
    conf: Any, *, allow_unknown: bool = False, deployment_defaults: bool = False
) -> list[FieldProblem]:
    """Everything wrong with a person case's conf (empty list: valid).

    ``allow_unknown`` accepts fields the schema does not know (for DAGs that add their own params);
    ``deployment_defaults`` accepts a conf without ``hr_owner``/``approvers`` (the deployment's defaults
    apply when the run is created).
    """
    from offboarding.cases.approvers import separation_problems
    from offboarding.cases.problems import FieldProblem, schema_problems

    schema = schema_to_check(
        PERSON_CASE_SCHEMA, allow_unknown=allow_unknown, deployment_defaults=deployment_defaults
    )
    problems = schema_problems(schema, conf)
    if not isinstance(conf, Mapping):
        return problems
    userid, successor = conf.get("userid"), conf.get("successor_userid")
    if isinstance(userid, str) and isinstance(successor, str) and userid.lower() == successor.lower():
        problems.append(FieldProblem("successor_userid", f"must differ from userid ({userid})"))
    if (problem := time_scale_problem(conf)) is not None:
        problems.append(problem)
    problems.extend(separation_problems(conf, "person"))
    return problems
