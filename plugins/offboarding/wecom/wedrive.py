"""``WeDrive`` (微盘): list a space's files recursively and stream a file's bytes.

Downloads take two steps: ``file_download`` returns a URL plus a cookie (valid 2 h), then a plain GET with
that cookie streams the bytes (no access token). Only ordinary files download (640029 for folders and
online documents). Free corps have 1,000 WeDrive calls a month (640019), so listing pages are large.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from offboarding.wecom.client import ONE_MIB, WeComClient
from offboarding.wecom.paging import iter_start_limit, require_id

FILE_LIST_MAX = 1000
FOLDER = 1


class DownloadTicket(NamedTuple):
    """Where to GET a file and the cookie to send; the cookie is a credential (hidden in the repr)."""

    url: str
    cookie_name: str
    cookie_value: str

    def __repr__(self) -> str:
        return (
            f"DownloadTicket(url=<{len(self.url)} chars>, cookie_name={self.cookie_name!r}, cookie_value=***)"
        )


class WeDrive:
    """WeDrive calls of one client."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    def iter_files(
        self, spaceid: str, fatherid: str | None = None, *, page_size: int = FILE_LIST_MAX
    ) -> Iterator[dict[str, Any]]:
        """Every file and folder under ``fatherid`` (default: the space root), depth first.

        Each item is WeCom's (``fileid``, ``file_name``, ``file_type`` 1 folder/2 file, ``file_size``,
        ``md5``, ...) plus ``path``: its folder path from the start folder, e.g. ``"reports/2024.xlsx"``.

        WeCom: ``wedrive/file_list``, https://developer.work.weixin.qq.com/document/path/96847
        """
        require_id(spaceid, "spaceid")
        if not 1 <= page_size <= FILE_LIST_MAX:
            raise ValueError(f"page_size must be between 1 and {FILE_LIST_MAX}, got {page_size}")
        yield from self._walk(spaceid, fatherid or spaceid, "", page_size)

    def _walk(self, spaceid: str, fatherid: str, prefix: str, page_size: int) -> Iterator[dict[str, Any]]:
        def fetch(start: int) -> dict[str, Any]:
            body = {
                "spaceid": spaceid,
                "fatherid": fatherid,
                "sort_type": 1,
                "start": start,
                "limit": page_size,
            }
            return self.client.post("wedrive/file_list", body, item=fatherid)

        folders: list[tuple[str, str]] = []
        items = iter_start_limit(
            fetch,
            lambda page: (page.get("file_list") or {}).get("item") or [],
            path="/cgi-bin/wedrive/file_list",
        )
        for item in items:
            path = f"{prefix}{item.get('file_name', item.get('fileid'))}"
            yield {**item, "path": path}
            if int(item.get("file_type", 0)) == FOLDER:
                folders.append((str(item["fileid"]), f"{path}/"))
        for folder_id, folder_path in folders:
            yield from self._walk(spaceid, folder_id, folder_path, page_size)

    def download_ticket(self, fileid: str) -> DownloadTicket:
        """The URL and cookie to download an ordinary file (valid 2 h).

        WeCom: ``wedrive/file_download``, https://developer.work.weixin.qq.com/document/path/97915
        """
        require_id(fileid, "fileid")
        body = self.client.post("wedrive/file_download", {"fileid": fileid}, item=fileid)
        return DownloadTicket(str(body["download_url"]), str(body["cookie_name"]), str(body["cookie_value"]))

    def stream_file(self, fileid: str, chunk_size: int = ONE_MIB) -> Iterator[bytes]:
        """The file's bytes in chunks, without holding the file in memory.

        WeCom: ``wedrive/file_download``, https://developer.work.weixin.qq.com/document/path/97915
        """
        ticket = self.download_ticket(fileid)
        return self.client.stream(ticket.url, {ticket.cookie_name: ticket.cookie_value}, chunk_size)
