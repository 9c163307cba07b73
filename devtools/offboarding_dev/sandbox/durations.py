"""WeCom-side durations and limits the sandbox simulates: WeCom's documented figures, its own configuration.

The sandbox plays WeCom; it does not copy the product. These figures are WeCom's behaviour as its
documentation describes it (``/work/shared/reference/wecom-api.md``), never read from the product's duration
policy, so a wrong policy value is caught by a rehearsal instead of being mirrored by the sandbox:

* a customer (or a resigned owner's group chat) is taken over **24 h** after a transfer is accepted
  (developer.work.weixin.qq.com/document/path/96331, /96325, /96334);
* an on-job customer may be transferred at most **twice in 90 days**; at most **300** of one resigned
  owner's group chats go to one new owner **per day** (path/96334);
* an account deregistration is reviewed (the app tells the person "1–2 working days"; shown here as
  ``review_working_days`` whole days) and then has a **15-day cooling-off** counted from submission.

Each lasts ``figure / time_scale`` of wall time. Change a figure with the sandbox's command-line flags
(``--takeover-hours``, ``--cooling-off-days``, ...) or the matching ``WECOM_SANDBOX_*`` environment
variables (:data:`ENV`), e.g. to rehearse what happens when WeCom is slower than the policy assumes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

HOUR = 3600.0
DAY = 86400.0

#: Environment variable → field, read by :meth:`WeComDurations.from_env` (the CLI flags' defaults).
ENV: dict[str, str] = {
    "WECOM_SANDBOX_TAKEOVER_HOURS": "customer_takeover_hours",
    "WECOM_SANDBOX_COOLING_OFF_DAYS": "cooling_off_days",
    "WECOM_SANDBOX_REVIEW_WORKING_DAYS": "review_working_days",
    "WECOM_SANDBOX_TRANSFER_WINDOW_DAYS": "transfer_window_days",
    "WECOM_SANDBOX_TRANSFERS_PER_WINDOW": "transfers_per_window",
    "WECOM_SANDBOX_GROUP_TRANSFERS_PER_DAY": "group_transfers_per_day",
}


@dataclass(frozen=True)
class WeComDurations:
    """WeCom's durations and transfer limits; the defaults are WeCom's documented figures."""

    customer_takeover_hours: float = 24
    cooling_off_days: float = 15
    review_working_days: float = 2
    transfer_window_days: float = 90
    transfers_per_window: int = 2
    group_transfers_per_day: int = 300

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{item.name} must be a number >= 0, got {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WeComDurations:
        """The documented figures, each replaced by its ``WECOM_SANDBOX_*`` variable when set."""
        environ = os.environ if environ is None else environ
        values: dict[str, float | int] = {}
        for name, field_name in ENV.items():
            text = environ.get(name, "").strip()
            if not text:
                continue
            integer = field_name in ("transfers_per_window", "group_transfers_per_day")
            try:
                values[field_name] = int(text) if integer else float(text)
            except ValueError:
                kind = "a whole number" if integer else "a number"
                raise ValueError(f"{name} must be {kind}, got {text!r}") from None
        return cls(**values)

    # WeCom-side seconds (compress them with the sandbox clock's wall_seconds) --------------------------
    @property
    def customer_takeover_seconds(self) -> float:
        """The automatic customer / group-chat takeover delay."""
        return self.customer_takeover_hours * HOUR

    @property
    def cooling_off_seconds(self) -> float:
        """The account-deregistration cooling-off period, counted from submission."""
        return self.cooling_off_days * DAY

    @property
    def review_hint_seconds(self) -> float:
        """What the app tells the person the review usually takes (working days shown as whole days)."""
        return self.review_working_days * DAY

    @property
    def transfer_window_seconds(self) -> float:
        """The window in which an on-job customer may be transferred ``transfers_per_window`` times."""
        return self.transfer_window_days * DAY


#: WeCom's documented figures.
DOCUMENTED = WeComDurations()
