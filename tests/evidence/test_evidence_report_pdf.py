"""The evidence report as PDF: written at close and by the auditor's command, read back with poppler.

``pdftotext`` and ``pdffonts`` (Debian's poppler-utils, installed by ``make test``) read the file as a
PDF viewer would: the case id, the Chinese names, the phases picture's labels, the ledger's verification
and the backup summary must come back as text, with the font embedded.
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from offboarding.backup import BackupManifest, BackupStore, write_manifest
from offboarding.cli import main
from offboarding.evidence import EvidenceLedger
from offboarding.evidence.keys import key_from_environment
from offboarding.evidence.phases_picture import phase_bars, phases_svg
from offboarding.evidence.report import REPORT_PDF_PATH, write_report
from offboarding.evidence.report_pdf import ReportFont, ReportFontError

START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
PERSON = "offboard-zhangsan"
COMPANY = "dissolve-91350100M000100Y43"


def _clock() -> Callable[[], datetime]:
    ticks = iter(range(0, 6000, 7))
    return lambda: START + timedelta(minutes=next(ticks))


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    assert found, f"{tool} is missing: install Debian's poppler-utils (make test installs it)"
    return found


def pdf_text(path: Path) -> str:
    """The text of a PDF as ``pdftotext`` extracts it (reading order, no layout)."""
    return subprocess.run(
        [_poppler("pdftotext"), "-raw", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_fonts(path: Path) -> str:
    return subprocess.run(
        [_poppler("pdffonts"), str(path)], check=True, capture_output=True, text=True
    ).stdout


def _person_case(store: BackupStore) -> None:
    ledger = EvidenceLedger(store, PERSON, clock=_clock(), key=key_from_environment())
    ledger.append(
        "case.opened",
        actor="ops_li",
        step="preflight.check_case",
        request={"run_id": PERSON, "kind": "person", "subject": "zhangsan", "name": "张三"},
    )
    manifest = BackupManifest.start(PERSON, "zhangsan", retention=1095, encrypted=False, created_at=START)
    manifest.add(store.write_json(PERSON, "profile/user.json", {"name": "张三"}, source="api:user/get"))
    manifest.add(store.write_bytes(PERSON, "wedrive/合同.pdf", b"contract" * 50, source="wedrive:F1"))
    write_manifest(store, manifest)
    ledger.append("backup.verified", actor="system", step="verify_backup", result={"ok": True})
    ledger.append("approval.rejected", actor="approver_wang", step="approve", request={"comment": "等交接"})
    ledger.append("approval.granted", actor="approver_wang", step="approve", request={"comment": "可以"})
    ledger.append("member.deleted", actor="system", step="delete_member", result={"errcode": 0})
    ledger.append("case.closed", actor="system", step="close_case", result={"state": "completed"})


def test_the_closed_case_report_pdf_holds_the_names_the_picture_and_the_verification(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    _person_case(store)

    written = write_report(store, PERSON, key=key_from_environment())

    path = tmp_path / PERSON / REPORT_PDF_PATH
    assert written.pdf == f"{tmp_path}/{PERSON}/{REPORT_PDF_PATH}" and written.pdf_problem == ""
    assert path.read_bytes().startswith(b"%PDF-")
    assert written.to_dict()["report_pdf_sha256"] == written.pdf_sha256
    text = pdf_text(path)
    assert "案件证据报告 Case evidence report: offboard-zhangsan" in text
    assert "名称 Name" in text and "张三" in text
    assert "阶段 Phases" in text and "审批 approval" in text and "备份 backup" in text  # the picture
    assert "intact (完整)" in text
    assert "intact: 6 entries, last hash" in text.replace("\n", " ")  # the ledger's verification
    assert "2 files" in text  # the backup manifest summary
    assert "wedrive/合同.pdf" in text
    fonts = pdf_fonts(path)
    assert "NotoSansCJK" in fonts and " yes yes yes " in fonts  # embedded, subset, with a Unicode map


def test_a_broken_ledger_says_so_in_the_pdf(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    _person_case(store)
    ledger_file = tmp_path / PERSON / "evidence" / "ledger.jsonl"
    lines = ledger_file.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace("approver_wang", "approver_fake")
    ledger_file.write_text("".join(lines), encoding="utf-8")

    write_report(store, PERSON, key=key_from_environment())

    text = pdf_text(tmp_path / PERSON / REPORT_PDF_PATH)
    assert "BROKEN at seq 3 (已损坏)" in text
    assert "intact (完整)" not in text


def test_the_auditor_makes_the_pdf_of_a_company_case_from_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = BackupStore(str(tmp_path / "cases"))
    ledger = EvidenceLedger(store, COMPANY, clock=_clock(), key=key_from_environment())
    ledger.append(
        "case.opened",
        actor="ops_li",
        step="check_case",
        request={"kind": "company", "subject": "北京某某科技有限公司", "name": "北京某某科技有限公司"},
    )
    ledger.append(
        "legal.notice_published", actor="legal_zhao", step="publish_notice", request={"newspaper": "法治日报"}
    )
    target = tmp_path / "out" / "company.pdf"
    target.parent.mkdir()

    status = main(["evidence", "report", str(tmp_path / "cases" / COMPANY), "--pdf", "-o", str(target)])

    assert status == 0
    printed = capsys.readouterr().out
    assert f"report:  {target}" in printed and "intact" in printed
    text = pdf_text(target)
    assert COMPANY in text and "北京某某科技有限公司" in text and "法治日报" in text
    assert "法定步骤 legal" in text and "intact (完整)" in text
    assert not (tmp_path / "cases" / COMPANY / REPORT_PDF_PATH).exists()  # the case folder is left alone


def test_the_command_without_pdf_prints_the_markdown_and_refuses_a_stray_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _person_case(BackupStore(str(tmp_path)))
    assert main(["evidence", "report", str(tmp_path / PERSON)]) == 0
    assert "# 案件证据报告 Case evidence report: offboard-zhangsan" in capsys.readouterr().out
    assert main(["evidence", "report", str(tmp_path / PERSON), "-o", "x.pdf"]) == 2
    assert "--output is for the PDF" in capsys.readouterr().err
    assert main(["evidence", "report", str(tmp_path / "offboard-nobody"), "--pdf"]) == 2
    assert "no evidence ledger and no backup manifest" in capsys.readouterr().err


def test_a_missing_font_is_a_clear_error_and_the_other_reports_are_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OFFBOARDING_PDF_FONT", str(tmp_path / "no-such-font.ttc"))
    store = BackupStore(str(tmp_path / "cases"))
    _person_case(store)

    with pytest.raises(ReportFontError) as caught:
        ReportFont.from_settings()
    assert "fonts-noto-cjk" in str(caught.value) and "OFFBOARDING_PDF_FONT" in str(caught.value)

    written = write_report(store, PERSON, key=key_from_environment())
    assert written.pdf is None and "fonts-noto-cjk" in written.pdf_problem
    assert (tmp_path / "cases" / PERSON / "evidence" / "report.html").is_file()
    assert not (tmp_path / "cases" / PERSON / REPORT_PDF_PATH).exists()

    target = tmp_path / "x.pdf"
    assert main(["evidence", "report", str(tmp_path / "cases" / PERSON), "--pdf", "-o", str(target)]) == 2
    assert "fonts-noto-cjk" in capsys.readouterr().err and not target.exists()


def test_a_file_that_is_no_font_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = tmp_path / "font.ttf"
    bogus.write_bytes(b"not a font")
    monkeypatch.setenv("OFFBOARDING_PDF_FONT", str(bogus))
    store = BackupStore(str(tmp_path / "cases"))
    _person_case(store)
    written = write_report(store, PERSON, key=key_from_environment())
    assert (
        written.pdf is None and str(bogus) in written.pdf_problem and "cannot be used" in written.pdf_problem
    )


def test_the_phases_picture_is_escaped_well_formed_svg(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    ledger = EvidenceLedger(store, PERSON, clock=_clock(), key=key_from_environment())
    ledger.append("case.opened", actor="ops_li", step=None)
    ledger.append("custom_audit.failed", actor="system", step=None)
    ledger.append("case.closed", actor="system", step=None)
    entries = list(ledger.entries())

    svg = phases_svg(entries, 'evil"font<script>')
    root = ET.fromstring(svg)  # well formed: the font name (a setting) is escaped like every label
    assert "<script>" not in svg and "custom_audit (1)" in svg
    assert root.get("aria-label") == "Case phases"
    [case, odd] = phase_bars(entries)
    assert case.family == "case" and case.entries == 2 and case.failed_at is None
    assert odd.failed_at is not None
    assert ET.fromstring(phases_svg([], "f")).find("{http://www.w3.org/2000/svg}text") is not None
