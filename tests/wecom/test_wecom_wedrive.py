"""WeDrive against the sandbox: recursive listing with paging, download tickets, streaming."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from offboarding.wecom import WeComClient, WeComDataError, WeDrive


def test_iter_files_walks_folders_and_gives_paths(client: WeComClient) -> None:
    files = {f["path"]: f for f in WeDrive(client).iter_files("space_lisi")}
    assert set(files) == {"客户拜访记录.txt", "报价单-2025Q3.csv", "合同", "合同/合同清单.md"}
    assert (
        files["合同"]["file_type"] == 1 and files["合同/合同清单.md"]["fileid"] == "file_lisi_contract_list"
    )


def test_iter_files_pages_by_start_and_limit(client: WeComClient, calls: Callable[[str], int]) -> None:
    paged = [f["fileid"] for f in WeDrive(client).iter_files("space_lisi", page_size=1)]
    assert calls("/cgi-bin/wedrive/file_list") == 3 + 1  # 3 root items and 1 in the folder, one per page
    assert paged == [f["fileid"] for f in WeDrive(client).iter_files("space_lisi")]


def test_stream_file_matches_the_listed_md5(client: WeComClient) -> None:
    drive = WeDrive(client)
    listed = {f["fileid"]: f for f in drive.iter_files("space_lisi")}
    content = b"".join(drive.stream_file("file_lisi_visits"))
    assert hashlib.md5(content).hexdigest() == listed["file_lisi_visits"]["md5"]
    assert len(content) == listed["file_lisi_visits"]["file_size"]


def test_a_large_generated_file_streams_in_bounded_chunks(client: WeComClient, sandbox: Any) -> None:
    size = 5 * 1024 * 1024 + 123
    created = sandbox.control.create_wedrive_file("space_lisi", "big.bin", size)
    fileid = created.get("fileid") or created["file"]["fileid"]
    digest, total, biggest = hashlib.md5(), 0, 0
    for chunk in WeDrive(client).stream_file(fileid, chunk_size=256 * 1024):
        digest.update(chunk)
        total += len(chunk)
        biggest = max(biggest, len(chunk))
    listed = {f["fileid"]: f for f in WeDrive(client).iter_files("space_lisi")}
    assert total == size and biggest <= 256 * 1024
    assert digest.hexdigest() == listed[fileid]["md5"]


def test_download_needs_the_cookie(client: WeComClient) -> None:
    ticket = WeDrive(client).download_ticket("file_lisi_quote")
    assert ticket.cookie_value not in repr(ticket)
    with pytest.raises(WeComDataError) as caught:
        list(client.stream(ticket.url, {ticket.cookie_name: "wrong-cookie"}))
    assert caught.value.http_status == 403
    assert ticket.cookie_value not in str(caught.value)


def test_folders_cannot_be_downloaded(client: WeComClient) -> None:
    with pytest.raises(WeComDataError) as caught:
        WeDrive(client).download_ticket("folder_lisi_contracts")
    assert caught.value.errcode == 640029 and caught.value.item == "folder_lisi_contracts"
