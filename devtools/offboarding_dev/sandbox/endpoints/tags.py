"""Tags: tag/list, tag/get, tag/addtagusers, tag/deltagusers (only tags the app created may be changed: 81011).

Adding: developer.work.weixin.qq.com/document/path/90214 — userlist and partylist not both empty, at most
1000 users / 100 parties; ids that are not (live) members or departments come back in ``invalidlist``
(``|``-joined) / ``invalidparty``; all of them invalid → 40070 "all list invalid".
"""

from __future__ import annotations

from offboarding_dev.sandbox.config import SCOPE_APP, SCOPE_CONTACT
from offboarding_dev.sandbox.endpoints.base import Answer, Call, WeComRoute, int_list, str_list
from offboarding_dev.sandbox.errors import WeComAnswer
from offboarding_dev.sandbox.world import Tag

TAG_SCOPES = frozenset({SCOPE_APP, SCOPE_CONTACT})
MAX_USERS = 1000
MAX_PARTIES = 100


def _tag(call: Call, raw: object) -> Tag:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise WeComAnswer(40068, "tagid must be an integer")
    tag = call.world.tags.get(raw)
    if tag is None:
        raise WeComAnswer(40068, f"tag {raw} not found")
    return tag


def tag_list(call: Call) -> Answer:
    return Answer({"taglist": [{"tagid": t.tagid, "tagname": t.name} for t in call.world.tags.values()]})


def tag_get(call: Call) -> Answer:
    tag = _tag(call, call.query("tagid"))
    members = call.world.members
    return Answer(
        {
            "tagname": tag.name,
            "userlist": [{"userid": u, "name": members[u].name} for u in tag.users],
            "partylist": list(tag.parties),
        }
    )


def tag_deltagusers(call: Call) -> Answer:
    body = call.body()
    tag = _tag(call, body.get("tagid"))
    userids = str_list(body, "userlist")
    parties = int_list(body, "partylist") or []
    if not userids and not parties:
        raise WeComAnswer(40058, "userlist and partylist are both empty")
    if len(userids) > MAX_USERS or len(parties) > MAX_PARTIES:
        raise WeComAnswer(40058, f"at most {MAX_USERS} users and {MAX_PARTIES} parties per call")
    if not tag.created_by_app:
        raise WeComAnswer(81011, f"tag {tag.tagid} was not created by this app")
    valid_users = [u for u in dict.fromkeys(userids) if u in tag.users]
    valid_parties = [p for p in dict.fromkeys(parties) if p in tag.parties]
    invalid_users = [u for u in userids if u not in valid_users]
    invalid_parties = [p for p in parties if p not in valid_parties]
    if not valid_users and not valid_parties:
        raise WeComAnswer(40031, exact_errmsg="all list invalid")
    for userid in valid_users:
        del tag.users[userid]
        call.world.members[userid].tags.discard(tag.tagid)
    tag.parties = [p for p in tag.parties if p not in valid_parties]
    payload: dict[str, object] = {}
    if invalid_users:
        payload["invalidlist"] = "|".join(invalid_users)
    if invalid_parties:
        payload["invalidparty"] = invalid_parties
    write = {"tagid": tag.tagid, "removed_users": valid_users, "removed_parties": valid_parties}
    return Answer(payload, errmsg="deleted", write=write)


def tag_addtagusers(call: Call) -> Answer:
    body = call.body()
    tag = _tag(call, body.get("tagid"))
    userids = str_list(body, "userlist")
    parties = int_list(body, "partylist") or []
    if not userids and not parties:
        raise WeComAnswer(40058, "userlist and partylist are both empty")
    if len(userids) > MAX_USERS or len(parties) > MAX_PARTIES:
        raise WeComAnswer(40058, f"at most {MAX_USERS} users and {MAX_PARTIES} parties per call")
    if not tag.created_by_app:
        raise WeComAnswer(81011, f"tag {tag.tagid} was not created by this app")
    world = call.world
    valid_users = [u for u in dict.fromkeys(userids) if world.live_member(u) is not None]
    valid_parties = [p for p in dict.fromkeys(parties) if p in world.departments]
    invalid_users = [u for u in userids if u not in valid_users]
    invalid_parties = [p for p in parties if p not in valid_parties]
    if not valid_users and not valid_parties:
        raise WeComAnswer(40070, exact_errmsg="all list invalid ")
    added_users = [u for u in valid_users if u not in tag.users]
    for userid in added_users:
        tag.users[userid] = None
        world.members[userid].tags.add(tag.tagid)
    added_parties = [p for p in valid_parties if p not in tag.parties]
    tag.parties.extend(added_parties)
    payload: dict[str, object] = {}
    if invalid_users:
        payload["invalidlist"] = "|".join(invalid_users)
    if invalid_parties:
        payload["invalidparty"] = invalid_parties
    write = {"tagid": tag.tagid, "added_users": added_users, "added_parties": added_parties}
    return Answer(payload, write=write if added_users or added_parties else None)


ROUTES = [
    WeComRoute("/cgi-bin/tag/list", "GET", tag_list, TAG_SCOPES),
    WeComRoute("/cgi-bin/tag/get", "GET", tag_get, TAG_SCOPES),
    WeComRoute("/cgi-bin/tag/addtagusers", "POST", tag_addtagusers, TAG_SCOPES),
    WeComRoute("/cgi-bin/tag/deltagusers", "POST", tag_deltagusers, TAG_SCOPES),
]
