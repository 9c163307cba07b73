"""The case's actions page (HTML): its state, hold, history, and one confirmation form per action.

``GET /offboarding/cases/{case_id}/actions``; each form POSTs to ``.../actions/<action>`` and the answer
(accepted, refused with why and since when, or the field to fix) is shown at the top of the same page.
An action that does not apply now is shown without a form, with the reason. Server-rendered, no
JavaScript, every value escaped; each form carries its per-form token (:mod:`.actions_csrf`).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from offboarding.cases.lifecycle import CaseControls, Invalid, Refused
from offboarding.cases_page.render import STYLE

ACTIONS_ROUTE = "/offboarding/cases/{case_id}/actions"

EXTRA_STYLE = """
.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;margin:10px 0;max-width:760px}
.card h2{font-size:15px;margin:0 0 6px}
.card form{display:block;margin:6px 0 0}
.card label{margin:4px 0}
.card input[type=text],.card input[type=date],.card textarea{font-size:14px;padding:4px;width:420px}
.answer{padding:8px 12px;border-radius:6px;margin:8px 0;max-width:760px}
.accepted{background:#dafbe1;border:1px solid #1a7f37}
.refused{background:#fff8c5;border:1px solid #9a6700}
.invalid{background:#ffebe9;border:1px solid #cf222e}
.hold{background:#fff8c5;padding:6px 10px;border-radius:6px;max-width:760px}
button.danger{background:#cf222e;color:#fff;border:0;border-radius:6px;padding:5px 12px}
button.act{background:#1f883d;color:#fff;border:0;border-radius:6px;padding:5px 12px}
"""

WHAT: dict[str, tuple[str, str]] = {
    "rescind": (
        "Rescind (撤销离职)",
        "The person stays: the case stops at a safe point, pending human steps stop asking, and "
        "offboarding_rescind undoes what WeCom allows (re-enable, departments, tags, chats, customers back).",
    ),
    "reschedule": (
        "Reschedule (改最后工作日)",
        "Move the last working day; allowed until the handover starts.",
    ),
    "hold": ("Legal hold (法务冻结)", "Nothing irreversible runs until released; backup and waits go on."),
    "release": ("Release the hold (解除冻结)", "Irreversible steps may continue."),
    "correct": (
        "Correct a field (更正)",
        "Fix a form field before the step that uses it runs; later steps use the corrected value.",
    ),
}
CORRECT_INPUTS = {
    "successor_userid": ("Successor userid (交接人)", "text"),
    "approvers": ("Approvers (审批人), comma-separated", "text"),
    "hr_owner": ("HR owner (HR负责人)", "text"),
    "notify": ('Alert recipients (JSON, e.g. {"webhook_conn_id": null, "userids": ["zhangsan"]})', "text"),
}


def actions_url(case_id: str, action: str | None = None) -> str:
    base = ACTIONS_ROUTE.format(case_id=quote(case_id, safe=""))
    return f"{base}/{action}" if action else base


def actions_link(case_id: str) -> str:
    """The cases page's link to a case's actions (same frame: the forms answer in the page)."""
    return f'<a class="case-actions" href="{escape(actions_url(case_id), quote=True)}">case actions</a>'


def _why(decision: Refused | Invalid) -> str:
    if isinstance(decision, Refused):
        since = f" (since {escape(decision.since)})" if decision.since else ""
        can = f"<br>What can still be done: {escape(decision.can_still)}" if decision.can_still else ""
        return f"{escape(decision.reason)}{since}{can}"
    return escape(decision.message)


def _form(case_id: str, action: str, token: str, inputs: str, confirm: str, danger: bool = False) -> str:
    css = "danger" if danger else "act"
    return (
        f'<form method="post" action="{escape(actions_url(case_id, action), quote=True)}" class="action-{action}">'
        f'<input type="hidden" name="form_token" value="{escape(token, quote=True)}">{inputs}'
        f'<button type="submit" class="{css}" name="confirm" value="yes">{escape(confirm)}</button></form>'
    )


def _reason(required: bool) -> str:
    req = " required" if required else ""
    label = "Reason (原因, recorded in the evidence ledger)" + ("" if required else ", optional")
    return f'<label>{escape(label)}<textarea name="reason" rows="2"{req}></textarea></label>'


def _card(
    action: str,
    case_id: str,
    controls: CaseControls,
    available: Mapping[str, Refused | Invalid | None],
    token: str | None,
) -> str:
    title, what = WHAT[action]
    head = f'<div class="card" id="action-{action}"><h2>{escape(title)}</h2><div class="muted">{escape(what)}</div>'
    if action == "correct":
        fields = [k.split(":", 1)[1] for k in available if k.startswith("correct:")]
        open_fields = [f for f in fields if available[f"correct:{f}"] is None]
        closed = "".join(
            f'<div class="muted">{escape(f)}: {_why(d)}</div>'
            for f in fields
            if (d := available[f"correct:{f}"]) is not None
        )
        if not open_fields:
            return head + (closed or '<div class="muted">Nothing can be corrected now.</div>') + "</div>"
        if token is None:
            return head + '<div class="muted">You may read this case but not act on it.</div></div>'
        inputs = "".join(
            f'<label>{escape(CORRECT_INPUTS[f][0])} <span class="muted">(now: '
            f"{escape(str(controls.corrections.get(f, '—')))})</span>"
            f'<input type="text" name="{f}"></label>'
            for f in open_fields
        )
        return (
            head
            + closed
            + _form(case_id, action, token, inputs + _reason(False), "Confirm correction")
            + "</div>"
        )
    decision = available.get(action)
    if decision is not None:
        return head + f'<div class="muted">Not now: {_why(decision)}</div></div>'
    if token is None:
        return head + '<div class="muted">You may read this case but not act on it.</div></div>'
    if action == "rescind":
        inputs = _reason(True)
        return head + _form(case_id, action, token, inputs, "Confirm rescind", danger=True) + "</div>"
    if action == "reschedule":
        day = controls.last_working_day or ""
        inputs = (
            f"<label>New last working day (YYYY-MM-DD; now {escape(day)})"
            f'<input type="date" name="last_working_day" required></label>' + _reason(False)
        )
        return head + _form(case_id, action, token, inputs, "Confirm new date") + "</div>"
    if action == "hold":
        return head + _form(case_id, action, token, _reason(True), "Confirm hold", danger=True) + "</div>"
    return head + _form(case_id, action, token, _reason(False), "Confirm release") + "</div>"


def _answer(status: int, answer: Mapping[str, Any], action: str) -> str:
    if status == 202:
        extra = ""
        if answer.get("rescind_run_id"):
            extra = f" The undo run is offboarding_rescind / {escape(str(answer['rescind_run_id']))}."
        return f'<div class="answer accepted" role="status">{escape(action)}: accepted and recorded.{extra}</div>'
    detail = answer.get("detail") if isinstance(answer.get("detail"), Mapping) else {}
    reason = escape(str(detail.get("reason") or answer))
    if status == 409:
        since = f" (since {escape(str(detail['since']))})" if detail.get("since") else ""
        can = (
            f"<br>What can still be done: {escape(str(detail['can_still']))}"
            if detail.get("can_still")
            else ""
        )
        return (
            f'<div class="answer refused" role="status">{escape(action)} refused: {reason}{since}{can}</div>'
        )
    return f'<div class="answer invalid" role="status">{escape(action)}: fix the form: {reason}</div>'


def render_case_actions(
    controls: CaseControls,
    available: Mapping[str, Refused | Invalid | None],
    tokens: Mapping[str, str] | None,
    *,
    answer: tuple[int, Mapping[str, Any], str] | None = None,
) -> str:
    """The case's actions page; ``tokens`` (action → form token) is None for a user who may only read."""
    c = controls
    parts = [
        '<!doctype html><html><head><meta charset="utf-8"><title>Case '
        f"{escape(c.case_id)}</title><style>{STYLE}{EXTRA_STYLE}</style></head><body>",
        f'<h1>Case {escape(c.case_id)} <span class="muted">({escape(c.kind)}, run {escape(c.run_id)})</span></h1>',
        '<p><a href="/offboarding/cases">← all cases</a></p>',
    ]
    if answer is not None:
        parts.append(_answer(*answer))
    parts.append(
        f'<p>State: <b class="state">{escape(c.state)}</b> · phase: {escape(c.phase or "—")}'
        + (f" · last working day: {escape(c.last_working_day)}" if c.last_working_day else "")
        + "</p>"
    )
    if c.hold is not None:
        parts.append(
            f'<div class="hold">On hold since {escape(c.hold.since)} by {escape(c.hold.by)} '
            f"because {escape(c.hold.reason)}</div>"
        )
    if c.rescind is not None:
        parts.append(
            f'<div class="hold">Rescinded at {escape(c.rescind.at)} by {escape(c.rescind.by)} '
            f"because {escape(c.rescind.reason)}</div>"
        )
    for action in ("hold", "release", "reschedule", "correct", "rescind"):
        token = None if tokens is None else tokens.get(action)
        parts.append(_card(action, c.case_id, c, available, token))
    if c.history:
        rows = "".join(
            f"<tr><td>#{a.id}</td><td>{escape(a.to_json()['at'] or '')}</td><td>{escape(a.action)}</td>"
            f"<td>{escape(a.by_user)}</td><td>{escape(a.reason or '')}</td>"
            f"<td><code>{escape(str(dict(a.fields)) if a.fields else '')}</code></td></tr>"
            for a in c.history
        )
        parts.append(
            "<h2>History</h2><table><tr><th>#</th><th>at (UTC)</th><th>action</th><th>by</th>"
            f"<th>reason</th><th>fields</th></tr>{rows}</table>"
        )
    parts.append("</body></html>")
    return "".join(parts)


def form_body(action: str, form: Mapping[str, list[str]]) -> dict[str, Any]:
    """The JSON body of a page form's POST (the REST body); ValueError naming a field that is not JSON."""
    import json

    def one(name: str) -> str:
        values = form.get(name) or [""]
        return values[0].strip()

    body: dict[str, Any] = {}
    if one("reason"):
        body["reason"] = one("reason")
    if action == "reschedule":
        body["last_working_day"] = one("last_working_day")
    if action == "correct":
        for name in CORRECT_INPUTS:
            text = one(name)
            if not text:
                continue
            if name == "approvers":
                body[name] = [a.strip() for a in text.replace(";", ",").split(",") if a.strip()]
            elif name == "notify":
                try:
                    body[name] = json.loads(text)
                except ValueError:
                    raise ValueError("notify: not JSON") from None
            else:
                body[name] = text
    return body
