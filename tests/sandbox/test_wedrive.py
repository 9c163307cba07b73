"""WeDrive: file_list paging, file_download tickets, the cookie requirement, generated large files."""

from __future__ import annotations

import hashlib

import requests

MiB = 1024 * 1024


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_file_list_root_and_folder(wecom) -> None:
    root = wecom.post(
        "/cgi-bin/wedrive/file_list",
        {"spaceid": "space_lisi", "fatherid": "space_lisi", "start": 0, "limit": 100},
    )
    assert root["errcode"] == 0 and root["has_more"] is False
    items = {i["file_name"]: i for i in root["file_list"]["item"]}
    assert set(items) == {"客户拜访记录.txt", "报价单-2025Q3.csv", "合同"}
    assert items["合同"]["file_type"] == 1 and items["客户拜访记录.txt"]["file_type"] == 2
    for key in ("fileid", "file_size", "md5", "sha", "ctime", "mtime"):
        assert key in items["报价单-2025Q3.csv"]
    inner = wecom.post(
        "/cgi-bin/wedrive/file_list", {"spaceid": "space_lisi", "fatherid": items["合同"]["fileid"]}
    )
    assert [i["file_name"] for i in inner["file_list"]["item"]] == ["合同清单.md"]


def test_file_list_paging_and_errors(wecom) -> None:
    first = wecom.post("/cgi-bin/wedrive/file_list", {"spaceid": "space_lisi", "start": 0, "limit": 2})
    assert first["has_more"] is True and first["next_start"] == 2 and len(first["file_list"]["item"]) == 2
    second = wecom.post("/cgi-bin/wedrive/file_list", {"spaceid": "space_lisi", "start": 2, "limit": 2})
    assert second["has_more"] is False and len(second["file_list"]["item"]) == 1
    assert (
        wecom.post("/cgi-bin/wedrive/file_list", {"spaceid": "space_lisi", "limit": 1001})["errcode"] == 40058
    )
    assert wecom.post("/cgi-bin/wedrive/file_list", {"spaceid": "space_nobody"})["errcode"] == 640008
    assert (
        wecom.post("/cgi-bin/wedrive/file_list", {"spaceid": "space_lisi", "fatherid": "nope"})["errcode"]
        == 640002
    )


def test_download_requires_the_cookie_and_matches_md5(wecom, sandbox) -> None:
    ticket = wecom.post("/cgi-bin/wedrive/file_download", {"fileid": "file_lisi_visits"})
    assert ticket["errcode"] == 0
    assert ticket["download_url"].startswith(wecom.base_url + "/")
    no_cookie = requests.get(ticket["download_url"], timeout=10)
    assert no_cookie.status_code == 403
    as_query = requests.get(
        ticket["download_url"], params={ticket["cookie_name"]: ticket["cookie_value"]}, timeout=10
    )
    assert as_query.status_code == 403
    wrong = requests.get(ticket["download_url"], cookies={ticket["cookie_name"]: "wrong"}, timeout=10)
    assert wrong.status_code == 403
    ok = requests.get(
        ticket["download_url"], cookies={ticket["cookie_name"]: ticket["cookie_value"]}, timeout=10
    )
    assert ok.status_code == 200
    assert "拜访" in ok.content.decode("utf-8")
    assert sandbox.control.stats()["calls"]["/wedrive/download"] == 4  # every download attempt is counted
    listing = wecom.post("/cgi-bin/wedrive/file_list", {"spaceid": "space_lisi"})["file_list"]["item"]
    md5 = next(i["md5"] for i in listing if i["fileid"] == "file_lisi_visits")
    assert hashlib.md5(ok.content).hexdigest() == md5


def test_download_errors(wecom) -> None:
    assert (
        wecom.post("/cgi-bin/wedrive/file_download", {"fileid": "folder_lisi_contracts"})["errcode"] == 640029
    )
    assert wecom.post("/cgi-bin/wedrive/file_download", {"fileid": "nope"})["errcode"] == 640002
    assert requests.get(f"{wecom.base_url}/wedrive/download/unknown-ticket", timeout=10).status_code == 404


def test_large_generated_file_streams_with_bounded_memory(sandbox, wecom) -> None:
    size = 96 * MiB
    created = sandbox.control.create_wedrive_file("space_bench", "backup.bin", size)
    assert created["file_size"] == size and created["file_type"] == 2
    listing = wecom.post("/cgi-bin/wedrive/file_list", {"spaceid": "space_bench"})["file_list"]["item"]
    assert [i["fileid"] for i in listing] == [created["fileid"]]
    ticket = wecom.post("/cgi-bin/wedrive/file_download", {"fileid": created["fileid"]})
    pid = sandbox.process.pid
    before = _rss_kib(pid)
    peak = before
    md5 = hashlib.md5()
    received = 0
    with requests.get(
        ticket["download_url"],
        cookies={ticket["cookie_name"]: ticket["cookie_value"]},
        stream=True,
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == size
        for chunk in response.iter_content(MiB):
            md5.update(chunk)
            received += len(chunk)
            peak = max(peak, _rss_kib(pid))
    assert received == size
    assert md5.hexdigest() == created["md5"]
    assert (peak - before) < 32 * 1024, f"sandbox RSS grew by {(peak - before) // 1024} MiB for a 96 MiB file"


def test_range_request_returns_the_same_bytes(sandbox, wecom) -> None:
    created = sandbox.control.create_wedrive_file("space_bench", "range.bin", 3 * MiB + 5)
    ticket = wecom.post("/cgi-bin/wedrive/file_download", {"fileid": created["fileid"]})
    cookies = {ticket["cookie_name"]: ticket["cookie_value"]}
    whole = requests.get(ticket["download_url"], cookies=cookies, timeout=30).content
    assert len(whole) == 3 * MiB + 5
    start = MiB - 10
    part = requests.get(
        ticket["download_url"], cookies=cookies, headers={"Range": f"bytes={start}-"}, timeout=30
    )
    assert part.status_code == 206
    assert part.content == whole[start:]
    assert whole[:MiB] != whole[MiB : 2 * MiB]  # blocks differ


def test_create_file_rejects_bad_input(sandbox) -> None:
    import pytest

    from offboarding_dev.sandbox.control import SandboxControlError

    with pytest.raises(SandboxControlError, match="size must be"):
        sandbox.control.create_wedrive_file("space_bench", "x.bin", -1)
    with pytest.raises(SandboxControlError, match="not a folder"):
        sandbox.control.create_wedrive_file("space_lisi", "x.bin", 10, fatherid="file_lisi_visits")
