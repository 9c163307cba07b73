"""Cross-site request forgery: who may POST a case action with only the browser's ``_token`` cookie.

The cases page runs on the api-server, where Airflow authenticates a browser by its ``_token`` cookie
(``SameSite=Lax``: a cross-*site* form POST does not carry it, but a page of a sibling sub-domain is
the same *site*). Two checks apply to every POST that carries no ``Authorization`` header:

* **same origin**: the ``Origin`` header (or, when a browser omits it, the ``Referer``) must name the
  host the request was sent to — a form on any other origin is refused;
* **per-form token** (page forms only): each confirmation form carries
  ``HMAC-SHA256(key = the user's _token cookie, "case_id|action")``. Another origin can neither read
  the cookie nor the page, so it cannot compute or copy the token; no server-side secret or storage is
  needed, and a token dies with the login it was made for (after Airflow refreshes the cookie, reload
  the page).

A request with a bearer token (CLI, scripts) is not forgeable by a browser and needs neither check.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

COOKIE = "_token"


def _has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def same_origin(request: Request) -> bool:
    """The request comes from a page of the host it was sent to (Origin, else Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    host = request.headers.get("host", "")
    return urlsplit(source).netloc.lower() == host.lower()


def check_cookie_request(request: Request) -> None:
    """403 when a cookie-authenticated POST does not come from the same origin (REST routes)."""
    if _has_bearer(request):
        return
    if not same_origin(request):
        raise HTTPException(
            403,
            {
                "reason": "cross-site request refused: a case action authenticated by the browser's cookie "
                "must come from the cases page itself (or send an Authorization: Bearer token)"
            },
        )


def form_token(cookie: str, case_id: str, action: str) -> str:
    """The token a confirmation form of the page carries for ``action`` on ``case_id``."""
    return hmac.new(cookie.encode(), f"{case_id}|{action}".encode(), hashlib.sha256).hexdigest()


def check_form_request(request: Request, token: str | None, case_id: str, action: str) -> None:
    """403 unless a page form's POST is same-origin and carries this login's token for this action."""
    if _has_bearer(request):
        return
    check_cookie_request(request)
    cookie = request.cookies.get(COOKIE)
    if not cookie or not token or not hmac.compare_digest(form_token(cookie, case_id, action), token):
        raise HTTPException(
            403,
            {"reason": "the form's token does not match your login (the page is outdated): reload the page"},
        )
