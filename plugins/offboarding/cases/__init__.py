"""Case schemas: what an ops engineer types to start a case, defined once for every entry point.

The trigger forms (``person_params()``/``company_params()``), the bulk CLI and the DAGs' first
task all validate against ``PERSON_CASE_SCHEMA`` / ``COMPANY_CASE_SCHEMA`` (plain JSON schema, no
Airflow import) plus the cross-field rules in ``validate_person_case`` / ``validate_company_case``.
The case id (``offboard-<userid>``, ``dissolve-<credit code>``; ``dryrun-`` before either for a dry
run) is the DAG run id.

``notify`` (both cases) is an object ``{"webhook_conn_id": str | null, "userids": [userid, ...]}``:
an Airflow connection of a WeCom group robot (conn type ``wecom_webhook``) and/or WeCom userids
that get an app message; by default both are empty and alerts show in Airflow only.

Tasks read the form parsed once into a frozen ``PersonCase`` / ``CompanyCase``
(:mod:`offboarding.cases.typed`): the same validation, then typed values under the form's names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from offboarding.cases.company import (
    COMPANY_CASE_FIELDS,
    COMPANY_CASE_SCHEMA,
    COMPANY_DAG_ID,
    COMPANY_PROCEDURES,
    CREDIT_CODE_FORMAT,
    validate_company_case,
)
from offboarding.cases.formats import register_format_checks
from offboarding.cases.layoff import (
    LAYOFF_CASE_FIELDS,
    LAYOFF_CASE_SCHEMA,
    LAYOFF_DAG_ID,
    MAX_LAYOFF_PERSONS,
    validate_layoff_case,
)
from offboarding.cases.params import company_params, layoff_params, params_from_schema, person_params
from offboarding.cases.person import (
    PERSON_CASE_FIELDS,
    PERSON_CASE_SCHEMA,
    PERSON_DAG_ID,
    PERSON_ROLES,
    validate_person_case,
)
from offboarding.lazy_exports import lazy_exports

CASE_DAG_OF_KIND = {"person": PERSON_DAG_ID, "company": COMPANY_DAG_ID, "layoff": LAYOFF_DAG_ID}
"""The DAG whose runs are the cases of each kind."""
KIND_OF_CASE_DAG = {dag_id: kind for kind, dag_id in CASE_DAG_OF_KIND.items()}
"""The kind of case each case DAG runs."""

if TYPE_CHECKING:
    from offboarding.cases.case_ids import (
        COMPANY_CASE_PREFIX,
        DRY_RUN_CASE_PREFIX,
        LAYOFF_CASE_PREFIX,
        PERSON_CASE_PREFIX,
        case_kind,
        company_case_id,
        is_dry_run_case_id,
        layoff_case_id,
        person_case_id,
    )
    from offboarding.cases.credit_code import credit_code_problem, is_valid_credit_code
    from offboarding.cases.problems import FieldProblem
    from offboarding.cases.typed import (
        CompanyCase,
        InvalidCase,
        LayoffCase,
        Notify,
        PersonCase,
        parse_case,
        parse_company_case,
        parse_layoff_case,
        parse_person_case,
    )

# Imported when first asked for: the DAG files need only the forms' schemas and Params; the case ids,
# the validation's problems and the typed cases (:mod:`offboarding.cases.typed`) are for a running task.
_LAZY = {
    "offboarding.cases.case_ids": (
        "COMPANY_CASE_PREFIX",
        "DRY_RUN_CASE_PREFIX",
        "LAYOFF_CASE_PREFIX",
        "PERSON_CASE_PREFIX",
        "case_kind",
        "company_case_id",
        "is_dry_run_case_id",
        "layoff_case_id",
        "person_case_id",
    ),
    "offboarding.cases.credit_code": ("credit_code_problem", "is_valid_credit_code"),
    "offboarding.cases.problems": ("FieldProblem",),
    "offboarding.cases.typed": (
        "CompanyCase",
        "InvalidCase",
        "LayoffCase",
        "Notify",
        "PersonCase",
        "parse_case",
        "parse_company_case",
        "parse_layoff_case",
        "parse_person_case",
    ),
}
__getattr__ = lazy_exports(__name__, {name: module for module, names in _LAZY.items() for name in names})


__all__ = [
    "CASE_DAG_OF_KIND",
    "COMPANY_CASE_FIELDS",
    "COMPANY_CASE_PREFIX",
    "COMPANY_CASE_SCHEMA",
    "COMPANY_DAG_ID",
    "COMPANY_PROCEDURES",
    "CREDIT_CODE_FORMAT",
    "DRY_RUN_CASE_PREFIX",
    "KIND_OF_CASE_DAG",
    "LAYOFF_CASE_FIELDS",
    "LAYOFF_CASE_PREFIX",
    "LAYOFF_CASE_SCHEMA",
    "LAYOFF_DAG_ID",
    "MAX_LAYOFF_PERSONS",
    "PERSON_CASE_FIELDS",
    "PERSON_CASE_PREFIX",
    "PERSON_CASE_SCHEMA",
    "PERSON_DAG_ID",
    "PERSON_ROLES",
    "CompanyCase",
    "FieldProblem",
    "InvalidCase",
    "LayoffCase",
    "Notify",
    "PersonCase",
    "case_kind",
    "company_case_id",
    "company_params",
    "credit_code_problem",
    "is_dry_run_case_id",
    "is_valid_credit_code",
    "layoff_case_id",
    "layoff_params",
    "params_from_schema",
    "parse_case",
    "parse_company_case",
    "parse_layoff_case",
    "parse_person_case",
    "person_case_id",
    "person_params",
    "register_format_checks",
    "validate_company_case",
    "validate_layoff_case",
    "validate_person_case",
]
