"""WeCom error answers: the errcode plus an errmsg shaped like WeCom's own (text, hint, help link)."""

from __future__ import annotations

import itertools
import time
from typing import Any

# errmsg texts in WeCom's style; the client decides on errcode only, these are for humans.
ERRMSG: dict[int, str] = {
    -1: "system busy",
    6000: "data version conflict",
    40001: "invalid credential, invalid corpsecret",
    40003: "invalid userid",
    40008: "invalid message type",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40031: "invalid userid list",
    40032: "invalid userid list size",
    40050: "invalid chatid",
    40056: "invalid agentid",
    40058: "invalid parameter",
    40068: "invalid tagid",
    40070: "all list invalid",
    40096: "invalid external userid",
    40097: "the handover user is not resigned",
    40128: "customer transfer too frequently",
    40129: "customer is transferring",
    40130: "the handover user is the same as the takeover user",
    40131: "the handover user is not the follow user of the customer",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    42001: "access_token expired",
    43001: "require GET request",
    43002: "require POST request",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    47001: "data format error",
    48002: "api forbidden",
    60110: "too many departments",
    60111: "userid not found",
    60123: "invalid party id",
    60132: "department/order/is_leader_in_dept size not match",
    81011: "no privilege to access/modify contact/party/agent/tag",
    81013: "user & party & tag all invalid",
    84061: "not external contact",
    86003: "chat not found",
    86008: "not allow to operate chat created by other app",
    86216: "invalid chat member",
    90500: "the owner of this chat is not resigned",
    90501: "chat is not external group chat",
    90502: "the owner of this chat is resigned",
    90503: "transfer limit of chats per day reached",
    90504: "the owner of this chat is not changed",
    90507: "the chat is being transferred",
    90508: "the chat has been transferred",
    93000: "invalid webhook url",
    301005: "not allow to delete creator",
    640002: "file not found",
    640008: "no space permission",
    640029: "only support download normal file",
}

_hint_counter = itertools.count(1)


def errmsg_for(errcode: int, detail: str | None = None, client_ip: str = "127.0.0.1") -> str:
    """A WeCom-style errmsg: ``text, hint: [...], from ip: ..., more info at ...?e=CODE``."""
    text = ERRMSG.get(errcode, "error")
    if detail:
        text = f"{text}: {detail}"
    hint = f"{int(time.time())}_{next(_hint_counter)}_sandbox"
    return (
        f"{text}, hint: [{hint}], from ip: {client_ip}, "
        f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}"
    )


class WeComAnswer(Exception):
    """Raised by an endpoint to answer with a non-zero errcode and change nothing.

    ``exact_errmsg`` is used verbatim where WeCom's documented text is known (e.g. "all list invalid").
    """

    def __init__(self, errcode: int, detail: str | None = None, *, exact_errmsg: str | None = None) -> None:
        super().__init__(f"{errcode}: {detail or ERRMSG.get(errcode, 'error')}")
        self.errcode = errcode
        self.detail = detail
        self.exact_errmsg = exact_errmsg

    def body(self, client_ip: str = "127.0.0.1") -> dict[str, Any]:
        """The JSON body WeCom would send for this error."""
        errmsg = self.exact_errmsg or errmsg_for(self.errcode, self.detail, client_ip)
        return {"errcode": self.errcode, "errmsg": errmsg}


class ControlError(Exception):
    """Raised by a /sandbox/ control endpoint: answered as HTTP ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra
