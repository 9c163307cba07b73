"""What a WeCom endpoint gets (a ``Call``) and gives back (an ``Answer``), plus input checks.

Every check raises ``WeComAnswer`` before anything changes, so a refused call never half-applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from offboarding_dev.sandbox.errors import WeComAnswer
from offboarding_dev.sandbox.http_types import Request
from offboarding_dev.sandbox.world import Member, World

if TYPE_CHECKING:
    from offboarding_dev.sandbox.app import SandboxApp


@dataclass
class Answer:
    """A successful answer: extra fields next to errcode 0, the errmsg, and what changed (if anything)."""

    payload: dict[str, Any] = field(default_factory=dict)
    errmsg: str = "ok"
    write: dict[str, Any] | None = None


@dataclass
class Call:
    """One WeCom call being answered (the world lock is held while the handler runs)."""

    app: SandboxApp
    request: Request
    now: float
    scopes: frozenset[str]
    _body: Any = None

    @property
    def world(self) -> World:
        return self.app.world

    def body(self) -> dict[str, Any]:
        """The JSON body; 47001 (with WeCom's "Warning: wrong json format.") when malformed."""
        if self._body is None:
            try:
                parsed = self.request.json()
            except (ValueError, UnicodeDecodeError):
                raise WeComAnswer(
                    47001,
                    exact_errmsg="Warning: wrong json format. data format error, hint: [sandbox], "
                    "more info at https://open.work.weixin.qq.com/devtool/query?e=47001",
                ) from None
            if not isinstance(parsed, dict):
                raise WeComAnswer(
                    47001, exact_errmsg="Warning: wrong json format. the body must be a JSON object"
                )
            self._body = parsed
        return self._body

    def query(self, name: str) -> str:
        return self.request.query.get(name, "")


Handler = Callable[[Call], Answer]


@dataclass(frozen=True)
class WeComRoute:
    """One WeCom path: its method, handler, and which token scopes may call it.

    ``scopes`` None = no access_token needed (gettoken, webhook); empty = any valid token.
    """

    path: str
    method: str
    handler: Handler
    scopes: frozenset[str] | None = frozenset()


# ----- input checks -------------------------------------------------------------------------------------


def text_field(body: dict[str, Any], name: str, errcode: int = 40058, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise WeComAnswer(errcode, f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise WeComAnswer(errcode, f"{name} must be a string")
    return value


def int_field(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if value is None or value == "":
        value = default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WeComAnswer(40058, f"{name} must be an integer from {low} to {high}")
    return value


def str_list(body: dict[str, Any], name: str, errcode: int = 40058) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WeComAnswer(errcode, f"{name} must be a list of strings")
    return value


def int_list(body: dict[str, Any], name: str, errcode: int = 40058) -> list[int] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise WeComAnswer(errcode, f"{name} must be a list of integers")
    return value


def parse_cursor(text: str) -> int:
    """A simple cursor (hex sequence number); '' = start; 40058 when it is not one of ours."""
    if not text:
        return 0
    try:
        return int(text, 16)
    except ValueError:
        raise WeComAnswer(40058, "invalid cursor") from None


def make_cursor(seq: int | None) -> str:
    return "" if seq is None else format(seq, "x")


def parse_pair_cursor(text: str) -> tuple[int, int]:
    """A cursor over several lists: 'LIST.SEQ' (both hex)."""
    if not text:
        return 0, 0
    try:
        left, right = text.split(".", 1)
        return int(left, 16), int(right, 16)
    except ValueError:
        raise WeComAnswer(40058, "invalid cursor") from None


def make_pair_cursor(index: int, seq: int) -> str:
    return f"{index:x}.{seq:x}"


def live_member(call: Call, userid: str, errcode: int = 60111) -> Member:
    """The member in the contacts now (not deleted), else the errcode (60111 userid not found)."""
    if not userid:
        raise WeComAnswer(errcode, "userid is empty")
    member = call.world.live_member(userid)
    if member is None:
        raise WeComAnswer(errcode, f"userid {userid} not found")
    return member
