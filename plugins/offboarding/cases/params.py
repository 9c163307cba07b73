"""Airflow trigger-form Params built from the case schemas (Airflow is imported only when called)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from offboarding.cases.company import COMPANY_CASE_SCHEMA
from offboarding.cases.formats import register_format_checks
from offboarding.cases.layoff import LAYOFF_CASE_SCHEMA
from offboarding.cases.person import PERSON_CASE_SCHEMA

if TYPE_CHECKING:
    from airflow.sdk import Param


def params_from_schema(
    schema: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
) -> dict[str, Param]:
    """One ``Param`` per property: its ``default`` (if any) becomes the Param's value, the rest its schema.

    Fields without a default become required Params (the form must fill them in). ``backup_target``
    becomes a choice among the storage roots this deployment declares (see :func:`backup_target_choices`),
    so Airflow refuses another name when the run is created. ``defaults`` (the deployment's, see
    :func:`deployment_defaults`) fill fields the schema has no default for; the form still overrides them.
    """
    from airflow.sdk import Param

    register_format_checks()
    params: dict[str, Param] = {}
    for name, field_schema in schema["properties"].items():
        spec = copy.deepcopy(dict(field_schema))
        if name == "backup_target":
            spec.update(backup_target_choices())
        if defaults and name in defaults and "default" not in spec:
            spec["default"] = copy.deepcopy(defaults[name])
        if "default" in spec:
            params[name] = Param(spec.pop("default"), **spec)
        else:
            params[name] = Param(**spec)
    return params


def person_params() -> dict[str, Param]:
    """The ``offboard_employee`` trigger form: ``DAG(params=person_params())``."""
    return params_from_schema(PERSON_CASE_SCHEMA, deployment_defaults("person"))


def company_params() -> dict[str, Param]:
    """The ``dissolve_company`` trigger form: ``DAG(params=company_params())``."""
    return params_from_schema(COMPANY_CASE_SCHEMA, deployment_defaults("company"))


def layoff_params() -> dict[str, Param]:
    """The ``offboard_layoff`` trigger form: ``DAG(params=layoff_params())``."""
    return params_from_schema(LAYOFF_CASE_SCHEMA, deployment_defaults("layoff"))


def deployment_defaults(kind: str) -> dict[str, Any]:
    """The deployment's defaults of the form (policy ``approvals.default_approvers`` /
    ``approvals.default_hr_owner``), so an HR export with only the person's columns is accepted.

    Read where the DAG is parsed; a policy that cannot be read adds no default (the case's first task
    fails naming the policy problem).
    """
    from offboarding.policy import PolicyError, get_policy

    try:
        approvals = get_policy().approvals
    except PolicyError:
        return {}
    found: dict[str, Any] = {}
    if approvals.default_approvers:
        found["approvers"] = list(approvals.default_approvers)
    if kind in ("person", "layoff") and approvals.default_hr_owner:
        found["hr_owner"] = approvals.default_hr_owner
    return found


def backup_target_choices() -> dict[str, Any]:
    """``enum`` and ``values_display`` of the trigger form's ``backup_target``: the deployment's roots.

    Read where the DAG is parsed, so the DAG processor needs the same ``OFFBOARDING_BACKUP_ROOTS`` as the
    workers. When the variable cannot be read, no choice is added here (the pattern still applies) and the
    case's first task fails naming the variable.
    """
    from offboarding.backup.errors import BackupConfigError
    from offboarding.backup.roots import configured_roots

    try:
        roots = configured_roots()
    except BackupConfigError:
        return {}
    return {
        "enum": list(roots),
        "values_display": {name: name or "default (the deployment's data folder)" for name in roots},
    }
