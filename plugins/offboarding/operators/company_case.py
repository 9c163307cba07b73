"""``check_case`` of ``dissolve_company``: the shared form check plus the rule that ties the admin fields.

The company form (``offboarding.cases.company``) carries ``admin_userid`` — the WeCom admin who
dissolves the enterprise in the admin console, kept until then — and ``deregister_admin_account``.
Each is valid on its own when empty/false; together, deregistering the admin's account needs the admin.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case
from offboarding.operators.preflight import CheckCaseOperator


def admin_userid(conf: Any) -> str | None:
    """The form's ``admin_userid``, or None when left empty."""
    value = conf.get("admin_userid") if hasattr(conf, "get") else None
    return value.strip() or None if isinstance(value, str) else None


class CheckCompanyCaseOperator(CheckCaseOperator):
    """``check_case`` for a company: every field as for every case, then the admin fields together."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        if case.kind != "company":
            raise AirflowFailException("credit_code: a company case needs the unified social credit code")
        if case.conf.get("deregister_admin_account") is True and admin_userid(case.conf) is None:
            raise AirflowFailException(
                "the trigger form is invalid: admin_userid: is required when deregister_admin_account is true "
                "(whose account would be deregistered?)"
            )
        result = super().run(case, context)
        return {**result, "admin_userid": admin_userid(case.conf)}
