"""WeDrive (微盘): wedrive/file_list, wedrive/file_download, and the download URL itself.

file_download hands out a URL on this server plus a cookie; a GET on the URL without that cookie gets
403. Seeded small files hold real bytes; generated files are streamed from (fileid, offset) so a 1 GB
file costs no memory.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

from offboarding_dev.sandbox.config import SCOPE_APP
from offboarding_dev.sandbox.content import generated_bytes
from offboarding_dev.sandbox.endpoints.base import Answer, Call, WeComRoute, int_field, text_field
from offboarding_dev.sandbox.errors import WeComAnswer
from offboarding_dev.sandbox.http_types import Request, Response
from offboarding_dev.sandbox.world import DownloadTicket

if TYPE_CHECKING:
    from offboarding_dev.sandbox.app import SandboxApp

APP_ONLY = frozenset({SCOPE_APP})
DOWNLOAD_URL_TTL_SECONDS = 2 * 3600  # WeCom: the download_url is valid for 2 h (technical, not scaled)
COOKIE_NAME = "wedrive_download_ticket"
STATS_PATH = "/wedrive/download"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def file_list(call: Call) -> Answer:
    body = call.body()
    world = call.world
    spaceid = text_field(body, "spaceid", 640008)
    if spaceid not in world.spaces:
        raise WeComAnswer(640008, f"no permission on space {spaceid}")
    fatherid = text_field(body, "fatherid", required=False) or spaceid
    start = int_field(body, "start", 0, 0, 10**9)
    limit = int_field(body, "limit", 100, 1, 1000)
    if fatherid != spaceid:
        folder = world.files.get(fatherid)
        if folder is None or folder.spaceid != spaceid or folder.file_type != 1:
            raise WeComAnswer(640002, f"folder {fatherid} not found in space {spaceid}")
    children = list(world.children.get(fatherid, ()))
    page = children[start : start + limit]
    has_more = start + limit < len(children)
    items = [world.files[fileid].as_wecom() for fileid in page]
    return Answer({"has_more": has_more, "next_start": start + len(page), "file_list": {"item": items}})


def file_download(call: Call) -> Answer:
    body = call.body()
    if body.get("selected_ticket"):
        raise WeComAnswer(40058, "selected_ticket downloads are not simulated; pass fileid")
    fileid = text_field(body, "fileid", 640002)
    item = call.world.files.get(fileid)
    if item is None:
        raise WeComAnswer(640002, f"file {fileid} not found")
    if item.file_type != 2:
        raise WeComAnswer(640029, f"{fileid} is a folder")
    ticket = secrets.token_urlsafe(24)
    cookie_value = secrets.token_urlsafe(24)
    call.world.download_tickets[ticket] = DownloadTicket(
        fileid, COOKIE_NAME, cookie_value, call.now + DOWNLOAD_URL_TTL_SECONDS
    )
    url = f"http://{call.request.host}{STATS_PATH}/{ticket}"
    return Answer({"download_url": url, "cookie_name": COOKIE_NAME, "cookie_value": cookie_value})


def serve_download(app: SandboxApp, request: Request) -> Response:
    """GET on a download_url: the file's bytes (Range supported), 403 without the cookie."""
    ticket_id = request.path.rsplit("/", 1)[-1]
    now = app.clock.now()
    app.stats.record_call(STATS_PATH, None)
    with app.world.lock:
        ticket = app.world.download_tickets.get(ticket_id)
        item = app.world.files.get(ticket.fileid) if ticket else None
    if request.method != "GET":
        return Response(status=405, body=b"method not allowed", content_type="text/plain")
    if ticket is None or item is None or ticket.expires_at <= now:
        return Response(status=404, body=b"download url unknown or expired", content_type="text/plain")
    if request.cookies().get(ticket.cookie_name) != ticket.cookie_value:
        return Response(
            status=403, body=b"forbidden: the download cookie is missing", content_type="text/plain"
        )
    size = item.file_size
    start, end, status = 0, size, 200
    headers = {"Accept-Ranges": "bytes", "Content-Disposition": "attachment"}
    wanted = request.headers.get("Range")
    if wanted:
        match = _RANGE.match(wanted.strip())
        if match is None or (not match.group(1) and not match.group(2)):
            return Response(status=416, body=b"bad range", content_type="text/plain")
        if match.group(1):
            start = int(match.group(1))
            end = min(size, int(match.group(2)) + 1) if match.group(2) else size
        else:
            start = max(0, size - int(match.group(2)))
        if start >= size or start >= end:
            return Response(
                status=416,
                body=b"range not satisfiable",
                content_type="text/plain",
                headers={"Content-Range": f"bytes */{size}"},
            )
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if item.content is not None:
        stream = iter([item.content[start:end]])
    else:
        stream = generated_bytes(item.fileid, size, start, end)
    return Response(
        status=status,
        content_type="application/octet-stream",
        headers=headers,
        stream=stream,
        length=end - start,
    )


ROUTES = [
    WeComRoute("/cgi-bin/wedrive/file_list", "POST", file_list, APP_ONLY),
    WeComRoute("/cgi-bin/wedrive/file_download", "POST", file_download, APP_ONLY),
]
