"""The company case (DAG ``dissolve_company``): one company being wound up, as typed into the trigger form.

``COMPANY_CASE_SCHEMA`` carries the credit code's pattern and ``format: "cn-credit-code"`` (checked
by Airflow once ``register_format_checks()`` ran); ``validate_company_case`` reports a bad code
with the exact reason (length, character, check character) instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from offboarding.cases import fields as f
from offboarding.cases.credit_code import CREDIT_CODE_PATTERN, credit_code_problem
from offboarding.cases.person import time_scale_problem

if TYPE_CHECKING:
    from offboarding.cases.problems import FieldProblem

COMPANY_DAG_ID = "dissolve_company"
COMPANY_PROCEDURES = ("general", "simplified")
CREDIT_CODE_FORMAT = "cn-credit-code"

COMPANY_CASE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Dissolve a company (公司注销)",
    "type": "object",
    "properties": {
        "company_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "title": "Company name (公司名称)",
            "description": "The registered name, as on the business licence (营业执照).",
            "section": f.SECTION_COMPANY,
        },
        "credit_code": {
            "type": "string",
            "pattern": CREDIT_CODE_PATTERN,
            "format": CREDIT_CODE_FORMAT,
            "title": "Unified social credit code (统一社会信用代码)",
            "description": "18 characters from the business licence, e.g. 91350100M000100Y43; the last is a check character.",
            "section": f.SECTION_COMPANY,
        },
        "procedure": {
            "type": "string",
            "enum": list(COMPANY_PROCEDURES),
            "values_display": {
                "general": "General deregistration (一般注销): 45-day creditor notice",
                "simplified": "Simplified deregistration (简易注销): 20-day public notice",
            },
            "title": "Procedure (注销方式)",
            "description": "Which deregistration procedure the company qualifies for and has chosen.",
            "section": f.SECTION_COMPANY,
        },
        "legal_representative": f.airflow_user(
            "Legal representative (法定代表人)",
            "Airflow user name of the legal representative, who answers the tax and social-insurance steps.",
            f.SECTION_APPROVAL,
        ),
        "finance_owner": f.airflow_user(
            "Finance owner (财务负责人)",
            "Airflow user name of the finance owner, who records the tax clearance (清税证明).",
            f.SECTION_APPROVAL,
        ),
        "approvers": f.approvers(
            "Airflow user names allowed to approve removing members and closing the corp."
        ),
        "successor_userid": f.wecom_userid(
            "Successor userid (交接人)",
            "WeCom userid who inherits the members' customers and groups until the corp is closed.",
            f.SECTION_HANDOVER,
        ),
        "admin_userid": f.field(
            f.wecom_userid(
                "Admin's WeCom userid (管理员账号)",
                "The admin who dissolves the enterprise in the admin console and then deregisters their own "
                "account. Handled last, after every other member.",
                f.SECTION_HANDOVER,
            ),
            minLength=0,
            pattern=f"^$|{f.WECOM_USERID_PATTERN}",
            default="",
        ),
        "deregister_admin_account": {
            "type": "boolean",
            "default": False,
            "title": "Deregister the admin's WeCom account (注销管理员账号)",
            "description": "After the enterprise is dissolved, walk the admin through deleting their own account.",
            "section": f.SECTION_HANDOVER,
        },
        "backup_target": f.field(f.BACKUP_TARGET),
        "notify": f.field(f.NOTIFY),
        "wecom_conn_id": f.field(f.WECOM_CONN_ID),
        "dry_run": f.field(f.DRY_RUN),
        "time_scale": f.field(f.TIME_SCALE),
    },
    "required": [
        "company_name",
        "credit_code",
        "procedure",
        "legal_representative",
        "finance_owner",
        "approvers",
        "successor_userid",
    ],
    "additionalProperties": False,
}

COMPANY_CASE_FIELDS: tuple[str, ...] = tuple(COMPANY_CASE_SCHEMA["properties"])


def validate_company_case(
    conf: Any, *, allow_unknown: bool = False, deployment_defaults: bool = False
) -> list[FieldProblem]:
    """Everything wrong with a company case's conf (empty list: valid).

    ``allow_unknown`` accepts fields the schema does not know (for DAGs that add their own params);
    ``deployment_defaults`` accepts a conf without ``approvers`` (the deployment's default applies).
    """
    from offboarding.cases.approvers import separation_problems
    from offboarding.cases.person import schema_to_check
    from offboarding.cases.problems import FieldProblem, schema_problems

    schema = schema_to_check(
        COMPANY_CASE_SCHEMA, allow_unknown=allow_unknown, deployment_defaults=deployment_defaults
    )
    problems = schema_problems(schema, conf, skip_fields=("credit_code",))
    if not isinstance(conf, Mapping):
        return problems
    if "credit_code" in conf and (problem := credit_code_problem(conf["credit_code"])) is not None:
        problems.append(FieldProblem("credit_code", problem))
    if (problem := time_scale_problem(conf)) is not None:
        problems.append(problem)
    if conf.get("deregister_admin_account") and not conf.get("admin_userid"):
        problems.append(FieldProblem("admin_userid", "is required when deregister_admin_account is true"))
    problems.extend(separation_problems(conf, "company"))
    return problems
