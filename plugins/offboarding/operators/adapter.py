"""What every adapter shares: the form's member and successor, evidence entries with a key, and turning
a step's failure (:class:`offboarding.steps.errors.StepFailed`) into a task failure without retries.

Not an operator's internals: sensors and operators alike import these.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

if TYPE_CHECKING:
    from offboarding.operators.base import Case


def member_userid(case: Case) -> str:
    """The userid the case offboards, or a clear failure naming the field."""
    userid = case.conf.get("userid")
    if not isinstance(userid, str) or not userid.strip():
        raise AirflowFailException(f"userid: must be the member's WeCom userid, got {userid!r}")
    return userid


def handover_pair(case: Case) -> tuple[str, str]:
    """(member, successor) from the form, or a clear failure naming the field."""
    from offboarding.operators.controls import corrected

    member = member_userid(case)
    successor = corrected(case, "successor_userid")  # the form's, or its accepted correction
    if not isinstance(successor, str) or not successor.strip():
        raise AirflowFailException(
            f"successor_userid: must be the successor's WeCom userid, got {successor!r}"
        )
    if successor == member:
        raise AirflowFailException(f"successor_userid: must be someone other than the member {member!r}")
    return member, successor


def record_evidence(
    case: Case,
    task_id: str,
    action: str,
    *,
    key: str | None,
    request: Mapping[str, Any] | None = None,
    result: Any = None,
) -> None:
    """Append to the case's ledger with a ``key`` (what the entry is about), so a later task can ask
    ``ledger.has_action(action, key)``. The actor is this task (``airflow:<task_id>``)."""
    case.ledger.append(
        action,
        actor=f"airflow:{task_id}",
        step=task_id,
        key=key,
        request=dict(request or {}),
        result=result,
    )


@contextlib.contextmanager
def step_failures_fail_the_task() -> Iterator[None]:
    """A step's :class:`StepFailed` (what a retry cannot fix) fails the task without retries."""
    from offboarding.steps.errors import StepFailed

    try:
        yield
    except StepFailed as err:
        raise AirflowFailException(str(err)) from None
