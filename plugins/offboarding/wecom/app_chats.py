"""``AppChats`` (应用群聊): read an app-created group chat, remove a member from it or add one back.

Only chats created by the calling app can be read or changed (86008 otherwise); chats created by
people in the WeCom client have no API at all. Removing the owner needs a new owner.
"""

from __future__ import annotations

from typing import Any

from offboarding.wecom.client import WeComClient
from offboarding.wecom.paging import require_id


class AppChats:
    """App group chat calls of one client."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    def get(self, chatid: str) -> dict[str, Any]:
        """The chat: ``{"chatid", "name", "owner", "userlist": [...], "chat_type"}``.

        WeCom: ``appchat/get``, https://developer.work.weixin.qq.com/document/path/98914
        """
        require_id(chatid, "chatid")
        return dict(self.client.get("appchat/get", {"chatid": chatid}, item=chatid).get("chat_info") or {})

    def remove_member(self, chatid: str, userid: str, new_owner: str | None = None) -> None:
        """Remove ``userid`` from the chat; pass ``new_owner`` when ``userid`` owns it.

        WeCom: ``appchat/update``, https://developer.work.weixin.qq.com/document/path/98913
        """
        require_id(chatid, "chatid")
        require_id(userid, "userid")
        body: dict[str, Any] = {"chatid": chatid, "del_user_list": [userid]}
        if new_owner is not None:
            require_id(new_owner, "new_owner")
            if new_owner == userid:
                raise ValueError("new_owner must be someone other than the member being removed")
            body["owner"] = new_owner
        self.client.post("appchat/update", body, item=chatid)

    def add_member(self, chatid: str, userid: str, *, make_owner: bool = False) -> None:
        """Add ``userid`` to the chat (again); ``make_owner`` also makes them its owner.

        WeCom: ``appchat/update``, https://developer.work.weixin.qq.com/document/path/98913
        """
        require_id(chatid, "chatid")
        require_id(userid, "userid")
        body: dict[str, Any] = {"chatid": chatid, "add_user_list": [userid]}
        if make_owner:
            body["owner"] = userid
        self.client.post("appchat/update", body, item=chatid)
