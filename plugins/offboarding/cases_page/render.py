"""The "Offboarding cases" page as HTML: a filter form, one table row per case, a pager.

Server-rendered, no JavaScript, every value escaped. It is shown inside the Airflow UI (an iframe),
so links to Airflow open in the top window.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from offboarding.cases_page.cases import CasesPage, CaseView, StepView
from offboarding.cases_page.company_progress import PROGRESS_STYLE, render_progress
from offboarding.cases_page.query import CASE_DAG_IDS, KINDS, OPEN, RUN_STATES, CaseFilters
from offboarding.cases_page.summary_svg import SUMMARY_STYLE

KIND_LABELS = {"person": "Person 员工", "company": "Company 公司", "layoff": "Layoff list 批量优化"}
STYLE = """
:root{--fg:#1f2328;--bg:#ffffff;--muted:#57606a;--line:#d0d7de;--head:#f6f8fa;--bad:#cf222e;--warn:#9a6700;
 --ok:#1a7f37;color-scheme:light dark}
@media (prefers-color-scheme: dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#8d96a0;--line:#30363d;
 --head:#161b22;--bad:#ff7b72;--warn:#d29922;--ok:#3fb950}}
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:16px;
 color:var(--fg);background:var(--bg)}
a{color:#4f8fd6}
h1{font-size:20px;margin:0 0 12px}
form{display:flex;gap:12px;align-items:end;margin-bottom:12px;flex-wrap:wrap}
label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
select,button{font-size:14px;padding:4px 8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--head);position:sticky;top:0}
.stalled{color:#fff;background:#cf222e;border-radius:10px;padding:1px 8px;white-space:nowrap}
.ontime{color:var(--ok)}
.failed{color:var(--bad);font-weight:600}
.muted{color:var(--muted)}
.step{margin-bottom:4px}
code{font-size:12px;background:var(--head);padding:0 3px}
.tools{display:flex;gap:16px;margin:0 0 12px;font-size:13px;flex-wrap:wrap}
.active{font-size:13px;margin:0 0 8px}
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
    from offboarding.cases_page.actions_render import actions_link

    kind = KIND_LABELS.get(case.kind, case.kind)
    steps = (
        "".join(_step_cell(s) for s in case.steps)
        or f'<span class="muted">{escape(case.phase or "—")}</span>'
    )
    links = (
        f"<div>{_a(case.run_url, 'run')}</div>"
        f"<div>{_a(case.report_url, 'evidence report', top=False)}</div>"
        f"<div>{actions_link(case.case_id)}</div>"
        f'<div class="muted" title="backup folder"><code>{escape(case.backup_folder)}</code></div>'
    )
    return (
        "<tr>"
        f"<td><b>{escape(case.who)}</b><br><span class='muted'>{escape(kind)} · <code>{escape(case.case_id)}</code>"
        f" · {escape(case.state)}</span>"
        + (f"<br><span class='muted'>{escape(case.queued_reason)}</span>" if case.queued_reason else "")
        + "</td>"
        f"<td>{escape(case.phase or '—')}{render_progress(case.progress) if case.progress else ''}</td>"
        f"<td>{steps}</td>"
        f"<td>{_waiting_cell(case.steps)}</td>"
        f"<td>{_stalled_cell(case)}</td>"
        f"<td>{_owner_cell(case.steps)}</td>"
        f"<td>{_audit_cell(case)}</td>"
        f"<td>{links}</td>"
        "</tr>"
    )


def filter_query(f: CaseFilters) -> dict[str, str]:
    """The filters as query parameters (pager, exports, the "clear" link), without limit and offset."""
    query = {
        k: v
        for k, v in (
            ("kind", f.kind),
            ("state", f.state),
            ("dag_id", f.dag_id),
            ("run_id", f.run_id),
            ("phase", f.phase),
        )
        if v
    }
    for name, flag in (("stalled", f.stalled), ("held", f.held)):
        if flag is not None:
            query[name] = str(flag).lower()
    if f.due_within_days is not None:
        query["due_within_days"] = str(f.due_within_days)
    return query


def _active_filters(f: CaseFilters, base_path: str) -> str:
    shown = []
    if f.phase:
        shown.append(f"phase {f.phase}")
    if f.held is not None:
        shown.append("on hold" if f.held else "not on hold")
    if f.due_within_days is not None:
        shown.append(f"a legal deadline within {f.due_within_days} days")
    if not shown:
        return ""
    return (
        f'<div class="active">Showing open cases with {escape(", ".join(shown))} · '
        f'<a href="{escape(base_path, quote=True)}" target="_self">clear</a></div>'
    )


def render_page(
    page: CasesPage,
    *,
    base_path: str = "/offboarding/cases",
    top: str = "",
    api_path: str = "/offboarding",
    extra_style: str = "",
) -> str:
    """The whole HTML document; ``top`` (the summary strip, a case's timeline) goes above the table."""
    f = page.filters
    query = filter_query(f)
    exports = urlencode(query)
    tools = (
        '<div class="tools">'
        f'<a href="{escape(api_path)}/calendar" target="_self">Deadlines calendar 截止日历</a>'
        f'<a href="{escape(api_path)}/cases.csv?{escape(exports)}">Export CSV</a>'
        f'<a href="{escape(api_path)}/cases.xlsx?{escape(exports)}">Export XLSX</a>'
        "</div>"
    )
    form = (
        f'<form method="get" action="{escape(base_path, quote=True)}">'
        f"<label>Kind{_options('kind', [('', 'all'), *[(k, k) for k in KINDS]], f.kind)}</label>"
        f"<label>Run state{_options('state', [('', 'all'), (OPEN, 'open (queued or running)'), *[(s, s) for s in RUN_STATES]], f.state)}</label>"
        f"<label>Stalled{_options('stalled', [('', 'all'), ('true', 'stalled only'), ('false', 'not stalled')], None if f.stalled is None else str(f.stalled).lower())}</label>"
        f'<input type="hidden" name="limit" value="{page.limit}">'
        + "".join(
            f'<input type="hidden" name="{name}" value="{escape(query[name], quote=True)}">'
            for name in ("phase", "held", "due_within_days", "dag_id", "run_id")
            if name in query
        )
        + "<button type='submit'>Filter</button></form>"
    )
    empty = "No cases on this page."
    if f.dag_id and f.dag_id not in CASE_DAG_IDS:
        empty = f"{f.dag_id} is not an offboarding case DAG ({', '.join(CASE_DAG_IDS)}): no case to show."
    rows = (
        "".join(_row(c) for c in page.cases) or f'<tr><td colspan="8" class="muted">{escape(empty)}</td></tr>'
    )

    pager = []
    if page.offset > 0:
        previous = urlencode({**query, "limit": page.limit, "offset": max(page.offset - page.limit, 0)})
        pager.append(f'<a href="{escape(base_path)}?{escape(previous)}">← previous</a>')
    if page.next_offset is not None:
        following = urlencode({**query, "limit": page.limit, "offset": page.next_offset})
        pager.append(f'<a href="{escape(base_path)}?{escape(following)}">next →</a>')
    total = "?" if page.total is None else str(page.total)
    shown = f"cases {page.offset + 1}–{page.offset + page.limit} of {total}" if page.total else "no cases"
    note = " (stalled filter applied within the page)" if f.stalled is False else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Offboarding cases</title>"
        f"<style>{STYLE}{SUMMARY_STYLE}{PROGRESS_STYLE}{extra_style}</style></head><body>"
        "<h1>Offboarding cases 离职与注销案件</h1>"
        f"{top}{tools}{_active_filters(f, base_path)}"
        f"{form}"
        "<table><thead><tr><th>Case</th><th>Phase</th><th>Current step</th><th>Waiting until (Asia/Shanghai)</th>"
        "<th>Stalled</th><th>Owner</th><th>Audit</th><th>Links</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<div class='pager'><span class='muted'>{escape(shown + note)}</span>{''.join(pager)}</div>"
        "</body></html>"
    )
