"""App group chats: appchat/get, appchat/update (only chats this app created: 86008; 86003 unknown)."""

from __future__ import annotations

from offboarding_dev.sandbox.config import SCOPE_APP
from offboarding_dev.sandbox.endpoints.base import Answer, Call, WeComRoute, str_list, text_field
from offboarding_dev.sandbox.errors import WeComAnswer
from offboarding_dev.sandbox.world import AppChat

APP_ONLY = frozenset({SCOPE_APP})
MAX_CHAT_MEMBERS = 2000


def _chat(call: Call, chatid: str) -> AppChat:
    if not chatid:
        raise WeComAnswer(86003, "chatid is required")
    chat = call.world.app_chats.get(chatid)
    if chat is None:
        raise WeComAnswer(86003, f"chat {chatid} not found")
    if not chat.created_by_app:
        raise WeComAnswer(86008, f"chat {chatid} was created by another app")
    return chat


def appchat_get(call: Call) -> Answer:
    chat = _chat(call, call.query("chatid"))
    info = {
        "chatid": chat.chatid,
        "name": chat.name,
        "owner": chat.owner,
        "userlist": list(chat.users),
        "chat_type": 0,
    }
    return Answer({"chat_info": info})


def appchat_update(call: Call) -> Answer:
    body = call.body()
    chat = _chat(call, text_field(body, "chatid", 86003))
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or not name):
        raise WeComAnswer(40058, "name must be a non-empty string")
    owner = text_field(body, "owner", required=False)
    add = str_list(body, "add_user_list", 86216)
    remove = str_list(body, "del_user_list", 86216)
    world = call.world
    for userid in [*add, *([owner] if owner else [])]:
        if world.live_member(userid) is None:
            raise WeComAnswer(86216, f"userid {userid} is not a member of the corp")
    users = [u for u in chat.users if u not in remove]
    users += [u for u in dict.fromkeys(add) if u not in users]
    if chat.owner in remove and not owner:
        raise WeComAnswer(40058, "owner is required when del_user_list contains the current owner")
    new_owner = owner or chat.owner
    if new_owner not in users:
        raise WeComAnswer(86216, f"the owner {new_owner} must be a member of the chat")
    if len(users) > MAX_CHAT_MEMBERS:
        raise WeComAnswer(40058, f"a chat holds at most {MAX_CHAT_MEMBERS} members")

    removed = [u for u in chat.users if u not in users]
    added = [u for u in users if u not in chat.users]
    for userid in removed:
        world.members[userid].app_chats.discard(chat.chatid)
    for userid in added:
        world.members[userid].app_chats.add(chat.chatid)
    chat.users = users
    changed_owner = new_owner != chat.owner
    chat.owner = new_owner
    if name is not None:
        chat.name = name
    if not (removed or added or changed_owner or name is not None):
        return Answer()
    write = {"chatid": chat.chatid, "added": added, "removed": removed, "owner": chat.owner}
    return Answer(write=write)


ROUTES = [
    WeComRoute("/cgi-bin/appchat/get", "GET", appchat_get, APP_ONLY),
    WeComRoute("/cgi-bin/appchat/update", "POST", appchat_update, APP_ONLY),
]
