"""Airflow trigger-form Params built from the case schemas (Airflow is imported only when called)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from offboarding.cases.company import COMPANY_CASE_SCHEMA
from offboarding.cases.formats import register_format_checks
from offboarding.cases.person import PERSON_CASE_SCHEMA

if TYPE_CHECKING:
    from airflow.sdk import Param


def params_from_schema(schema: Mapping[str, Any]) -> dict[str, Param]:
    """One ``Param`` per property: its ``default`` (if any) becomes the Param's value, the rest its schema.

    Fields without a default become required Params (the form must fill them in).
    """
    from airflow.sdk import Param

    register_format_checks()
    params: dict[str, Param] = {}
    for name, field_schema in schema["properties"].items():
        spec = copy.deepcopy(dict(field_schema))
        if "default" in spec:
            params[name] = Param(spec.pop("default"), **spec)
        else:
            params[name] = Param(**spec)
    return params


def person_params() -> dict[str, Param]:
    """The ``offboard_employee`` trigger form: ``DAG(params=person_params())``."""
    return params_from_schema(PERSON_CASE_SCHEMA)


def company_params() -> dict[str, Param]:
    """The ``dissolve_company`` trigger form: ``DAG(params=company_params())``."""
    return params_from_schema(COMPANY_CASE_SCHEMA)
