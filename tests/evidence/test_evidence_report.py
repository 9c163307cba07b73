"""The readable case report, rendered from a real ledger, manifest and backup for a sample case."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from offboarding.backup import BackupManifest, BackupStore, generate_key, key_from_text, write_manifest
from offboarding.evidence import REPORT_HTML_PATH, REPORT_MARKDOWN_PATH, EvidenceLedger, render_report
from offboarding.evidence.keys import key_from_environment

CASE = "offboard-zhangsan"
START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 10:00 Beijing time


def _clock(minutes: list[int]) -> Callable[[], datetime]:
    ticks = iter(minutes)
    return lambda: START + timedelta(minutes=next(ticks))


def _sample_case(store: BackupStore) -> EvidenceLedger:
    ledger = EvidenceLedger(store, CASE, clock=_clock(list(range(0, 600, 5))), key=key_from_environment())
    ledger.append(
        "case.started",
        actor="ops_li",
        step=None,
        request={"userid": "zhangsan", "successor_userid": "lisi", "corpsecret": "CORP-SECRET-VALUE"},
    )
    manifest = BackupManifest.start(
        CASE, "zhangsan", retention=1095, encrypted=store.encrypted, created_at=START
    )
    manifest.add(
        store.write_json(
            CASE, "profile/user.json", {"userid": "zhangsan", "name": "张三"}, source="api:user/get"
        )
    )
    manifest.add(
        store.write_bytes(CASE, "wedrive/合同.pdf", b"%PDF-1.7 contract" * 100, source="wedrive:FILEID1")
    )
    manifest.record_not_exported(
        "chat history", "message archive (会话内容存档) not enabled: chats cannot be exported by API"
    )
    manifest.record_not_exported("personal WeDrive space", "not reachable by the app", "640008")
    write_manifest(store, manifest)
    ledger.append(
        "backup.verified",
        actor="system",
        step="verify_backup_manifest",
        result={"ok": True, "summary": "2 files, 1.7 kB, all verified (sha256) at 2026-11-24 10:05 CST"},
    )
    ledger.append(
        "handover.customers",
        actor="system",
        step="hand_over_customers",
        request={"handover_userid": "zhangsan", "takeover_userid": "lisi"},
        result={
            "items": [
                {"external_userid": "wmAAA", "errcode": 0},
                {"external_userid": "wmBBB", "errcode": 40096, "errmsg": "invalid external userid"},
                {"external_userid": "wmCCC", "errcode": 0},
            ]
        },
    )
    ledger.append(
        "handover.customer_groups",
        actor="system",
        step="hand_over_customer_groups",
        result={"items": [{"chat_id": "wrG1", "errcode": 0}]},
    )
    ledger.append(
        "member.disabled", actor="system", step="disable_member", key="zhangsan", result={"errcode": 0}
    )
    ledger.append(
        "approval.granted",
        actor="approver_wang",
        step="approve_deletion",
        request={"comment": "backup checked <script>alert(1)</script>"},
    )
    ledger.append(
        "legal.tax_deregistration_confirmed",
        actor="finance_zhao",
        step="confirm_tax_deregistration",
        request={"certificate_number": "QS-2026-0001", "issued_on": "2026-11-20", "note": "清税证明 scanned"},
    )
    ledger.append(
        "member.deleted", actor="system", step="delete_member", key="zhangsan", result={"errcode": 0}
    )
    ledger.append(
        "custom.audit_ping", actor="wecom", step="close_case", request={"note": "a new action family"}
    )
    ledger.append("case.closed", actor="system", step="close_case", result={"state": "completed"})
    return ledger


@pytest.fixture
def store(tmp_path: Path) -> BackupStore:
    return BackupStore(str(tmp_path))


def _section(markdown: str, title: str) -> str:
    """The text of one ``## title`` section."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, flags=re.S | re.M)
    assert match, f"section {title!r} missing"
    return match.group(1)


def test_report_answers_the_auditor(store: BackupStore, tmp_path: Path) -> None:
    ledger = _sample_case(store)
    markdown = render_report(store, CASE, clock=lambda: START + timedelta(hours=2))

    assert markdown == (tmp_path / CASE / REPORT_MARKDOWN_PATH).read_text(encoding="utf-8")
    assert markdown.startswith("# 案件证据报告 Case evidence report: offboard-zhangsan\n")

    case = _section(markdown, "案件 Case")
    assert "- **对象 Subject**: `zhangsan`" in case
    assert "- **发起人 Triggered by**: `ops_li`" in case
    assert "- **开始 Started**: 2026-11-24 10:00:00 CST" in case
    assert f"- **备份位置 Backup location**: `{tmp_path}/{CASE}/`" in case
    assert "- **最终状态 Final state**: completed at 2026-11-24 10:45:00 CST by `system`" in case
    assert "- **报告生成 Report generated**: 2026-11-24 12:00:00 CST" in case
    assert "| `corpsecret` | \\*\\*\\* |" in case
    assert "CORP-SECRET-VALUE" not in markdown

    timeline = _section(markdown, "时间线 Timeline")
    rows = [line for line in timeline.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) == 10
    assert rows[0].startswith("| 1 | 2026-11-24 10:00:00 CST | `case.started` | `ops_li` |  |")
    assert rows[8].startswith(
        "| 9 | 2026-11-24 10:40:00 CST | `custom.audit_ping` | `wecom` | `close_case` | note=a new action family"
    )

    approvals = _section(markdown, "审批 Approvals")
    assert (
        "| 2026-11-24 10:25:00 CST | `approver_wang` | granted | `approve_deletion` | "
        "backup checked \\<script\\>alert(1)\\</script\\> |"
    ) in approvals

    backup = _section(markdown, "备份 Backup")
    assert "- **文件 Files**: 2 files, 1.7 kB" in backup
    assert "- **保留至 Keep until**: 2029-11-23" in backup
    assert "- **加密 Encrypted at rest**: no (否)" in backup
    manifest_sha = re.search(r"\*\*清单 Manifest sha256\*\*: `([0-9a-f]{64})`", backup)
    assert manifest_sha is not None
    assert "- **核验 Verification**: 2 files, 1.7 kB, all verified (sha256) at" in backup
    assert "上次核验 Last recorded verification**: 2026-11-24 10:05:00 CST (ledger seq 2)" in backup
    assert "| `wedrive/合同.pdf` | 1.7 kB |" in backup
    assert "`wedrive:FILEID1`" in backup

    not_exported = _section(markdown, "未能导出 Not exported")
    assert (
        "| chat history | message archive (会话内容存档) not enabled: chats cannot be exported by API |  |"
        in not_exported
    )
    assert "| personal WeDrive space | not reachable by the app | `640008` |" in not_exported

    handover = _section(markdown, "交接 Handover")
    assert (
        "| 2026-11-24 10:10:00 CST | `handover.customers` | `hand_over_customers` | 3 | **1** |" in handover
    )
    assert "| `handover.customer_groups` | `hand_over_customer_groups` | 1 | 0 |" in handover
    assert (
        "- `handover.customers` (seq 3): errcode=40096, errmsg=invalid external userid, external_userid=wmBBB"
        in handover
    )
    assert "wmAAA" not in handover.split("失败项 Failed items")[1]

    legal = _section(markdown, "法定步骤证据 Legal steps' evidence")
    assert "### legal.tax_deregistration_confirmed" in legal
    assert "- **记录人 Recorded by**: `finance_zhao`" in legal
    assert "- **request.certificate_number**: `QS-2026-0001`" in legal
    assert "- **request.note**: 清税证明 scanned" in legal
    assert "custom.audit_ping" not in legal + handover + approvals  # unknown families: timeline only

    final = _section(markdown, "最终状态 Final state")
    assert "- **成员 Member**: `member.deleted` at 2026-11-24 10:35:00 CST" in final

    chain = _section(markdown, "证据链 Ledger chain")
    assert "- **状态 Status**: intact (完整)" in chain
    assert "- **条目 Entries**: 10" in chain
    assert f"- **最后哈希 Last hash**: `{ledger.last_entry().hash}`" in chain  # type: ignore[union-attr]


def test_html_report_has_the_same_content_escaped(store: BackupStore, tmp_path: Path) -> None:
    ledger = _sample_case(store)
    render_report(store, CASE)
    html = (tmp_path / CASE / REPORT_HTML_PATH).read_text(encoding="utf-8")

    assert html.startswith("<!DOCTYPE html>")
    assert "<style>" in html
    assert "<script>" not in html
    assert "backup checked &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<h2>审批 Approvals</h2>" in html
    assert "<code>wedrive/合同.pdf</code>" in html
    assert f"<code>{ledger.last_entry().hash}</code>" in html  # type: ignore[union-attr]
    assert "errcode=40096, errmsg=invalid external userid, external_userid=wmBBB" in html  # keys sorted
    assert "CORP-SECRET-VALUE" not in html


def test_report_shows_a_broken_chain_and_a_failed_backup(store: BackupStore, tmp_path: Path) -> None:
    _sample_case(store)
    ledger_file = tmp_path / CASE / "evidence" / "ledger.jsonl"
    lines = ledger_file.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace("approver_wang", "approver_fake")
    ledger_file.write_text("".join(lines), encoding="utf-8")
    (tmp_path / CASE / "wedrive" / "合同.pdf").write_bytes(b"replaced")

    markdown = render_report(store, CASE)

    chain = _section(markdown, "证据链 Ledger chain")
    assert "- **状态 Status**: **BROKEN at seq 6 (已损坏)**" in chain
    assert "- **问题 Problem**: entry seq 6 was edited: its content does not match its hash" in chain
    assert "- **已核验 Verified entries**: 5" in chain
    backup = _section(markdown, "备份 Backup")
    assert "verification FAILED (sha256)" in backup
    assert "1 mismatched (wedrive/合同.pdf)" in backup
    assert "- `wedrive/合同.pdf`: mismatched: size 8 bytes, manifest says 1700" in backup


def test_report_of_an_open_case_without_backup(store: BackupStore) -> None:
    ledger = EvidenceLedger(store, CASE, clock=_clock([0, 5]), key=key_from_environment())
    ledger.append("case.started", actor="ops_li", step=None, request={"userid": "zhangsan"})
    ledger.append("member.disabled", actor="system", step="disable_member")

    markdown = render_report(store, CASE)

    assert "- **对象 Subject**: `zhangsan`" in markdown
    assert (
        "- **最终状态 Final state**: open (进行中); last action `member.disabled` at 2026-11-24 10:05:00 CST"
        in (markdown)
    )
    assert "No backup manifest was written for this case (没有备份清单)." in _section(markdown, "备份 Backup")
    assert "Unknown: there is no readable backup manifest" in _section(markdown, "未能导出 Not exported")
    assert "No approval recorded (无审批记录)." in _section(markdown, "审批 Approvals")
    assert "No handover recorded (无交接记录)." in _section(markdown, "交接 Handover")


def test_report_of_an_encrypted_backup_is_plaintext_and_verifies(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path), key_from_text(generate_key()))
    _sample_case(store)
    markdown = render_report(store, CASE)
    assert "- **加密 Encrypted at rest**: yes (是, AES-256-GCM)" in markdown
    assert "all verified (sha256)" in markdown
    assert (tmp_path / CASE / REPORT_MARKDOWN_PATH).read_text(encoding="utf-8") == markdown
    without_key = render_report(BackupStore(str(tmp_path)), CASE)
    assert "**not possible: manifest of case offboard-zhangsan lists encrypted files" in without_key


def test_report_names_who_triggered_from_the_case_opened_entry(store: BackupStore) -> None:
    """``check_case`` writes ``case.opened`` (actor = the triggering user): the report must name them."""
    ledger = EvidenceLedger(store, CASE, clock=_clock([0, 5]), key=key_from_environment())
    ledger.append(
        "case.opened",
        actor="ops_li",
        step="preflight.check_case",
        request={"run_id": CASE, "kind": "person", "userid": "zhangsan", "name": "张三", "dry_run": False},
    )
    ledger.append("member.disabled", actor="system", step="disable_member")

    case = _section(render_report(store, CASE), "案件 Case")

    assert "- **发起人 Triggered by**: `ops_li`" in case
    assert "- **开始 Started**: 2026-11-24 10:00" in case
    assert "- **对象 Subject**: `zhangsan`" in case
    assert "- **名称 Name**: 张三" in case
    assert "not recorded" not in case
