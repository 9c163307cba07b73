"""The evidence ledger: the hash chain, tamper detection, redaction, idempotency and bad input."""

from __future__ import annotations

import hashlib
import json
import stat
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from offboarding.backup import BackupStore, generate_key, key_from_text
from offboarding.evidence import GENESIS_HASH, LEDGER_PATH, EvidenceLedger, LedgerError
from offboarding.evidence.keys import key_from_environment

CASE = "offboard-zhangsan"


def _ticking_clock() -> Callable[[], datetime]:
    start = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    ticks = iter(range(10_000))
    return lambda: start + timedelta(minutes=next(ticks))


@pytest.fixture
def ledger(tmp_path: Path) -> EvidenceLedger:
    return EvidenceLedger(
        BackupStore(str(tmp_path)), CASE, clock=_ticking_clock(), key=key_from_environment()
    )


def _ledger_file(tmp_path: Path) -> Path:
    return tmp_path / CASE / LEDGER_PATH


def _fill(ledger: EvidenceLedger, count: int = 6) -> None:
    for n in range(count):
        ledger.append("member.updated", actor="system", step="disable_member", request={"userid": f"u{n}"})


def _lines(tmp_path: Path) -> list[str]:
    return _ledger_file(tmp_path).read_text(encoding="utf-8").splitlines(keepends=True)


def _write_lines(tmp_path: Path, lines: list[str]) -> None:
    _ledger_file(tmp_path).write_text("".join(lines), encoding="utf-8")


def test_entries_form_a_sha256_chain_from_64_zeros(ledger: EvidenceLedger, tmp_path: Path) -> None:
    first = ledger.append("case.started", actor="ops_li", step=None, request={"userid": "zhangsan"})
    second = ledger.append(
        "member.disabled",
        actor="system",
        step="disable_member",
        request={"userid": "zhangsan", "enable": 0},
        result={"errcode": 0, "status": 2},
        key="zhangsan",
    )

    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH == "0" * 64
    assert second.prev_hash == first.hash
    assert first.at == "2026-11-24T02:00:00.000000+00:00"
    lines = _ledger_file(tmp_path).read_bytes().splitlines()
    assert len(lines) == 2
    stored = json.loads(lines[1])
    assert stored["result"] == {"errcode": 0, "status": 2}
    without_hash = {k: v for k, v in stored.items() if k not in ("hash", "mac")}
    canonical = json.dumps(without_hash, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert stored["hash"] == hashlib.sha256(canonical).hexdigest() == second.hash
    key = key_from_environment()
    assert key is not None and stored["key_id"] == key.key_id
    assert stored["mac"] == key.mac(canonical)  # HMAC-SHA256 over the same bytes, seq and prev_hash included
    assert {"seq", "prev_hash"} <= set(without_hash)
    assert [entry.action for entry in ledger.entries()] == ["case.started", "member.disabled"]
    assert ledger.last_entry() == second


def test_ledger_file_is_private(ledger: EvidenceLedger, tmp_path: Path) -> None:
    ledger.append("case.started", actor="ops_li", step=None)
    assert stat.S_IMODE(_ledger_file(tmp_path).stat().st_mode) == 0o600
    assert stat.S_IMODE(_ledger_file(tmp_path).parent.stat().st_mode) == 0o700


def test_an_intact_chain_verifies(ledger: EvidenceLedger) -> None:
    _fill(ledger)
    report = ledger.verify_chain()
    assert report.ok and report.first_bad_seq is None
    assert report.entries == report.verified == 6
    assert report.last_hash == ledger.last_entry().hash  # type: ignore[union-attr]
    assert report.summary_text().startswith("intact: 6 entries, last hash ")


def test_an_empty_ledger_is_intact(ledger: EvidenceLedger) -> None:
    report = ledger.verify_chain()
    assert (report.ok, report.entries, report.last_hash) == (True, 0, GENESIS_HASH)
    assert list(ledger.entries()) == []


def test_an_edited_line_is_named(ledger: EvidenceLedger, tmp_path: Path) -> None:
    _fill(ledger)
    lines = _lines(tmp_path)
    lines[2] = lines[2].replace('"actor":"system"', '"actor":"approver_wang"')
    _write_lines(tmp_path, lines)

    report = ledger.verify_chain()

    assert not report.ok
    assert report.first_bad_seq == 3
    assert "seq 3 was edited" in report.problem
    assert report.verified == 2


def test_an_edit_with_a_recomputed_hash_is_caught_by_the_next_link(
    ledger: EvidenceLedger, tmp_path: Path
) -> None:
    _fill(ledger)
    lines = _lines(tmp_path)
    entry = json.loads(lines[2])
    entry["request"] = {"userid": "someone-else"}
    body = {k: v for k, v in entry.items() if k not in ("hash", "mac")}
    entry["hash"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    lines[2] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    _write_lines(tmp_path, lines)

    report = ledger.verify_chain()

    assert report.first_bad_seq == 3
    assert "entry seq 3 has a bad HMAC" in report.problem
    unkeyed = EvidenceLedger(BackupStore(str(tmp_path)), CASE).verify_chain()  # plain hashes only
    assert unkeyed.first_bad_seq == 3 and not unkeyed.authenticated
    assert "seq 4 does not chain to seq 3" in unkeyed.problem


def test_a_removed_line_is_named(ledger: EvidenceLedger, tmp_path: Path) -> None:
    _fill(ledger)
    lines = _lines(tmp_path)
    del lines[3]
    _write_lines(tmp_path, lines)

    report = ledger.verify_chain()

    assert report.first_bad_seq == 4
    assert "entry seq 4 is missing" in report.problem
    assert report.entries == 5


def test_reordered_lines_are_named(ledger: EvidenceLedger, tmp_path: Path) -> None:
    _fill(ledger)
    lines = _lines(tmp_path)
    lines[1], lines[2] = lines[2], lines[1]
    _write_lines(tmp_path, lines)

    report = ledger.verify_chain()

    assert report.first_bad_seq == 2
    assert "line 2 holds seq 3" in report.problem


def test_an_inserted_line_is_named_even_with_a_valid_hash(ledger: EvidenceLedger, tmp_path: Path) -> None:
    _fill(ledger)
    lines = _lines(tmp_path)
    previous = json.loads(lines[1])
    forged = {**previous, "seq": 3, "prev_hash": previous["hash"], "action": "approval.granted"}
    body = {k: v for k, v in forged.items() if k not in ("hash", "mac")}
    forged["hash"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    lines.insert(2, json.dumps(forged, sort_keys=True, separators=(",", ":")) + "\n")
    _write_lines(tmp_path, lines)

    report = ledger.verify_chain()

    assert report.first_bad_seq == 3
    assert "entry seq 3 has a bad HMAC" in report.problem  # the forger has no key
    assert report.entries == 7
    unkeyed = EvidenceLedger(BackupStore(str(tmp_path)), CASE).verify_chain()
    assert unkeyed.first_bad_seq == 3 and "line 4 holds seq 3 again" in unkeyed.problem


def test_a_torn_last_line_is_reported_then_recovered_by_the_next_append(
    ledger: EvidenceLedger, tmp_path: Path
) -> None:
    _fill(ledger, 3)
    torn = '{"seq":4,"at":"2026'
    with _ledger_file(tmp_path).open("a", encoding="utf-8") as handle:
        handle.write(torn)
    report = ledger.verify_chain()
    assert report.first_bad_seq == 4 and "line 4 is torn" in report.problem
    assert report.torn_bytes == len(torn)
    with pytest.raises(LedgerError, match="line 4 is incomplete"):
        list(ledger.entries())
    assert len(list(ledger.entries(skip_unreadable=True))) == 3

    closed = ledger.append("case.closed", actor="system", step="close_case")

    entries = list(ledger.entries())
    assert [e.action for e in entries] == [*["member.updated"] * 3, "ledger.recovered", "case.closed"]
    recovered = entries[3]
    assert recovered.step == "close_case" and recovered.actor == "system"
    assert recovered.result["dropped_bytes"] == len(torn)
    assert recovered.result["dropped_sha256"] == hashlib.sha256(torn.encode()).hexdigest()
    assert recovered.result["dropped_text"] == torn
    assert closed.seq == 5 and closed.prev_hash == recovered.hash
    assert ledger.verify_chain().ok


def test_recover_repairs_a_torn_line_without_another_entry(ledger: EvidenceLedger, tmp_path: Path) -> None:
    _fill(ledger, 2)
    assert ledger.recover() is None  # nothing torn: nothing written
    with _ledger_file(tmp_path).open("ab") as handle:
        handle.write(b'{"seq":3,"act')
    recovered = ledger.recover(step="delete_member")
    assert recovered is not None and recovered.action == "ledger.recovered" and recovered.seq == 3
    assert ledger.verify_chain().ok and ledger.verify_chain().entries == 3


def test_secrets_are_redacted_before_they_reach_the_file(ledger: EvidenceLedger, tmp_path: Path) -> None:
    entry = ledger.append(
        "wecom.token_fetched",
        actor="system",
        step="check_member_and_successor",
        request={
            "corpid": "ww1234",
            "corpsecret": "CORP-SECRET-VALUE",
            "headers": {"Authorization-Token": "BEARER-VALUE", "X-Api-Key": "API-KEY-VALUE"},
            "db_password": "DB-PASSWORD-VALUE",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/user/get?access_token=ACCESS-TOKEN-VALUE&userid=zhangsan",
            "webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WEBHOOK-KEY-VALUE",
            "calls": [{"secret": "NESTED-SECRET-VALUE", "path": "/cgi-bin/gettoken"}],
        },
        result={"access_token": "RESULT-TOKEN-VALUE", "expires_in": 7200, "errcode": 0},
    )

    raw = _ledger_file(tmp_path).read_text(encoding="utf-8")
    for secret in (
        "CORP-SECRET-VALUE",
        "BEARER-VALUE",
        "API-KEY-VALUE",
        "DB-PASSWORD-VALUE",
        "ACCESS-TOKEN-VALUE",
        "WEBHOOK-KEY-VALUE",
        "NESTED-SECRET-VALUE",
        "RESULT-TOKEN-VALUE",
    ):
        assert secret not in raw
        assert secret not in repr(entry)
    assert entry.request["corpsecret"] == "***"
    assert entry.request["corpid"] == "ww1234"
    assert entry.request["url"].endswith("access_token=***&userid=zhangsan")
    assert entry.request["calls"][0] == {"secret": "***", "path": "/cgi-bin/gettoken"}
    assert entry.result == {"access_token": "***", "expires_in": 7200, "errcode": 0}
    assert ledger.verify_chain().ok


def test_has_action_lets_a_retried_task_skip_work(ledger: EvidenceLedger, tmp_path: Path) -> None:
    assert not ledger.has_action("member.deleted", "zhangsan")
    ledger.append(
        "member.deleted", actor="system", step="delete_member", key="zhangsan", result={"errcode": 0}
    )
    assert ledger.has_action("member.deleted", "zhangsan")
    assert not ledger.has_action("member.deleted", "lisi")
    assert not ledger.has_action("member.disabled", "zhangsan")
    ledger.append("member.deleted", actor="system", step="delete_member", key="lisi")
    assert ledger.has_action("member.deleted", "lisi")  # sees entries appended after the first call
    other = EvidenceLedger(
        BackupStore(str(tmp_path)), CASE, key=key_from_environment()
    )  # a fresh object, e.g. the retried task's
    assert other.has_action("member.deleted", "zhangsan")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "MemberDeleted"}, "action must look like 'member.disabled'"),
        ({"action": "deleted"}, "action must look like"),
        ({"actor": ""}, "actor must be the Airflow user"),
        ({"step": ""}, "step must be the task id or None"),
        ({"key": ""}, "key must be a non-empty string"),
        ({"request": {"file": b"raw bytes"}}, r"request\.file: bytes cannot be recorded"),
        ({"result": {"when": float("nan")}}, r"result\.when"),
        ({"request": {1: "x"}}, "keys must be strings"),
        ({"request": {"ids": {"a", "b"}}}, r"request\.ids: a set cannot be recorded"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    ledger: EvidenceLedger, tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"action": "member.deleted", "actor": "system", "step": "delete_member"}
    arguments.update(kwargs)
    action = arguments.pop("action")
    with pytest.raises((ValueError, TypeError), match=message):
        ledger.append(action, **arguments)  # type: ignore[arg-type]
    assert not (tmp_path / CASE).exists()


def test_dates_and_tuples_are_recorded_as_plain_json(ledger: EvidenceLedger) -> None:
    entry = ledger.append(
        "legal.notice_published",
        actor="legal_rep",
        step="record_notice_publication",
        request={"published_on": datetime(2026, 11, 1, tzinfo=UTC).date(), "ids": ("a", "b")},
    )
    assert entry.request == {"published_on": "2026-11-01", "ids": ["a", "b"]}


def test_memory_root_ledger_round_trip() -> None:
    store = BackupStore(f"memory://ledger-tests/{uuid.uuid4().hex}")
    ledger = EvidenceLedger(store, CASE, clock=_ticking_clock(), key=key_from_environment())
    _fill(ledger, 4)
    assert [entry.seq for entry in ledger.entries()] == [1, 2, 3, 4]
    assert ledger.verify_chain().ok
    assert ledger.has_action("member.updated", None)


def test_ledger_stays_plaintext_in_an_encrypted_store(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path), key_from_text(generate_key()))
    EvidenceLedger(store, CASE, key=key_from_environment()).append(
        "case.started", actor="ops_li", step=None, request={"userid": "zhangsan"}
    )
    assert json.loads(_ledger_file(tmp_path).read_text(encoding="utf-8"))["actor"] == "ops_li"


def test_a_whole_entry_missing_only_its_newline_is_kept(ledger: EvidenceLedger, tmp_path: Path) -> None:
    """A last entry cut just before its newline is complete: recovery restores the newline, drops nothing."""
    _fill(ledger, 3)
    path = _ledger_file(tmp_path)
    path.write_bytes(path.read_bytes()[:-1])
    assert ledger.verify_chain().first_bad_seq == 3  # reported as torn until repaired

    assert ledger.recover() is None
    assert ledger.verify_chain().ok and ledger.verify_chain().entries == 3


def test_a_stripped_newline_cannot_make_recovery_drop_an_entry_silently(tmp_path: Path) -> None:
    """Removing the last newline of a valid entry and rewriting its content: the entry is cut off, but kept
    in ledger.recovered, and the anchor taken before shows the ledger changed."""
    ledger = EvidenceLedger(BackupStore(str(tmp_path)), CASE, key=key_from_environment())
    _fill(ledger, 3)
    anchor = ledger.head()
    path = _ledger_file(tmp_path)
    path.write_bytes(path.read_bytes()[:-1].replace(b'"u2"', b'"u9"'))

    ledger.append("case.closed", actor="system", step="close_case")

    entries = list(ledger.entries())
    assert entries[2].action == "ledger.recovered" and '"u9"' in entries[2].result["dropped_text"]
    report = ledger.verify_chain(anchor=anchor)
    assert not report.ok and report.first_bad_seq == 3 and "anchor" in report.problem


def test_every_anchor_is_checked_not_only_the_latest(ledger: EvidenceLedger, tmp_path: Path) -> None:
    _fill(ledger, 3)
    early = ledger.head()
    lines = _lines(tmp_path)
    _write_lines(tmp_path, lines[:2])  # seq 3 removed, then the ledger goes on
    _fill(ledger, 2)
    late = ledger.head()
    assert early is not None and late is not None and late.seq == 4

    assert ledger.verify_chain(anchor=late).ok  # the latest anchor alone is held
    report = ledger.verify_chain(anchors=[late, early])
    assert not report.ok and report.first_bad_seq == 3 and report.anchor == late
