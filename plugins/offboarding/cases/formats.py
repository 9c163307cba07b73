"""Custom JSON-schema formats of the case schemas, made known to Airflow's own Param validation.

Airflow validates every Param with ``jsonschema.validate(..., format_checker=FormatChecker())``;
a ``FormatChecker()`` built with no arguments copies the class-level registry, so adding our
format there makes Airflow refuse a credit code with a wrong check character at run creation
(REST 400, UI error) in every process that called ``register_format_checks()``.
"""

from __future__ import annotations

from jsonschema import FormatChecker

from offboarding.cases.company import CREDIT_CODE_FORMAT
from offboarding.cases.credit_code import is_valid_credit_code


def register_format_checks() -> None:
    """Register ``cn-credit-code`` on jsonschema's ``FormatChecker`` class (idempotent)."""
    # ``FormatChecker.cls_checks`` does exactly this but is deprecated since jsonschema 4.14.
    FormatChecker.checkers[CREDIT_CODE_FORMAT] = (is_valid_credit_code, ())
