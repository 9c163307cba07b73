"""Dry run: read WeCom for real, plan every write instead of sending it.

A dry-run case runs the production code path end to end. Its clients are ``PlanningClient``s: reads
(``user/get``, lists, transfer results) go to WeCom so the plan is accurate; writes are answered here
with the success shape WeCom would send and remembered as *planned calls*, which the task writes to
the evidence ledger. ``/sandbox/stats`` of a dry-run case therefore shows no write call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offboarding.wecom import WeComClient
from offboarding.wecom.client import api_path


def _customers(body: dict[str, Any]) -> dict[str, Any]:
    return {"customer": [{"external_userid": x, "errcode": 0} for x in body.get("external_userid", [])]}


# Every WeCom write the product makes, with the success answer WeCom would give.
WRITE_ANSWERS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "/cgi-bin/user/update": lambda body: {"errmsg": "updated"},
    "/cgi-bin/user/delete": lambda body: {"errmsg": "deleted"},
    "/cgi-bin/user/batchdelete": lambda body: {"errmsg": "deleted"},
    "/cgi-bin/tag/deltagusers": lambda body: {"errmsg": "deleted"},
    "/cgi-bin/appchat/update": lambda body: {},
    "/cgi-bin/externalcontact/transfer_customer": _customers,
    "/cgi-bin/externalcontact/resigned/transfer_customer": _customers,
    "/cgi-bin/externalcontact/groupchat/onjob_transfer": lambda body: {"failed_chat_list": []},
    "/cgi-bin/externalcontact/groupchat/transfer": lambda body: {"failed_chat_list": []},
    "/cgi-bin/message/send": lambda body: {"invaliduser": "", "msgid": "dry-run"},
}


def _summary(params: dict[str, Any] | None, body: Any) -> dict[str, Any]:
    """What the call would carry, without the token (the client adds it; it never reaches here)."""
    summary: dict[str, Any] = {k: v for k, v in (params or {}).items() if k != "access_token"}
    if isinstance(body, dict):
        for key, value in body.items():
            summary[key] = f"[{len(value)} items]" if isinstance(value, list) and len(value) > 10 else value
    return summary


class PlanningClient(WeComClient):
    """A ``WeComClient`` that sends reads and plans writes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.planned: list[dict[str, Any]] = []

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, item: str | None = None
    ) -> dict[str, Any]:
        full = api_path(path)
        if full in WRITE_ANSWERS:
            return self._plan("GET", full, params, {})
        return super().get(path, params, item=item)

    def post(
        self, path: str, json: Any = None, params: dict[str, Any] | None = None, *, item: str | None = None
    ) -> dict[str, Any]:
        full = api_path(path)
        if full in WRITE_ANSWERS:
            return self._plan("POST", full, params, json if isinstance(json, dict) else {})
        return super().post(path, json, params, item=item)

    def _plan(
        self, method: str, path: str, params: dict[str, Any] | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        merged = {**(params or {}), **body}
        self.planned.append({"method": method, "path": path, "request": _summary(params, body)})
        return {"errcode": 0, "errmsg": "ok", **WRITE_ANSWERS[path](merged)}
