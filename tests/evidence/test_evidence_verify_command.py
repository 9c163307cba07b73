"""``offboarding evidence verify``: what an auditor runs without Airflow, given the deployment's key.

Each tampering is done the way a tamperer with file access but without the key would: edit, insert or
remove entries, then renumber and recompute every plain sha256 hash and link so the hash chain alone
looks intact. The HMACs (and, for a cut-short ledger, the anchor) still give it away.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offboarding.backup import BackupStore
from offboarding.cli import main
from offboarding.evidence import LEDGER_PATH, EvidenceLedger
from offboarding.evidence.keys import KEY_ENV, EvidenceKey, generate_evidence_key, key_from_environment
from offboarding.evidence.verify_command import split_case_location

CASE = "offboard-zhangsan"


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    ledger = EvidenceLedger(BackupStore(str(tmp_path)), CASE, key=key_from_environment())
    ledger.append("case.started", actor="ops_li", step=None, request={"userid": "zhangsan"})
    ledger.append("backup.verified", actor="system", step="verify_backup_manifest", key="zhangsan")
    ledger.append("approval.rejected", actor="approver_wang", step="approve_deletion", key=CASE)
    ledger.append("member.disabled", actor="system", step="disable_member", key="zhangsan")
    ledger.append("handover.customers", actor="system", step="hand_over_customers", key="zhangsan")
    return tmp_path / CASE


def _entries(case_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case_dir / LEDGER_PATH).read_text(encoding="utf-8").splitlines()]


def _rewrite_with_recomputed_hashes(case_dir: Path, entries: list[dict[str, Any]]) -> None:
    """Renumber, relink and rehash every entry as a tamperer without the key would (macs kept as they were)."""
    prev = "0" * 64
    lines = []
    for seq, entry in enumerate(entries, start=1):
        entry = {**entry, "seq": seq, "prev_hash": prev}
        body = {k: v for k, v in entry.items() if k not in ("hash", "mac")}
        entry["hash"] = prev = hashlib.sha256(_canonical(body)).hexdigest()
        lines.append(_canonical(entry).decode() + "\n")
    (case_dir / LEDGER_PATH).write_text("".join(lines), encoding="utf-8")


def _verify(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["evidence", "verify", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_intact_ledger_exits_0_and_states_the_head(
    case_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = EvidenceLedger(BackupStore(str(case_dir.parent)), CASE).head()
    assert head is not None and head.seq == 5

    code, out, _ = _verify(str(case_dir), "--anchor", head.text, capsys=capsys)

    assert code == 0
    assert f"INTACT: 5 entries, head {head.text}" in out
    assert os.environ[KEY_ENV] not in out  # the key is never printed, only its id
    assert key_from_environment().key_id in out  # type: ignore[union-attr]


def test_a_ledger_rewritten_with_recomputed_hashes_is_detected(
    case_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = _entries(case_dir)
    entries[2]["action"] = "approval.approved"  # turn the rejection into an approval
    _rewrite_with_recomputed_hashes(case_dir, entries)
    assert EvidenceLedger(BackupStore(str(case_dir.parent)), CASE).verify_chain().ok  # plain hashes: fooled

    code, out, _ = _verify(str(case_dir), capsys=capsys)

    assert code == 1
    assert "BROKEN at seq 3: entry seq 3 has a bad HMAC" in out


def test_an_inserted_approval_is_detected(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = _entries(case_dir)
    forged = {**entries[2], "action": "approval.approved", "actor": "approver_wang"}
    _rewrite_with_recomputed_hashes(case_dir, [*entries[:3], forged, *entries[3:]])

    code, out, _ = _verify(str(case_dir), capsys=capsys)

    assert code == 1
    assert "BROKEN at seq 4: entry seq 4 has a bad HMAC" in out


def test_a_deleted_entry_is_detected(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = _entries(case_dir)
    _rewrite_with_recomputed_hashes(case_dir, [*entries[:2], *entries[3:]])  # the rejection removed

    code, out, _ = _verify(str(case_dir), capsys=capsys)

    assert code == 1
    assert "BROKEN at seq 3: entry seq 3 has a bad HMAC" in out


def test_a_deleted_entry_without_rehashing_names_the_missing_seq(
    case_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (case_dir / LEDGER_PATH).read_text(encoding="utf-8").splitlines(keepends=True)
    (case_dir / LEDGER_PATH).write_text("".join(lines[:2] + lines[3:]), encoding="utf-8")

    code, out, _ = _verify(str(case_dir), capsys=capsys)

    assert code == 1
    assert "entry seq 3 is missing" in out


def test_reordered_entries_are_detected(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = (case_dir / LEDGER_PATH).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1], lines[3] = lines[3], lines[1]
    (case_dir / LEDGER_PATH).write_text("".join(lines), encoding="utf-8")

    code, out, _ = _verify(str(case_dir), capsys=capsys)

    assert code == 1
    assert "BROKEN at seq 2: entry seq 2 is missing: line 2 holds seq 4" in out


def test_a_ledger_cut_short_is_detected_against_the_anchor(
    case_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = EvidenceLedger(BackupStore(str(case_dir.parent)), CASE).head()
    assert head is not None
    lines = (case_dir / LEDGER_PATH).read_text(encoding="utf-8").splitlines(keepends=True)
    (case_dir / LEDGER_PATH).write_text("".join(lines[:3]), encoding="utf-8")  # the last two entries gone

    assert _verify(str(case_dir), capsys=capsys)[0] == 0  # without the anchor nothing shows it
    code, out, _ = _verify(str(case_dir), "--anchor", head.text, capsys=capsys)

    assert code == 1
    assert "BROKEN at seq 4: the ledger ends at seq 3 but the anchor" in out
    assert "entries 4..5 were removed (truncated)" in out


def test_a_rewritten_head_does_not_hold_the_anchor(
    case_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head = EvidenceLedger(BackupStore(str(case_dir.parent)), CASE).head()
    assert head is not None
    code, out, _ = _verify(str(case_dir), "--anchor", f"{head.seq}:{'ab' * 32}", capsys=capsys)
    assert code == 1
    assert "entry seq 5 has hash" in out and "the anchor recorded outside the case folder says" in out


def test_a_torn_last_line_is_reported(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with (case_dir / LEDGER_PATH).open("ab") as handle:
        handle.write(b'{"seq":6,"at":"2026-12')

    code, out, _ = _verify(str(case_dir), capsys=capsys)

    assert code == 1
    assert "BROKEN at seq 6: line 6 is torn (22 bytes without the final newline" in out
    assert "5 entries verified before the break" in out


def test_another_key_is_named_as_such(
    case_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, generate_evidence_key())
    code, out, _ = _verify(str(case_dir), capsys=capsys)
    assert code == 1
    assert "entry seq 1 was authenticated with another key" in out


def test_the_key_comes_from_a_key_file(
    case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "evidence.key"
    key_file.write_text(os.environ[KEY_ENV] + "\n", encoding="utf-8")
    monkeypatch.delenv(KEY_ENV)
    code, out, _ = _verify(
        str(case_dir / "evidence" / "ledger.jsonl"), "--key-file", str(key_file), capsys=capsys
    )
    assert code == 0, out


def test_usage_errors_exit_2(
    case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _verify(str(case_dir), "--anchor", "five", capsys=capsys)[0] == 2
    assert _verify(str(tmp_path / "not-a-case" / "x y"), capsys=capsys)[0] == 2
    assert _verify(str(tmp_path / "offboard-nobody"), capsys=capsys)[0] == 2  # no ledger there
    assert _verify(str(case_dir), "--key-file", str(tmp_path / "missing.key"), capsys=capsys)[0] == 2
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal: no prompt
    code, _, err = _verify(str(case_dir), capsys=capsys)
    assert code == 2 and "no evidence key" in err
    with pytest.raises(SystemExit) as exited:  # the key is never a command-line value
        main(["evidence", "verify", str(case_dir), "--key", "secret-on-the-command-line"])
    assert exited.value.code == 2


def test_a_case_on_object_storage_is_verified_by_url(capsys: pytest.CaptureFixture[str]) -> None:
    root = "memory://verify-command/cases"
    ledger = EvidenceLedger(BackupStore(root), CASE, key=key_from_environment())
    for n in range(3):
        ledger.append("member.updated", actor="system", step="disable_member", key=f"u{n}")
    head = ledger.head()
    assert head is not None

    code, out, _ = _verify(f"{root}/{CASE}/", "--anchor", head.text, "--json", capsys=capsys)

    assert code == 0
    result = json.loads(out)
    assert result["ok"] and result["entries"] == 3 and result["authenticated"]
    assert result["ledger"].endswith(f"{CASE}/evidence/ledger/")


def test_split_case_location_accepts_the_folder_the_evidence_folder_or_the_ledger(tmp_path: Path) -> None:
    folder = tmp_path / CASE
    for given in (folder, f"{folder}/", folder / "evidence", folder / "evidence" / "ledger.jsonl"):
        assert split_case_location(str(given)) == (str(tmp_path), CASE)
    assert split_case_location(f"s3://bucket/cases/{CASE}") == ("s3://bucket/cases", CASE)


def test_the_command_runs_without_airflow(case_dir: Path) -> None:
    script = (
        "import sys; from offboarding.cli import main; code = main(['evidence', 'verify', sys.argv[1]]); "
        "assert not [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')], 'airflow imported'; "
        "raise SystemExit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(case_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "INTACT" in done.stdout


def test_generate_key_prints_a_usable_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "generate-key"]) == 0
    key = EvidenceKey.from_text(capsys.readouterr().out)
    assert len(key.key_id) == 16
    assert repr(key) == f"EvidenceKey(key_id={key.key_id!r})"
