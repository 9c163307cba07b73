"""Case schemas: what an ops engineer types to start a case, defined once for every entry point.

The trigger forms (``person_params()``/``company_params()``), the bulk CLI and the DAGs' first
task all validate against ``PERSON_CASE_SCHEMA`` / ``COMPANY_CASE_SCHEMA`` (plain JSON schema, no
Airflow import) plus the cross-field rules in ``validate_person_case`` / ``validate_company_case``.
The case id (``offboard-<userid>``, ``dissolve-<credit code>``; ``dryrun-`` before either for a dry
run) is the DAG run id.

``notify`` (both cases) is an object ``{"webhook_conn_id": str | null, "userids": [userid, ...]}``:
an Airflow connection of a WeCom group robot (conn type ``wecom_webhook``) and/or WeCom userids
that get an app message; by default both are empty and alerts show in Airflow only.
"""

from __future__ import annotations

from offboarding.cases.case_ids import (
    COMPANY_CASE_PREFIX,
    DRY_RUN_CASE_PREFIX,
    PERSON_CASE_PREFIX,
    company_case_id,
    is_dry_run_case_id,
    person_case_id,
)
from offboarding.cases.company import (
    COMPANY_CASE_FIELDS,
    COMPANY_CASE_SCHEMA,
    COMPANY_DAG_ID,
    COMPANY_PROCEDURES,
    CREDIT_CODE_FORMAT,
    validate_company_case,
)
from offboarding.cases.credit_code import credit_code_problem, is_valid_credit_code
from offboarding.cases.formats import register_format_checks
from offboarding.cases.params import company_params, params_from_schema, person_params
from offboarding.cases.person import (
    PERSON_CASE_FIELDS,
    PERSON_CASE_SCHEMA,
    PERSON_DAG_ID,
    PERSON_ROLES,
    validate_person_case,
)
from offboarding.cases.problems import FieldProblem

__all__ = [
    "COMPANY_CASE_FIELDS",
    "COMPANY_CASE_PREFIX",
    "COMPANY_CASE_SCHEMA",
    "COMPANY_DAG_ID",
    "COMPANY_PROCEDURES",
    "CREDIT_CODE_FORMAT",
    "DRY_RUN_CASE_PREFIX",
    "PERSON_CASE_FIELDS",
    "PERSON_CASE_PREFIX",
    "PERSON_CASE_SCHEMA",
    "PERSON_DAG_ID",
    "PERSON_ROLES",
    "FieldProblem",
    "company_case_id",
    "company_params",
    "credit_code_problem",
    "is_dry_run_case_id",
    "is_valid_credit_code",
    "params_from_schema",
    "person_case_id",
    "person_params",
    "register_format_checks",
    "validate_company_case",
    "validate_person_case",
]
