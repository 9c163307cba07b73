"""The words of an alert: which case, which step, whose turn, how long, where to click.

Alerts are WeCom markdown (robot and app messages both render it). Under its title every alert says in
ONE line what is late, since when, and who must act (:func:`headline`); the details follow, then the
links: the case's timeline on the cases page and the step in Airflow. Several alerts for the same
recipients in one watchdog run are packed into as few messages as WeCom's byte limit allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from offboarding.alerting.decide import FAILED, REMINDER, STALLED, Alert
from offboarding.alerting.steps import HUMAN_STEP, LEGAL_WAIT, TASK
from offboarding.legal_time.clock import format_local
from offboarding.wecom.content import fit_to_bytes, utf8_size

ERROR_MAX_CHARS = 600

T = TypeVar("T")


def describe_duration(span: dt.timedelta) -> str:
    """``3 d 4 h``, ``5 h 12 min``, ``7 min``, ``40 s`` — as long as it is useful, no longer."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def _title(alert: Alert) -> str:
    if alert.kind == FAILED:
        return '<font color="warning">Offboarding step FAILED</font>'
    if alert.kind == STALLED:
        return '<font color="warning">Offboarding step stalled</font>'
    escalated = " — escalated" if alert.escalate else ""
    return f'<font color="warning">Reminder #{alert.reminder_number}{escalated}: offboarding step still stalled</font>'


WHO_ACTS: dict[str, str] = {
    HUMAN_STEP: "its assignees must answer it in Airflow",
    LEGAL_WAIT: "ops must check why the wait did not end (is the triggerer running?)",
    TASK: "ops must check the task's log",
}
"""Who must act when the step names no owner, by the step's kind."""


def who_must_act(alert: Alert) -> str:
    """``hr_wang must answer it in Airflow``, or the role that must act when the step names nobody."""
    step = alert.step
    if alert.kind == FAILED:
        return "ops must fix the cause and clear the task"
    if step.kind == HUMAN_STEP and step.owners:
        return f"{', '.join(step.owners)} must answer it in Airflow"
    return WHO_ACTS.get(step.kind, WHO_ACTS[TASK])


def headline(alert: Alert) -> str:
    """What is late, since when, and who must act, in one line (no line breaks, whatever the inputs)."""
    step = alert.step
    what = f"{step.step_id} of {step.case.subject} ({step.case.case_id})"
    if alert.kind == FAILED:
        started = (
            f" (try {step.try_number}, started {format_local(step.started_at)})" if step.started_at else ""
        )
        text = f"{what} failed{started}: {who_must_act(alert)}"
    elif step.expected_by is not None:
        overdue = f", {describe_duration(alert.overdue)} ago" if alert.overdue is not None else ""
        text = f"{what} is late since {format_local(step.expected_by)}{overdue}: {who_must_act(alert)}"
    else:
        text = f"{what} is late: {who_must_act(alert)}"
    return " ".join(text.split())


def alert_markdown(alert: Alert) -> str:
    """One alert as a WeCom markdown block."""
    step = alert.step
    where = f"{step.phase} › {step.step_id}" if step.phase else step.step_id
    lines = [
        f"**{_title(alert)}**",
        f"**{headline(alert)}**",
        f"> Case: **{step.case.subject}** (`{step.case.case_id}`, {step.case.kind})",
        f"> Step: `{where}` ({step.kind}, {step.state})",
    ]
    if step.owners:
        lines.append(f"> Owner: {', '.join(step.owners)}")
    if step.started_at is not None and alert.waited is not None:
        lines.append(f"> Waiting since {format_local(step.started_at)} ({describe_duration(alert.waited)})")
    if alert.kind in (STALLED, REMINDER) and step.expected_by is not None and alert.overdue is not None:
        what = {HUMAN_STEP: "Expected by", LEGAL_WAIT: "Deadline + grace"}.get(step.kind, "Expected by")
        lines.append(
            f"> {what} {format_local(step.expected_by)}, overdue by {describe_duration(alert.overdue)}"
        )
    if alert.kind == FAILED:
        error = (step.error or "no error message in the task log; open the log").strip()
        if len(error) > ERROR_MAX_CHARS:
            error = error[-ERROR_MAX_CHARS:]
        lines.append("> Error: " + error.replace("\n", "\n> "))
        lines.append("> Fix the cause, then clear the task to run it again.")
    action = "Answer it in Airflow" if step.kind == HUMAN_STEP and not step.failed else "Open in Airflow"
    links = []
    if step.case_link:
        links.append(f"[Case timeline]({step.case_link})")
    if step.link:
        links.append(f"[{action}]({step.link})")
    if links:
        lines.append(" · ".join(links))
    return "\n".join(lines)


def pack(blocks: Iterable[tuple[T, str]], max_bytes: int) -> list[tuple[str, list[T]]]:
    """Join ``(item, block)`` pairs into messages of at most ``max_bytes`` UTF-8 bytes.

    Returns each message with the items it carries; a block too long on its own is cut.
    """
    messages: list[tuple[str, list[T]]] = []
    current, carried = "", []
    for item, block in blocks:
        block = fit_to_bytes(block, max_bytes)
        candidate = f"{current}\n\n{block}" if current else block
        if utf8_size(candidate) <= max_bytes:
            current, carried = candidate, [*carried, item]
            continue
        messages.append((current, carried))
        current, carried = block, [item]
    if current:
        messages.append((current, carried))
    return messages
