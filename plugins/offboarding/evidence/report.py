"""The readable case report: ``<case_id>/evidence/report.md``, ``report.html`` and ``report.pdf``.

It answers the auditor's questions without Airflow: what happened and when (China time), who
triggered and who approved, where the backup is and whether it still verifies, what could not be
exported, how the handover went item by item, the evidence of the legal steps, the final state, and
whether the ledger's hash chain is intact (with its last hash).

The renderer is generic: it groups ledger entries by action FAMILY (the part before the first dot)
so workflow code can add actions without touching it. Every entry is in the timeline; these families
also get a section:

* ``case.*`` — ``case.opened`` (written by the first task, ``check_case``) or ``case.started``
  (actor = who triggered; ``request`` = the case parameters, ``subject`` or ``userid`` or
  ``company_name``), and a final ``case.closed`` / ``case.completed`` /
  ``case.failed`` / ``case.cancelled`` (``result.state``, ``result.note``) for the final state;
* ``approval.*`` — e.g. ``approval.granted`` / ``approval.rejected``; actor = approver,
  ``request.comment`` shown;
* ``handover.*`` — per-item results in ``result.items`` (a list of objects; an item failed when it
  has ``ok: false``, a non-zero ``errcode`` or ``status`` "failed"/"error") and/or ``result.failed``;
  optional ``result.total``;
* ``legal.*`` and ``deregistration.*`` — every ``request`` and ``result`` field is listed as evidence
  (certificate numbers, dates, notice references, submission and review times);
* ``member.*`` — the last one is shown as the member's state;
* ``backup.*`` — the latest ``backup.verified`` result ``summary`` is shown beside a fresh check.

The report is stored in PLAINTEXT even in an encrypted store (it holds no file contents). The PDF
(:mod:`.report_pdf`) adds the phases picture (:mod:`.phases_picture`) and embeds a Chinese font; when the
deployment's font is missing the PDF alone is left out (``ReportFiles.pdf_problem`` says why) and
``offboarding evidence report <case> --pdf`` writes it later.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from offboarding.backup.display import format_local_time, format_size
from offboarding.backup.manifest import BackupManifest, load_manifest
from offboarding.backup.names import check_case_id
from offboarding.backup.storage import BackupStore
from offboarding.backup.verification import VerificationReport, verify
from offboarding.evidence.document import (
    Bullets,
    Code,
    Document,
    Facts,
    Heading,
    Paragraph,
    Strong,
    Table,
    Text,
)
from offboarding.evidence.entry import Entry
from offboarding.evidence.keys import EvidenceKey
from offboarding.evidence.ledger import Anchor, ChainReport, EvidenceLedger
from offboarding.evidence.report_html import render_html
from offboarding.evidence.report_markdown import render_markdown

if TYPE_CHECKING:
    from offboarding.evidence.report_pdf import ReportFont

REPORT_MARKDOWN_PATH = "evidence/report.md"
REPORT_HTML_PATH = "evidence/report.html"
REPORT_PDF_PATH = "evidence/report.pdf"
TERMINAL_CASE_VERBS = frozenset({"closed", "completed", "failed", "cancelled"})
LEGAL_FAMILIES = frozenset({"legal", "deregistration"})
_DETAIL_LIMIT = 240
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.:@/+-]{1,128}$")


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report is built from (read from the store by :func:`render_report`)."""

    case_id: str
    location: str
    entries: Sequence[Entry]
    chain: ChainReport
    manifest: BackupManifest | None
    manifest_problem: str
    verification: VerificationReport | None
    verification_problem: str
    generated_at: datetime
    ledger_location: str = ""


@dataclass(frozen=True)
class ReportFiles:
    """Where the written report is and its digests: what goes into XCom instead of the report itself."""

    markdown: str
    markdown_sha256: str
    html: str
    html_sha256: str
    chain: ChainReport
    pdf: str | None = None
    pdf_sha256: str | None = None
    pdf_problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (locations, digests and the ledger's verification; never the content)."""
        return {
            "report": self.markdown,
            "report_sha256": self.markdown_sha256,
            "report_html": self.html,
            "report_html_sha256": self.html_sha256,
            "report_pdf": self.pdf,
            "report_pdf_sha256": self.pdf_sha256,
            "ledger_ok": self.chain.ok,
            "ledger_authenticated": self.chain.authenticated,
            "ledger_head": self.chain.head.text if self.chain.head is not None else None,
            "ledger_verification": self.chain.summary_text(),
        }


def render_report(
    store: BackupStore,
    case_id: str,
    *,
    key: EvidenceKey | None = None,
    anchor: Anchor | None = None,
    anchors: Iterable[Anchor] = (),
    verify_backup: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> str:
    """Build the case report, write ``evidence/report.md``, ``report.html`` and ``report.pdf``; return the Markdown.

    See :func:`write_report`, which returns where the files are and their digests instead.
    """
    return _write_report(
        store, case_id, key=key, anchor=anchor, anchors=anchors, verify_backup=verify_backup, clock=clock
    )[1]


def write_report(
    store: BackupStore,
    case_id: str,
    *,
    key: EvidenceKey | None = None,
    anchor: Anchor | None = None,
    anchors: Iterable[Anchor] = (),
    verify_backup: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> ReportFiles:
    """Build and write the case report; return the files' locations and sha256 digests.

    ``key`` checks every ledger entry's HMAC and ``anchor``/``anchors`` (heads recorded in Airflow's
    metadata) catch a ledger cut short; the report states both (the highest anchor). ``verify_backup`` reads every backed-up file
    again so the report states the backup's condition at report time (turn off for very large
    backups; the ledger's last ``backup.verified`` is still shown).
    """
    return _write_report(
        store, case_id, key=key, anchor=anchor, anchors=anchors, verify_backup=verify_backup, clock=clock
    )[0]


def read_report_inputs(
    store: BackupStore,
    case_id: str,
    *,
    key: EvidenceKey | None = None,
    anchor: Anchor | None = None,
    anchors: Iterable[Anchor] = (),
    verify_backup: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> ReportInputs:
    """Read what the report is built from: the ledger (verified), the manifest and, optionally, the backup."""
    check_case_id(case_id)
    ledger = EvidenceLedger(store, case_id, key=key)
    manifest: BackupManifest | None = None
    manifest_problem = ""
    try:
        manifest = load_manifest(store, case_id)
    except FileNotFoundError:
        manifest_problem = "No backup manifest was written for this case (没有备份清单)."
    except ValueError as exc:
        manifest_problem = f"The backup manifest cannot be read: {exc}"
    verification: VerificationReport | None = None
    verification_problem = ""
    if manifest is not None and verify_backup:
        try:
            verification = verify(store, manifest)
        except ValueError as exc:
            verification_problem = str(exc)
    return ReportInputs(
        case_id=case_id,
        location=store.case_location(case_id),
        entries=tuple(ledger.entries(skip_unreadable=True)),
        chain=ledger.verify_chain(anchor=anchor, anchors=anchors),
        manifest=manifest,
        manifest_problem=manifest_problem,
        verification=verification,
        verification_problem=verification_problem,
        generated_at=(clock or _utc_now)(),
        ledger_location=ledger.location,
    )


def render_report_pdf(inputs: ReportInputs, font: ReportFont | None = None) -> bytes:
    """The report as PDF with the case's phases picture; ReportFontError without the deployment's font."""
    from offboarding.evidence.phases_picture import phases_svg
    from offboarding.evidence.report_pdf import FONT_FAMILY, ReportFont, render_pdf

    font = font or ReportFont.from_settings()
    return render_pdf(build_report(inputs), font=font, picture_svg=phases_svg(inputs.entries, FONT_FAMILY))


def _write_report(
    store: BackupStore,
    case_id: str,
    *,
    key: EvidenceKey | None,
    anchor: Anchor | None,
    anchors: Iterable[Anchor],
    verify_backup: bool,
    clock: Callable[[], datetime] | None,
) -> tuple[ReportFiles, str]:
    from offboarding.evidence.report_pdf import ReportFontError

    inputs = read_report_inputs(
        store, case_id, key=key, anchor=anchor, anchors=anchors, verify_backup=verify_backup, clock=clock
    )
    document = build_report(inputs)
    markdown = render_markdown(document)
    md_file = store.write_bytes(
        case_id, REPORT_MARKDOWN_PATH, markdown.encode("utf-8"), source="evidence", encrypt=False
    )
    html_file = store.write_bytes(
        case_id, REPORT_HTML_PATH, render_html(document).encode("utf-8"), source="evidence", encrypt=False
    )
    location = store.case_location(case_id)
    pdf, pdf_sha256, pdf_problem = None, None, ""
    try:
        pdf_bytes = render_report_pdf(inputs)
    except ReportFontError as err:  # the Markdown and HTML reports are the record; the PDF is a copy
        pdf_problem = str(err)
    else:
        pdf_file = store.write_bytes(case_id, REPORT_PDF_PATH, pdf_bytes, source="evidence", encrypt=False)
        pdf, pdf_sha256 = location + REPORT_PDF_PATH, pdf_file.sha256
    written = ReportFiles(
        markdown=location + REPORT_MARKDOWN_PATH,
        markdown_sha256=md_file.sha256,
        html=location + REPORT_HTML_PATH,
        html_sha256=html_file.sha256,
        chain=inputs.chain,
        pdf=pdf,
        pdf_sha256=pdf_sha256,
        pdf_problem=pdf_problem,
    )
    return written, markdown


def build_report(inputs: ReportInputs) -> Document:
    """The report as a :class:`Document` (pure: no I/O)."""
    document = Document(f"案件证据报告 Case evidence report: {inputs.case_id}")
    _case_section(document, inputs)
    _timeline_section(document, inputs.entries)
    _approvals_section(document, inputs.entries)
    _backup_section(document, inputs)
    _not_exported_section(document, inputs)
    _handover_section(document, inputs.entries)
    _legal_section(document, inputs.entries)
    _final_state_section(document, inputs.entries)
    _chain_section(document, inputs)
    return document


# -- sections ------------------------------------------------------------------------------------


def _case_section(document: Document, inputs: ReportInputs) -> None:
    started = _case_start(inputs.entries)
    subject = inputs.manifest.subject if inputs.manifest else _subject_from(started)
    document.add(
        Heading("案件 Case"),
        Facts(
            (
                ("案件 Case", Code(inputs.case_id)),
                ("对象 Subject", Code(subject) if subject else "not recorded (未记录)"),
                ("名称 Name", _subject_name(inputs.entries) or "not recorded (未记录)"),
                ("发起人 Triggered by", Code(started.actor) if started else "not recorded (未记录)"),
                ("开始 Started", _when(started) if started else "not recorded (未记录)"),
                ("备份位置 Backup location", Code(inputs.location)),
                ("最终状态 Final state", _final_state_text(inputs.entries)),
                ("报告生成 Report generated", format_local_time(inputs.generated_at, seconds=True)),
            )
        ),
    )
    if started is not None and isinstance(started.request, dict) and started.request:
        document.add(
            Heading("案件参数 Case parameters", 3),
            Table(
                ("参数 Field", "值 Value"), tuple((Code(k), _value(v)) for k, v in started.request.items())
            ),
        )


def _timeline_section(document: Document, entries: Sequence[Entry]) -> None:
    document.add(Heading("时间线 Timeline"))
    if not entries:
        document.add(Paragraph("No ledger entries (无记录)."))
        return
    rows = tuple(
        (
            str(entry.seq),
            _when(entry),
            Code(entry.action),
            Code(entry.actor),
            Code(entry.step) if entry.step else "",
            _details(entry),
        )
        for entry in entries
    )
    document.add(
        Paragraph("Times are China Standard Time (北京时间, UTC+8)."),
        Table(("#", "时间 Time", "动作 Action", "执行人 Actor", "步骤 Step", "详情 Details"), rows),
    )


def _approvals_section(document: Document, entries: Sequence[Entry]) -> None:
    document.add(Heading("审批 Approvals"))
    approvals = [entry for entry in entries if entry.family == "approval"]
    if not approvals:
        document.add(Paragraph("No approval recorded (无审批记录)."))
        return
    rows = tuple(
        (
            _when(entry),
            Code(entry.actor),
            Strong(entry.verb) if entry.verb in {"rejected", "denied"} else entry.verb,
            Code(entry.step) if entry.step else "",
            _comment(entry.request),
        )
        for entry in approvals
    )
    document.add(Table(("时间 Time", "审批人 Approver", "决定 Decision", "步骤 Step", "备注 Comment"), rows))


def _backup_section(document: Document, inputs: ReportInputs) -> None:
    document.add(Heading("备份 Backup"))
    manifest = inputs.manifest
    if manifest is None:
        document.add(Paragraph(inputs.manifest_problem))
        return
    facts: list[tuple[str, Text]] = [
        ("备份位置 Location", Code(inputs.location)),
        (
            "文件 Files",
            f"{len(manifest.items)} {'file' if len(manifest.items) == 1 else 'files'}, "
            f"{format_size(manifest.total_bytes)}",
        ),
        ("创建 Created", format_local_time(manifest.created_at, seconds=True)),
        ("保留至 Keep until", manifest.retention_until.isoformat()),
        ("加密 Encrypted at rest", "yes (是, AES-256-GCM)" if manifest.encrypted else "no (否)"),
        ("清单 Manifest sha256", Code(manifest.sha256)),
    ]
    if inputs.verification is not None:
        summary = inputs.verification.summary_text()
        facts.append(("核验 Verification", summary if inputs.verification.ok else Strong(summary)))
    elif inputs.verification_problem:
        facts.append(("核验 Verification", Strong(f"not possible: {inputs.verification_problem}")))
    else:
        facts.append(("核验 Verification", "not re-checked for this report"))
    recorded = _last(inputs.entries, "backup.verified")
    if recorded is not None:
        summary = recorded.result.get("summary") if isinstance(recorded.result, dict) else None
        facts.append(
            (
                "上次核验 Last recorded verification",
                f"{_when(recorded)} (ledger seq {recorded.seq}): {summary or '-'}",
            )
        )
    document.add(Facts(tuple(facts)))
    if inputs.verification is not None and not inputs.verification.ok:
        failed = [item for item in inputs.verification.items if item.status != "ok"]
        document.add(
            Heading("核验失败 Verification failures", 3),
            Bullets(tuple((Code(item.path), f": {item.status}: {item.detail}") for item in failed)),
        )
    document.add(Heading("文件 Files", 3))
    if not manifest.items:
        document.add(Paragraph("The manifest lists no files (无文件)."))
        return
    rows = tuple(
        (Code(item.path), format_size(item.size), Code(item.sha256), Code(item.source) if item.source else "")
        for item in sorted(manifest.items, key=lambda entry: entry.path)
    )
    document.add(Table(("路径 Path", "大小 Size", "sha256", "来源 Source"), rows))


def _not_exported_section(document: Document, inputs: ReportInputs) -> None:
    document.add(Heading("未能导出 Not exported"))
    if inputs.manifest is None:
        document.add(Paragraph("Unknown: there is no readable backup manifest (无备份清单)."))
        return
    if not inputs.manifest.not_exported:
        document.add(Paragraph("Nothing was recorded as not exportable (无)."))
        return
    rows = tuple(
        (item.item, item.reason, Code(item.reference) if item.reference else "")
        for item in inputs.manifest.not_exported
    )
    document.add(Table(("项目 Item", "原因 Reason", "参考 Reference"), rows))


def _handover_section(document: Document, entries: Sequence[Entry]) -> None:
    document.add(Heading("交接 Handover"))
    handovers = [entry for entry in entries if entry.family == "handover"]
    if not handovers:
        document.add(Paragraph("No handover recorded (无交接记录)."))
        return
    rows = []
    failures: list[Text] = []
    for entry in handovers:
        total, failed = _item_results(entry.result)
        rows.append(
            (
                _when(entry),
                Code(entry.action),
                Code(entry.step) if entry.step else "",
                "-" if total is None else str(total),
                Strong(str(len(failed))) if failed else "0",
            )
        )
        failures.extend((Code(entry.action), f" (seq {entry.seq}): {_compact(item)}") for item in failed)
    document.add(Table(("时间 Time", "动作 Action", "步骤 Step", "项目 Items", "失败 Failed"), tuple(rows)))
    document.add(Heading("失败项 Failed items", 3))
    if failures:
        document.add(Bullets(tuple(failures)))
    else:
        document.add(Paragraph("No per-item failures (全部成功)."))


def _legal_section(document: Document, entries: Sequence[Entry]) -> None:
    document.add(Heading("法定步骤证据 Legal steps' evidence"))
    legal = [entry for entry in entries if entry.family in LEGAL_FAMILIES]
    if not legal:
        document.add(Paragraph("No legal step evidence recorded (无)."))
        return
    for entry in legal:
        facts: list[tuple[str, Text]] = [
            ("时间 Time", _when(entry)),
            ("记录人 Recorded by", Code(entry.actor)),
            ("步骤 Step", Code(entry.step) if entry.step else "-"),
        ]
        for label, value in (("request", entry.request), ("result", entry.result)):
            if isinstance(value, dict):
                facts.extend((f"{label}.{key}", _value(item)) for key, item in value.items())
            elif value is not None:
                facts.append((label, _value(value)))
        document.add(Heading(entry.action, 3), Facts(tuple(facts)))


def _final_state_section(document: Document, entries: Sequence[Entry]) -> None:
    document.add(Heading("最终状态 Final state"))
    facts: list[tuple[str, Text]] = [("案件 Case", _final_state_text(entries))]
    member = _last_of_family(entries, "member")
    if member is not None:
        facts.append(("成员 Member", (Code(member.action), f" at {_when(member)}")))
    if entries:
        last = entries[-1]
        facts.append(
            ("最后动作 Last action", (Code(last.action), f" at {_when(last)} by ", Code(last.actor)))
        )
    document.add(Facts(tuple(facts)))


def _chain_section(document: Document, inputs: ReportInputs) -> None:
    chain = inputs.chain
    document.add(Heading("证据链 Ledger chain"))
    status: Text = "intact (完整)" if chain.ok else Strong(f"BROKEN at seq {chain.first_bad_seq} (已损坏)")
    if chain.authenticated:
        authentication: Text = (
            f"every entry's HMAC-SHA256 checked with the deployment's key (key id {chain.key_id})"
        )
    else:
        authentication = Strong(
            "NOT checked: no evidence key was given (only the plain hash chain was checked)"
        )
    if chain.anchor is not None:
        anchor: Text = (Code(chain.anchor.text), " (recorded in Airflow's metadata as XCom evidence_anchor)")
    else:
        anchor = (
            "none recorded in Airflow's metadata was given (removing entries from the end is not detectable)"
        )
    head = chain.head
    facts: list[tuple[str, Text]] = [
        ("状态 Status", status),
        ("条目 Entries", str(chain.entries)),
        ("最后哈希 Last hash", Code(chain.last_hash)),
        ("链头 Head (seq:hash)", Code(head.text) if head is not None else "empty (空)"),
        ("认证 Authentication", authentication),
        ("锚点 Anchor", anchor),
        ("核验结果 Verification", chain.summary_text()),
        ("账本 Ledger", Code(inputs.ledger_location or inputs.location + "evidence/ledger.jsonl")),
    ]
    if not chain.ok:
        facts.insert(1, ("问题 Problem", chain.problem))
        facts.insert(3, ("已核验 Verified entries", str(chain.verified)))
    document.add(
        Facts(tuple(facts)),
        Paragraph(
            "Each entry's hash is the sha256 of its canonical JSON and includes the previous entry's hash; "
            "each entry is also authenticated with an HMAC-SHA256 under the deployment's evidence key, so "
            "rewriting the ledger and recomputing the hashes is detected. The anchor is the head recorded in "
            "Airflow's metadata at every step: a ledger cut short no longer holds it. An auditor re-checks "
            "with `offboarding evidence verify <case folder> --anchor <seq:hash>` and the key."
        ),
    )


# -- helpers -------------------------------------------------------------------------------------


CASE_START_ACTIONS = ("case.opened", "case.started")
"""The entry that says who triggered the case: ``check_case`` writes ``case.opened``."""


def _case_start(entries: Sequence[Entry]) -> Entry | None:
    return next((entry for entry in entries if entry.action in CASE_START_ACTIONS), None)


def _first(entries: Sequence[Entry], action: str) -> Entry | None:
    return next((entry for entry in entries if entry.action == action), None)


def _last(entries: Sequence[Entry], action: str) -> Entry | None:
    return next((entry for entry in reversed(entries) if entry.action == action), None)


def _last_of_family(entries: Sequence[Entry], family: str) -> Entry | None:
    return next((entry for entry in reversed(entries) if entry.family == family), None)


def _subject_from(started: Entry | None) -> str:
    if started is None or not isinstance(started.request, dict):
        return ""
    for name in ("subject", "userid", "company_name", "credit_code"):
        value = started.request.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


NAME_FIELDS = ("name", "display_name", "company_name")
"""Fields of the case's first entry that name the person or company (``check_case`` records ``name``)."""


def _subject_name(entries: Sequence[Entry]) -> str:
    """The person's or company's name as recorded: the case's first entry, else the member WeCom showed."""
    started = _case_start(entries)
    if started is not None and isinstance(started.request, dict):
        for field in NAME_FIELDS:
            value = started.request.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()
    checked = _last(entries, "preflight.checked")
    if checked is not None and isinstance(checked.result, dict):
        value = checked.result.get("member_name")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _final_state_text(entries: Sequence[Entry]) -> Text:
    final = next(
        (e for e in reversed(entries) if e.family == "case" and e.verb in TERMINAL_CASE_VERBS),
        None,
    )
    if final is None:
        if not entries:
            return "not started (无记录)"
        last = entries[-1]
        return ("open (进行中); last action ", Code(last.action), f" at {_when(last)}")
    result = final.result if isinstance(final.result, dict) else {}
    state = str(result.get("state") or final.verb)
    note = result.get("note")
    text: tuple[str | Code | Strong, ...] = (
        Strong(state) if final.verb in {"failed", "cancelled"} else state,
        f" at {_when(final)} by ",
        Code(final.actor),
    )
    return (*text, f": {note}") if note else text


def _when(entry: Entry) -> str:
    try:
        return format_local_time(entry.at_datetime, seconds=True)
    except ValueError:
        return entry.at


def _item_results(result: Any) -> tuple[int | None, list[Any]]:
    if not isinstance(result, dict):
        return None, []
    items = result.get("items")
    total: int | None = len(items) if isinstance(items, list) else None
    failed = [item for item in items if _is_failed(item)] if isinstance(items, list) else []
    extra = result.get("failed")
    if isinstance(extra, list):
        failed.extend(item for item in extra if item not in failed)
    declared = result.get("total")
    if isinstance(declared, int) and not isinstance(declared, bool):
        total = declared
    return total, failed


def _is_failed(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    errcode = item.get("errcode")
    return (
        item.get("ok") is False
        or (isinstance(errcode, int) and not isinstance(errcode, bool) and errcode != 0)
        or str(item.get("status", "")).lower() in {"failed", "error"}
    )


def _comment(request: Any) -> str:
    if isinstance(request, dict):
        comment = request.get("comment")
        if isinstance(comment, str):
            return comment
        return _compact(request)
    return _compact(request)


def _details(entry: Entry) -> str:
    parts = []
    if entry.request not in (None, {}, []):
        parts.append(_compact(entry.request))
    if entry.result not in (None, {}, []):
        parts.append("→ " + _compact(entry.result))
    text = " ".join(parts)
    return text if len(text) <= _DETAIL_LIMIT else text[: _DETAIL_LIMIT - 1] + "…"


def _compact(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}={_scalar(item)}" for key, item in value.items())
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _value(value: Any) -> Text:
    """Identifiers (ids, dates, references) as code; prose and other values as text."""
    if isinstance(value, str) and _IDENTIFIER.fullmatch(value):
        return Code(value)
    return _scalar(value)


def _utc_now() -> datetime:
    return datetime.now(UTC)
