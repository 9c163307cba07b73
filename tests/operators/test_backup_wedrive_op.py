"""ExportWeDriveFilesOperator against the sandbox: streamed downloads, names, what cannot be exported."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from offboarding.backup.roots import resolve_backup_root
from offboarding.operators.backup import ExportWeDriveFilesOperator
from offboarding.wecom import WeDrive
from offboarding.wecom.errors import WeComTransientError

TASK_ID = "backup.export_wedrive_files"
VISITS = "2025-06-03 拜访 客户001，确认续约意向。\n2025-06-10 拜访 客户002，报价待确认。\n"
CONTRACTS = "# 合同清单\n\n- HT-2025-001 客户001 标准版\n- HT-2025-002 客户002 企业版\n"


def _export(params: dict[str, Any], make_context: Any) -> dict[str, Any]:
    op = ExportWeDriveFilesOperator(task_id="export_wedrive_files")
    return op.execute(make_context(params, task_id=TASK_ID))


def _case_dir(params: dict[str, Any]) -> Path:
    return Path(resolve_backup_root(params["backup_target"]).url) / "offboard-lisi"


def _index(params: dict[str, Any]) -> list[dict[str, Any]]:
    text = (_case_dir(params) / "wedrive/index.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _ledger_actions(params: dict[str, Any]) -> list[str]:
    text = (_case_dir(params) / "evidence/ledger.jsonl").read_text("utf-8")
    return [json.loads(line)["action"] for line in text.splitlines()]


def test_lisi_space_is_saved_with_folders(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    result = _export(params, make_context)

    case_dir = _case_dir(params)
    assert (case_dir / "wedrive/space_lisi/客户拜访记录.txt").read_text("utf-8") == VISITS
    assert (case_dir / "wedrive/space_lisi/合同/合同清单.md").read_text("utf-8") == CONTRACTS
    assert (case_dir / "wedrive/space_lisi/报价单-2025Q3.csv").is_file()
    index = {line["fileid"]: line for line in _index(params)}
    assert set(index) == {"file_lisi_visits", "file_lisi_quote", "file_lisi_contract_list"}
    contract = index["file_lisi_contract_list"]
    assert contract["path"] == "wedrive/space_lisi/合同/合同清单.md"
    assert contract["wedrive_path"] == "space_lisi/合同/合同清单.md"
    assert contract["entry"]["md5"] == hashlib.md5(CONTRACTS.encode()).hexdigest()  # checked on the way
    assert contract["entry"]["sha256"] == hashlib.sha256(CONTRACTS.encode()).hexdigest()

    assert result["downloaded"] == 3 and result["reused"] == 0
    assert result["file_lists"][0]["path"] == "wedrive/index.jsonl" and result["file_lists"][0]["count"] == 3
    assert [f["path"] for f in result["files"]] == ["wedrive/index.jsonl"]
    personal = [n for n in result["not_exported"] if n["item"] == "personal WeDrive space of lisi"]
    assert len(personal) == 1 and personal[0]["reference"] == "640008"
    assert wecom_conn.control.stats()["writes"] == []
    assert "backup.wedrive_exported" in _ledger_actions(params)


def test_rerun_reuses_saved_files_without_downloading(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    params = sample_person_case()
    first = _export(params, make_context)
    visits = _case_dir(params) / "wedrive/space_lisi/客户拜访记录.txt"
    visits.write_text("tampered", "utf-8")  # a damaged copy must be downloaded again
    wecom_conn.control.reset_stats()

    second = _export(params, make_context)

    assert second["reused"] == 2 and second["downloaded"] == 1
    assert wecom_conn.control.stats()["calls"]["/cgi-bin/wedrive/file_download"] == 1
    assert visits.read_text("utf-8") == VISITS
    assert second["file_lists"][0]["sha256"] == first["file_lists"][0]["sha256"]


def test_unreachable_space_is_recorded(wecom_conn: Any, sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case(wedrive_space_ids=["space_nobody", "space_lisi"])
    result = _export(params, make_context)

    refused = [n for n in result["not_exported"] if n["item"] == "WeDrive space space_nobody"]
    assert len(refused) == 1 and refused[0]["reference"] == "640008"
    assert result["downloaded"] == 3


def test_online_documents_are_recorded_with_640029(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    # The sandbox has no online documents: make every download answer 640029 instead.
    wecom_conn.control.set_faults(errcodes={640029: 1.0}, paths=["/cgi-bin/wedrive/file_download"])
    params = sample_person_case()
    result = _export(params, make_context)

    documents = sorted(n["item"] for n in result["not_exported"] if n["reference"] == "640029")
    assert documents == [
        "WeDrive file space_lisi/合同/合同清单.md",
        "WeDrive file space_lisi/客户拜访记录.txt",
        "WeDrive file space_lisi/报价单-2025Q3.csv",
    ]
    assert result["downloaded"] == 0 and result["file_lists"][0]["count"] == 0


def test_monthly_quota_fails_with_what_to_do(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    wecom_conn.control.set_faults(errcodes={640019: 1.0}, paths=["/cgi-bin/wedrive/file_list"])
    params = sample_person_case()
    with pytest.raises(AirflowFailException) as failure:
        _export(params, make_context)
    assert "640019" in str(failure.value) and "quota" in str(failure.value)
    assert "backup.wedrive_quota_exhausted" in _ledger_actions(params)


def test_failed_downloads_fail_the_task_and_are_recorded(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    wecom_conn.control.set_faults(errcodes={40058: 1.0}, paths=["/cgi-bin/wedrive/file_download"])
    params = sample_person_case()
    with pytest.raises(AirflowException) as failure:
        _export(params, make_context)
    assert not isinstance(failure.value, AirflowFailException)  # retries may fix it
    assert "3 WeDrive file(s)" in str(failure.value)
    assert "space_lisi/客户拜访记录.txt" in str(failure.value)
    assert _ledger_actions(params)[-1] == "backup.wedrive_failed"


def test_bad_space_list_fails_before_calling_wecom(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    wecom_conn.control.reset_stats()
    with pytest.raises(AirflowFailException, match="wedrive_space_ids: must be a list"):
        _export(sample_person_case(wedrive_space_ids="space_lisi"), make_context)
    with pytest.raises(AirflowFailException, match=r"wedrive_space_ids\[1\]"):
        _export(sample_person_case(wedrive_space_ids=["space_lisi", ""]), make_context)
    assert wecom_conn.control.stats()["calls"] == {}


def test_same_and_unsafe_names_get_distinct_safe_paths(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    control = wecom_conn.control
    twin = control.create_wedrive_file("space_lisi", "客户拜访记录.txt", 10)
    dots = control.create_wedrive_file("space_lisi", "..", 5)
    odd = control.create_wedrive_file("space_lisi", 'a\\b:c*?"<>|.txt', 7)
    params = sample_person_case()

    _export(params, make_context)

    paths = {line["fileid"]: line["path"] for line in _index(params)}
    assert paths["file_lisi_visits"] == "wedrive/space_lisi/客户拜访记录.txt"
    assert paths[twin["fileid"]].startswith("wedrive/space_lisi/客户拜访记录~")
    assert paths[twin["fileid"]].endswith(".txt")
    assert paths[dots["fileid"]] == "wedrive/space_lisi/_"
    assert paths[odd["fileid"]] == "wedrive/space_lisi/a_b_c______.txt"
    assert len(set(paths.values())) == len(paths)
    for fileid, size in ((twin["fileid"], 10), (dots["fileid"], 5), (odd["fileid"], 7)):
        assert (_case_dir(params).parent / "offboard-lisi" / paths[fileid]).stat().st_size == size


def test_big_file_is_streamed_with_bounded_memory(
    wecom_conn: Any, sample_person_case: Any, make_context: Any
) -> None:
    size = 64 * 1024 * 1024
    big = wecom_conn.control.create_wedrive_file("space_big", "大文件.bin", size)
    _export(sample_person_case(), make_context)  # warm up: imports and connections are not the download
    params = sample_person_case(wedrive_space_ids=["space_big"])

    tracemalloc.start()
    try:
        result = _export(params, make_context)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert result["downloaded"] == 1 and result["bytes"] == size
    assert peak < size // 8, f"peak {peak} bytes while saving a {size}-byte file"
    saved = _case_dir(params) / "wedrive/space_big/大文件.bin"
    md5 = hashlib.md5()
    with saved.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            md5.update(chunk)
    assert saved.stat().st_size == size and md5.hexdigest() == big["md5"]


def test_a_download_that_breaks_off_is_fetched_again(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sandbox cannot drop a connection halfway through a body, so the first stream of one file is
    # cut after its first chunk here; the retry goes to the sandbox for real with a new ticket.
    real_stream = WeDrive.stream_file
    broken: list[str] = []

    def stream_file(self: WeDrive, fileid: str, chunk_size: int = 4) -> Iterator[bytes]:
        chunks = real_stream(self, fileid, chunk_size=4)
        if fileid != "file_lisi_contract_list" or broken:
            return chunks
        broken.append(fileid)

        def cut() -> Iterator[bytes]:
            yield next(chunks)
            raise WeComTransientError(
                None, "connection reset", "/wedrive/download", hint="the download broke off"
            )

        return cut()

    monkeypatch.setattr(WeDrive, "stream_file", stream_file)
    wecom_conn.control.reset_stats()
    params = sample_person_case()

    result = _export(params, make_context)

    assert broken == ["file_lisi_contract_list"]
    assert result["downloaded"] == 3
    assert (_case_dir(params) / "wedrive/space_lisi/合同/合同清单.md").read_text("utf-8") == CONTRACTS
    assert wecom_conn.control.stats()["calls"]["/cgi-bin/wedrive/file_download"] == 4
