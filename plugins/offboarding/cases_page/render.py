"""The "Offboarding cases" page as HTML: a filter form, one table row per case, a pager.

Server-rendered, no JavaScript, every value escaped. It is shown inside the Airflow UI (an iframe),
so links to Airflow open in the top window.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from offboarding.cases_page.cases import CasesPage, CaseView, StepView
from offboarding.cases_page.query import CASE_DAG_IDS, KINDS, RUN_STATES

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:16px;color:#1f2328}
h1{font-size:20px;margin:0 0 12px}
form{display:flex;gap:12px;align-items:end;margin-bottom:12px;flex-wrap:wrap}
label{display:flex;flex-direction:column;font-size:12px;color:#57606a}
select,button{font-size:14px;padding:4px 8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #d0d7de;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0}
.stalled{color:#fff;background:#cf222e;border-radius:10px;padding:1px 8px;white-space:nowrap}
.ontime{color:#1a7f37}
.failed{color:#cf222e;font-weight:600}
.muted{color:#57606a}
.step{margin-bottom:4px}
code{font-size:12px;background:#f6f8fa;padding:0 3px}
.pager{margin-top:12px;display:flex;gap:16px}
"""


def _a(href: str, text: str, *, top: bool = True) -> str:
    target = ' target="_top"' if top else ' target="_blank" rel="noopener"'
    return f'<a href="{escape(href, quote=True)}"{target}>{escape(text)}</a>'


def _options(name: str, values: list[tuple[str, str]], chosen: str | None) -> str:
    items = "".join(
        f'<option value="{escape(v, quote=True)}"{" selected" if v == (chosen or "") else ""}>{escape(t)}</option>'
        for v, t in values
    )
    return f'<select name="{name}">{items}</select>'


def _step_cell(step: StepView) -> str:
    css = "failed" if step.state == "failed" else ""
    where = f"{step.phase} › {step.step}" if step.phase else step.step
    parts = [
        f'<div class="step {css}">{_a(step.task_url, where)} <span class="muted">({escape(step.kind)}, {escape(step.state)})</span></div>'
    ]
    return "".join(parts)


def _waiting_cell(steps: list[StepView]) -> str:
    lines = [f"<div>{escape(s.waiting_until_local)}</div>" for s in steps if s.waiting_until_local]
    return "".join(lines) or '<span class="muted">—</span>'


def _stalled_cell(case: CaseView) -> str:
    if case.stalled:
        return f'<span class="stalled">stalled {escape(case.stalled_for or "")}</span>'
    if any(s.state == "failed" for s in case.steps):
        return '<span class="failed">failed step</span>'
    if case.steps:
        return '<span class="ontime">on time</span>'
    return '<span class="muted">—</span>'


def _owner_cell(steps: list[StepView]) -> str:
    lines = []
    for step in steps:
        if step.answer_url:
            owners = ", ".join(step.owners) or "anyone allowed"
            lines.append(f"<div>{escape(owners)} · {_a(step.answer_url, 'answer')}</div>")
    return "".join(lines) or '<span class="muted">—</span>'


def _audit_cell(case: CaseView) -> str:
    lines = [f"<div>triggered by <b>{escape(case.triggered_by or 'unknown')}</b></div>"]
    for answer in case.answers:
        chosen = ", ".join(answer.chosen)
        lines.append(
            f"<div><code>{escape(answer.task_id.rpartition('.')[2])}</code>: {escape(chosen)} — "
            f"{escape(answer.by)}, {escape(answer.at_local or '')}</div>"
        )
    return "".join(lines)


def _row(case: CaseView) -> str:
    kind = "Person 员工" if case.kind == "person" else "Company 公司"
    steps = (
        "".join(_step_cell(s) for s in case.steps)
        or f'<span class="muted">{escape(case.phase or "—")}</span>'
    )
    links = (
        f"<div>{_a(case.run_url, 'run')}</div>"
        f"<div>{_a(case.report_url, 'evidence report', top=False)}</div>"
        f'<div class="muted" title="backup folder"><code>{escape(case.backup_folder)}</code></div>'
    )
    return (
        "<tr>"
        f"<td><b>{escape(case.who)}</b><br><span class='muted'>{escape(kind)} · <code>{escape(case.case_id)}</code>"
        f" · {escape(case.state)}</span></td>"
        f"<td>{escape(case.phase or '—')}</td>"
        f"<td>{steps}</td>"
        f"<td>{_waiting_cell(case.steps)}</td>"
        f"<td>{_stalled_cell(case)}</td>"
        f"<td>{_owner_cell(case.steps)}</td>"
        f"<td>{_audit_cell(case)}</td>"
        f"<td>{links}</td>"
        "</tr>"
    )


def render_page(page: CasesPage, *, base_path: str = "/offboarding/cases") -> str:
    """The whole HTML document."""
    f = page.filters
    form = (
        f'<form method="get" action="{escape(base_path, quote=True)}">'
        f"<label>Kind{_options('kind', [('', 'all'), *[(k, k) for k in KINDS]], f.kind)}</label>"
        f"<label>Run state{_options('state', [('', 'all'), *[(s, s) for s in RUN_STATES]], f.state)}</label>"
        f"<label>Stalled{_options('stalled', [('', 'all'), ('true', 'stalled only'), ('false', 'not stalled')], None if f.stalled is None else str(f.stalled).lower())}</label>"
        f'<input type="hidden" name="limit" value="{page.limit}">'
        "<button type='submit'>Filter</button></form>"
    )
    empty = "No cases on this page."
    if f.dag_id and f.dag_id not in CASE_DAG_IDS:
        empty = f"{f.dag_id} is not an offboarding case DAG ({', '.join(CASE_DAG_IDS)}): no case to show."
    rows = (
        "".join(_row(c) for c in page.cases) or f'<tr><td colspan="8" class="muted">{escape(empty)}</td></tr>'
    )

    query = {
        k: v
        for k, v in (("kind", f.kind), ("state", f.state), ("dag_id", f.dag_id), ("run_id", f.run_id))
        if v
    }
    if f.stalled is not None:
        query["stalled"] = str(f.stalled).lower()
    pager = []
    if page.offset > 0:
        previous = urlencode({**query, "limit": page.limit, "offset": max(page.offset - page.limit, 0)})
        pager.append(f'<a href="{escape(base_path)}?{escape(previous)}">← previous</a>')
    if page.next_offset is not None:
        following = urlencode({**query, "limit": page.limit, "offset": page.next_offset})
        pager.append(f'<a href="{escape(base_path)}?{escape(following)}">next →</a>')
    total = "?" if page.total is None else str(page.total)
    shown = f"cases {page.offset + 1}–{page.offset + page.limit} of {total}" if page.total else "no cases"
    note = " (stalled filter applied within the page)" if f.stalled is not None else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Offboarding cases</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>Offboarding cases 离职与注销案件</h1>"
        f"{form}"
        "<table><thead><tr><th>Case</th><th>Phase</th><th>Current step</th><th>Waiting until (Asia/Shanghai)</th>"
        "<th>Stalled</th><th>Owner</th><th>Audit</th><th>Links</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<div class='pager'><span class='muted'>{escape(shown + note)}</span>{''.join(pager)}</div>"
        "</body></html>"
    )
