"""Account deregistration (注销账号): the steps around what only the person can do in the app.

WeCom has no API for deregistering an account: the person submits in the app, WeCom reviews (expected
1–2 working days), then a 15-day cooling-off runs during which a login cancels the request. The run
sends the guide, records the submission, computes the legal deadlines once from the policy, waits,
and records the outcome. Durations come from ``include/policy.yaml``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.sdk import Context

from offboarding.operators.base import Case, CaseOperator

LOCAL = "Asia/Shanghai"


def _local(value: dt.datetime) -> str:
    return pendulum.instance(value).in_timezone(LOCAL).format("YYYY-MM-DD HH:mm (Asia/Shanghai)")


class SendDeregistrationGuideOperator(CaseOperator):
    """Send the person the in-app steps by WeCom app message while they can still receive it."""

    template_fields = ("userid",)

    def __init__(self, *, userid: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.userid = userid

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.cases.typed import PersonCase
        from offboarding.operators.hold import require_not_held
        from offboarding.paths import include_dir
        from offboarding.policy import get_policy

        require_not_held(self, case, context, what=f"asking {self.userid} to deregister the account")
        policy = get_policy()
        form = case.form
        if isinstance(form, PersonCase):  # the person leaving
            display_name, corp_name, hr_owner = form.display_name, self.hook.corpid, form.hr_owner
        else:  # the company's admin, last to go
            display_name, corp_name, hr_owner = self.userid, form.company_name, form.legal_representative
        template = (include_dir() / "templates" / "deregistration_guide.md").read_text(encoding="utf-8")
        text = template.format(
            display_name=display_name,
            corp_name=corp_name,
            hr_owner=hr_owner,
            review_working_days=policy.account_deregistration.review_working_days,
            cooling_off_days=policy.account_deregistration.cooling_off_days,
        )
        result = self.hook.app_messages.send_markdown([self.userid], text)
        invalid = list(getattr(result, "invalid_users", []) or [])
        self.record(
            "deregistration.guide_sent",
            request={"touser": self.userid, "chars": len(text)},
            result={"invalid_users": invalid},
        )
        if invalid:
            self.log.warning("WeCom could not deliver the guide to %s; HR must forward it", invalid)
        return {"userid": self.userid, "delivered": not invalid}


class PlanDeregistrationDeadlinesOperator(CaseOperator):
    """Compute the review due time and the end of the cooling-off from the recorded submission."""

    template_fields = ("submitted_at",)

    def __init__(self, *, submitted_at: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.submitted_at = submitted_at

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding import policy as deployment_policy

        if not self.submitted_at or self.submitted_at == "None":
            raise ValueError("submitted_at: the submission time was not recorded")
        submitted = pendulum.parse(str(self.submitted_at))
        if not isinstance(submitted, dt.datetime) or submitted.tzinfo is None:
            raise ValueError(f"submitted_at must be a date-time with a time zone, got {self.submitted_at!r}")
        review_due = deployment_policy.review_due(submitted)
        cooling_end = deployment_policy.cooling_off_end(submitted)
        plan = {
            "submitted_at": submitted.isoformat(),
            "review_due": review_due.isoformat(),
            "cooling_off_end": cooling_end.isoformat(),
            "review_due_local": _local(review_due),
            "cooling_off_end_local": _local(cooling_end),
            "calendar": deployment_policy.calendar_note(review_due.date()),
        }
        self.log.info(
            "review expected by %s; cooling-off ends %s (%s calendar)",
            plan["review_due_local"],
            plan["cooling_off_end_local"],
            plan["calendar"],
        )
        self.record("deregistration.deadlines_planned", result=plan)
        return plan


class RecordDeregistrationOutcomeOperator(CaseOperator):
    """Record a rejected review or a revoked request, and say what to do next."""

    def __init__(self, *, outcome: str, decision_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outcome = outcome
        self.decision_task_id = decision_task_id

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        answer = context["ti"].xcom_pull(task_ids=self.decision_task_id) or {}
        evidence = dict(answer.get("params_input") or {})
        next_step = {
            "rejected": "fix the reason WeCom gave, submit again in the app, then clear record_submission",
            "revoked": "the person logged in during the cooling-off, which cancels the request: ask them to "
            "submit again and not to log in, then clear record_submission",
        }[self.outcome]
        self.record(f"deregistration.{self.outcome}", result={"evidence": evidence, "next_step": next_step})
        self.log.warning("account deregistration %s: %s. Next: %s", self.outcome, evidence, next_step)
        return {"outcome": self.outcome, "evidence": evidence, "next_step": next_step}


class VerifyAccountGoneOperator(CaseOperator):
    """Check, where WeCom allows, that the member no longer resolves (60111)."""

    template_fields = ("userid",)

    def __init__(self, *, userid: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.userid = userid

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.deadlines import COOLING_OFF, require_deadline_passed
        from offboarding.wecom.errors import WeComDataError

        require_deadline_passed(
            case,
            COOLING_OFF,
            step=self.task_id,
            what=f"verifying that {self.userid} is gone",
            context=context,
        )
        try:
            member = self.hook.contacts.get_user(self.userid)
        except WeComDataError as err:
            if err.errcode not in (60111, 40003):
                raise
            result = {"userid": self.userid, "resolves": False, "errcode": err.errcode}
        else:
            result = {"userid": self.userid, "resolves": True, "status": member.get("status")}
        self.record("deregistration.verified", result=result)
        if result["resolves"]:
            raise ValueError(
                f"{self.userid} still resolves in WeCom (status {result.get('status')}): the member "
                "was not deleted; check the deletion step"
            )
        return result
