"""WeCom-side durations the sandbox simulates, read from the product's duration policy.

These are WeCom's behaviour, not the product's waits; they come from ``offboarding.policy`` so the sandbox
and the product agree on one figure (24 h takeover, 15-day cooling-off, review working days). Each lasts
``figure / time_scale`` of wall time. If the policy cannot be loaded (e.g. a container without
``include/``), the sandbox says so once and uses WeCom's documented figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger(__name__)

HOUR = 3600.0
DAY = 86400.0

# WeCom rules the policy does not carry (they are limits, not waits the product plans around).
TRANSFER_WINDOW_DAYS = 90  # a customer may be transferred on-job at most twice in this many days
TRANSFERS_PER_WINDOW = 2
GROUP_TRANSFERS_PER_DAY = 300  # resigned group chats from one owner to one new owner per day

# WeCom's documented figures, used only when the policy cannot be loaded.
_DOCUMENTED = {"customer_takeover_hours": 24, "cooling_off_days": 15, "review_working_days": 2}


@dataclass(frozen=True)
class WeComDurations:
    customer_takeover_hours: int
    cooling_off_days: int
    review_working_days: int


@lru_cache(maxsize=1)
def wecom_durations() -> WeComDurations:
    """The figures, from ``offboarding.policy.get_policy()`` (cached for the process)."""
    try:
        from offboarding.policy import get_policy

        policy = get_policy()
        return WeComDurations(
            customer_takeover_hours=policy.handover.customer_takeover_hours,
            cooling_off_days=policy.account_deregistration.cooling_off_days,
            review_working_days=policy.account_deregistration.review_working_days,
        )
    except Exception as error:  # the sandbox must still run; say which figures it uses instead
        log.warning(
            "duration policy not loaded (%s); using WeCom's documented figures %s", error, _DOCUMENTED
        )
        return WeComDurations(**_DOCUMENTED)


def customer_takeover_seconds() -> float:
    """WeCom's automatic customer takeover delay in WeCom-side seconds."""
    return wecom_durations().customer_takeover_hours * HOUR


def cooling_off_seconds() -> float:
    """The account-deregistration cooling-off period in WeCom-side seconds (counted from submission)."""
    return wecom_durations().cooling_off_days * DAY


def review_hint_seconds() -> float:
    """What the app tells the person the review usually takes (working days shown as whole days)."""
    return wecom_durations().review_working_days * DAY
