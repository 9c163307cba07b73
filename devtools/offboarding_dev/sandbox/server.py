"""The HTTP side: a ThreadingHTTPServer (HTTP/1.1 keep-alive) that hands every request to the app."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from offboarding_dev.sandbox.app import SandboxApp
from offboarding_dev.sandbox.http_types import Request, Response
from offboarding_dev.sandbox.redaction import redact_url

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 16 * 1024 * 1024


class SandboxHTTPServer(ThreadingHTTPServer):
    """One thread per connection; connections are kept alive so clients reuse them."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        super().__init__(address, SandboxRequestHandler)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WeComSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; avoid 40 ms stalls
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def log_message(self, format: str, *args: object) -> None:  # quiet unless --verbose
        if self.server.app.config.verbose:
            # the request line carries access_token / key: redact before logging
            log.info("%s %s", self.address_string(), redact_url(format % args))

    def _dispatch(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self._send(Response.json({"errcode": 40058, "errmsg": "invalid Content-Length"}, status=400))
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        request = Request(method, parts.path, query, body, self.headers, self.client_address[0])
        try:
            response = self.server.app.handle(request)
        except Exception:  # a sandbox bug must answer 500, not kill the connection thread silently
            log.exception("sandbox failed on %s %s", method, parts.path)
            response = Response.json({"errcode": -1, "errmsg": "sandbox internal error"}, status=500)
        self._send(response)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.stream is not None:
            self.send_header("Content-Length", str(response.length or 0))
            self.end_headers()
            try:
                for chunk in response.stream:
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)


def serve_in_thread(server: SandboxHTTPServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread (so the main thread can wait for signals)."""
    thread = threading.Thread(target=server.serve_forever, name="wecom-sandbox", daemon=True)
    thread.start()
    return thread
