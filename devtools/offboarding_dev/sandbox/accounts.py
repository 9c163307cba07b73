"""Account deregistration (注销账号): a simulated person and reviewer, since WeCom has no API for it.

The person deregisters in the app once they belong to no enterprise (their member was deleted) and are
neither the creator nor an admin. A reviewer decides after ``review_after_hours``; a pass starts the
cooling-off, which ends 15 days after submission; logging in during those 15 days (under review or in
cooling-off) revokes the request, as the seed article says ("在这期间，不能登录账号，一旦登录，注销申请将
自动撤销"). After that the account is deregistered for good.

The simulated person: when they receive an app message containing "注销账号" and their script says
``auto_submit``, they submit ``submit_after_hours`` later — or, if still a member then, as soon as their
member is deleted. All durations are WeCom-side and compressed by the time scale; progress is evaluated
lazily from the recorded instants whenever an account is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from offboarding_dev.sandbox.clock import SandboxClock, iso
from offboarding_dev.sandbox.durations import DAY, HOUR, WeComDurations

if TYPE_CHECKING:
    from offboarding_dev.sandbox.world import Member

GUIDE_KEYWORD = "注销账号"
ACTIVE, UNDER_REVIEW, REJECTED, COOLING_OFF, REVOKED, DEREGISTERED = (
    "active",
    "under_review",
    "rejected",
    "cooling_off",
    "revoked",
    "deregistered",
)
DEFAULT_REJECT_REASON = "账号存在安全风险，请稍后再试"


@dataclass
class DeregistrationScript:
    """How the simulated person and reviewer behave for one account."""

    auto_submit: bool = True
    submit_after_hours: float = 1.0
    review: str = "pass"
    reject_reason: str = DEFAULT_REJECT_REASON
    review_after_hours: float = 20.0
    login_during_cooling_off_after_days: float | None = None

    @classmethod
    def from_json(cls, spec: dict[str, Any], base: DeregistrationScript) -> DeregistrationScript:
        """Merge ``spec`` over ``base``; raises ValueError naming the bad field."""
        if not isinstance(spec, dict):
            raise ValueError("script must be a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"script has unknown field(s) {unknown}; known: {sorted(known)}")
        values = dict(base.__dict__)
        values.update(spec)
        if not isinstance(values["auto_submit"], bool):
            raise ValueError("script.auto_submit must be true or false")
        for name in ("submit_after_hours", "review_after_hours"):
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"script.{name} must be a number >= 0, got {value!r}")
        if values["review"] not in ("pass", "reject"):
            raise ValueError(f"script.review must be 'pass' or 'reject', got {values['review']!r}")
        if not isinstance(values["reject_reason"], str) or not values["reject_reason"]:
            raise ValueError("script.reject_reason must be a non-empty string")
        login = values["login_during_cooling_off_after_days"]
        if login is not None and (isinstance(login, bool) or not isinstance(login, int | float) or login < 0):
            raise ValueError(
                f"script.login_during_cooling_off_after_days must be null or a number >= 0, got {login!r}"
            )
        return cls(**values)


@dataclass
class Account:
    """The person's WeCom account behind a member, as the deregistration simulation sees it."""

    userid: str
    script: DeregistrationScript = field(default_factory=DeregistrationScript)
    status: str = ACTIVE
    guide_received_at: float | None = None
    submitted_at: float | None = None
    reviewed_at: float | None = None
    review_outcome: str | None = None
    reject_reason: str | None = None
    cooling_off_ends_at: float | None = None
    revoked_at: float | None = None
    deregistered_at: float | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    def event(self, at: float, kind: str, **detail: Any) -> None:
        self.events.append({"at": iso(at), "event": kind, **detail})

    def as_json(self, clock: SandboxClock, durations: WeComDurations) -> dict[str, Any]:
        hint = (
            self.submitted_at + clock.wall_seconds(durations.review_hint_seconds)
            if self.submitted_at
            else None
        )
        return {
            "userid": self.userid,
            "status": self.status,
            "submitted_at": iso(self.submitted_at),
            "review_due_hint": iso(hint),
            "reviewed_at": iso(self.reviewed_at),
            "review_outcome": self.review_outcome,
            "reject_reason": self.reject_reason,
            "cooling_off_ends_at": iso(self.cooling_off_ends_at),
            "revoked_at": iso(self.revoked_at),
            "deregistered_at": iso(self.deregistered_at),
            "script": dict(self.script.__dict__),
            "events": list(self.events),
        }


def refusal_reason(member: Member) -> str | None:
    """Why this person may not deregister now, or None (the article's preconditions)."""
    if member.is_creator:
        return "the creator of the enterprise cannot deregister; transfer the creator role first"
    if member.is_admin:
        return "an admin of the enterprise cannot deregister; remove the admin role first"
    if not member.deleted:
        return "the account still belongs to an enterprise; the member must be deleted from the corp first"
    return None


def submit(account: Account, member: Member, at: float, clock: SandboxClock) -> str | None:
    """Submit a deregistration at instant ``at``; returns the refusal reason instead when refused."""
    reason = refusal_reason(member)
    if reason is not None:
        account.event(at, "submission_refused", reason=reason)
        return reason
    account.status = UNDER_REVIEW
    account.submitted_at = at
    account.reviewed_at = account.review_outcome = account.reject_reason = None
    account.cooling_off_ends_at = account.revoked_at = None
    account.event(at, "submitted")
    return None


def login(account: Account, at: float) -> None:
    """The person logs in: within the 15 days after submission this revokes the request."""
    account.event(at, "login")
    if account.status in (UNDER_REVIEW, COOLING_OFF):
        account.status = REVOKED
        account.revoked_at = at
        account.event(at, "revoked", reason="logged in during the cooling-off period")


def receive_guide(account: Account, at: float) -> None:
    """The person got an app message about 注销账号."""
    account.event(at, "guide_received")
    if account.guide_received_at is None and account.status in (ACTIVE, REJECTED, REVOKED):
        account.guide_received_at = at


def advance(
    account: Account, member: Member, now: float, clock: SandboxClock, durations: WeComDurations
) -> None:
    """Apply every step of the person's and the reviewer's script that is due by ``now``."""
    script = account.script
    for _ in range(8):  # a handful of transitions at most; the loop stops when nothing is due
        if account.status in (ACTIVE, REJECTED, REVOKED) and account.guide_received_at is not None:
            if not script.auto_submit:
                return
            planned = account.guide_received_at + clock.wall_seconds(script.submit_after_hours * HOUR)
            if member.is_creator or member.is_admin:
                if planned <= now:
                    account.guide_received_at = None
                    submit(account, member, planned, clock)
                return
            if not member.deleted or member.deleted_at is None:
                return  # the person waits until they belong to no enterprise
            at = max(planned, member.deleted_at)
            if at > now:
                return
            account.guide_received_at = None
            submit(account, member, at, clock)
            continue
        if account.status == UNDER_REVIEW and account.submitted_at is not None:
            login_at = _scripted_login(account, clock)
            review_at = account.submitted_at + clock.wall_seconds(script.review_after_hours * HOUR)
            if login_at is not None and login_at <= now and login_at < review_at:
                login(account, login_at)
                return
            if review_at > now:
                return
            account.reviewed_at = review_at
            account.review_outcome = script.review
            if script.review == "reject":
                account.status = REJECTED
                account.reject_reason = script.reject_reason
                account.event(review_at, "rejected", reason=script.reject_reason)
                return
            account.status = COOLING_OFF
            account.cooling_off_ends_at = max(
                account.submitted_at + clock.wall_seconds(durations.cooling_off_seconds), review_at
            )
            account.event(review_at, "approved")
            continue
        if account.status == COOLING_OFF and account.cooling_off_ends_at is not None:
            login_at = _scripted_login(account, clock)
            if login_at is not None and login_at <= now and login_at < account.cooling_off_ends_at:
                login(account, login_at)
                return
            if account.cooling_off_ends_at > now:
                return
            account.status = DEREGISTERED
            account.deregistered_at = account.cooling_off_ends_at
            account.event(account.cooling_off_ends_at, "deregistered")
        return


def _scripted_login(account: Account, clock: SandboxClock) -> float | None:
    days = account.script.login_during_cooling_off_after_days
    if days is None or account.submitted_at is None:
        return None
    return account.submitted_at + clock.wall_seconds(days * DAY)
