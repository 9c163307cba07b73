"""Messages: app messages (message/send) and the group robot (webhook/send, keyed by ``key``, no token).

App messages to a person about "注销账号" reach the simulated person (see ``offboarding_dev.sandbox.accounts``).
Robot messages are stored with a short hash of the key, never the key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from offboarding_dev.sandbox import accounts
from offboarding_dev.sandbox.clock import iso
from offboarding_dev.sandbox.config import SCOPE_APP
from offboarding_dev.sandbox.endpoints.base import Answer, Call, WeComRoute
from offboarding_dev.sandbox.errors import WeComAnswer

APP_ONLY = frozenset({SCOPE_APP})
MESSAGE_TYPES = ("text", "markdown")
ROBOT_LIMITS = {"text": 2048, "markdown": 4096}  # content bytes, UTF-8


def _content(body: dict[str, Any], msgtype: str) -> str:
    section = body.get(msgtype)
    content = section.get("content") if isinstance(section, dict) else None
    if not isinstance(content, str) or not content:
        raise WeComAnswer(40058, f"{msgtype}.content is required")
    return content


def message_send(call: Call) -> Answer:
    body = call.body()
    agentid = body.get("agentid")
    if isinstance(agentid, str) and agentid.isdigit():
        agentid = int(agentid)
    if agentid != call.app.config.agent_id:
        raise WeComAnswer(40056, f"agentid {agentid} is not this app")
    msgtype = body.get("msgtype")
    if msgtype not in MESSAGE_TYPES:
        raise WeComAnswer(40008, f"msgtype must be one of {', '.join(MESSAGE_TYPES)}")
    content = _content(body, msgtype)
    touser = body.get("touser", "")
    if not isinstance(touser, str) or not touser:
        raise WeComAnswer(81013, "touser is empty")
    world = call.world
    if touser == "@all":
        valid = [m.userid for m in world.members.values() if not m.deleted]
        invalid: list[str] = []
    else:
        wanted = [u for u in dict.fromkeys(touser.split("|")) if u]
        valid = [u for u in wanted if world.live_member(u) is not None]
        invalid = [u for u in wanted if u not in valid]
    if not valid:
        raise WeComAnswer(81013, "no valid recipient")
    msgid = world.new_id("msg_")
    record = {
        "msgid": msgid,
        "at": iso(call.now),
        "agentid": agentid,
        "touser": valid,
        "msgtype": msgtype,
        "content": content,
    }
    world.app_messages.append((call.now, record))
    if accounts.GUIDE_KEYWORD in content:
        for userid in valid:
            account = world.accounts.get(userid)
            if account is None:
                account = world.accounts[userid] = accounts.Account(userid)
            accounts.advance(account, world.members[userid], call.now, call.app.clock, call.app.durations)
            accounts.receive_guide(account, call.now)
    payload = {"invaliduser": "|".join(invalid), "invalidparty": "", "invalidtag": "", "msgid": msgid}
    return Answer(payload, write={"msgid": msgid, "touser": valid, "msgtype": msgtype})


def key_hash(key: str) -> str:
    """A short, stable stand-in for a webhook key (the key itself is a credential)."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def webhook_send(call: Call) -> Answer:
    key = call.query("key")
    app = call.app
    if not key or key not in app.config.webhook_keys:
        raise WeComAnswer(93000)
    body = call.body()
    msgtype = body.get("msgtype")
    if msgtype not in ROBOT_LIMITS:
        raise WeComAnswer(40008, f"msgtype must be one of {', '.join(ROBOT_LIMITS)}")
    content = _content(body, msgtype)
    size = len(content.encode("utf-8"))
    if size > ROBOT_LIMITS[msgtype]:
        raise WeComAnswer(40058, f"{msgtype}.content is {size} bytes, the limit is {ROBOT_LIMITS[msgtype]}")
    if not call.world.robot_limiter.allow(key, call.now):
        raise WeComAnswer(45009, exact_errmsg="api freq out of limit")
    section = body[msgtype]
    record: dict[str, Any] = {
        "at": iso(call.now),
        "key_hash": key_hash(key),
        "msgtype": msgtype,
        "content": content,
    }
    if msgtype == "text":
        record["mentioned_list"] = section.get("mentioned_list") or []
        record["mentioned_mobile_list"] = section.get("mentioned_mobile_list") or []
    call.world.robot_messages.append((call.now, record))
    return Answer(write={"key_hash": record["key_hash"], "msgtype": msgtype})


ROUTES = [
    WeComRoute("/cgi-bin/message/send", "POST", message_send, APP_ONLY),
    WeComRoute("/cgi-bin/webhook/send", "POST", webhook_send, scopes=None),
]
