"""``Tags`` (标签): list tags, read one, take members out of a tag and put them back.

An app may only change tags it created (81011, a configuration error). ``tag/deltagusers`` answers
errcode 0 and lists the refused userids in ``invalidlist`` ("a|b") and parties in ``invalidparty``; when
all are invalid it answers 40031. Both become per-item failures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from offboarding.wecom.client import WeComClient
from offboarding.wecom.errors import WeComDataError
from offboarding.wecom.paging import chunked, unique_strings
from offboarding.wecom.results import ItemFailure, ItemResults

DELTAGUSERS_MAX = 1000
ADDTAGUSERS_MAX = 1000
ADD_ALL_INVALID_ERRCODE = 40070
ALL_INVALID_ERRCODE = 40031
INVALID_ITEM_ERRCODE = 40031


class Tags:
    """Tag calls of one client."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    def list_tags(self) -> list[dict[str, Any]]:
        """Every tag visible to the app: ``[{"tagid": 1, "tagname": "..."}]``.

        WeCom: ``tag/list``, https://developer.work.weixin.qq.com/document/path/90216
        """
        return list(self.client.get("tag/list").get("taglist") or [])

    def get_tag(self, tagid: int) -> dict[str, Any]:
        """The tag's name and members: ``{"tagname", "userlist": [{"userid", "name"}], "partylist"}``.

        WeCom: ``tag/get``, https://developer.work.weixin.qq.com/document/path/90213
        """
        body = self.client.get("tag/get", {"tagid": _tagid(tagid)}, item=str(tagid))
        return {k: v for k, v in body.items() if k not in ("errcode", "errmsg")}

    def remove_members(self, tagid: int, userids: Iterable[str]) -> ItemResults:
        """Take members out of a tag (≤1000 per call); refused userids come back as failures.

        WeCom: ``tag/deltagusers``, https://developer.work.weixin.qq.com/document/path/90215
        """
        tag = _tagid(tagid)
        ids = unique_strings(userids, "userids")
        results = ItemResults()
        for chunk in chunked(ids, DELTAGUSERS_MAX):
            results.extend(self._remove_chunk(tag, chunk))
        return results

    def _remove_chunk(self, tagid: int, chunk: list[str]) -> ItemResults:
        try:
            body = self.client.post("tag/deltagusers", {"tagid": tagid, "userlist": chunk})
        except WeComDataError as err:
            if err.errcode != ALL_INVALID_ERRCODE:
                raise
            return ItemResults(failed=[ItemFailure(u, err.errcode, err.errmsg) for u in chunk])
        invalid = {u for u in str(body.get("invalidlist") or "").split("|") if u}
        results = ItemResults(succeeded=[u for u in chunk if u not in invalid])
        results.failed.extend(
            ItemFailure(u, INVALID_ITEM_ERRCODE, "invalid userid or not in this tag")
            for u in chunk
            if u in invalid
        )
        results.failed.extend(
            ItemFailure(f"party:{p}", INVALID_ITEM_ERRCODE, "invalid department")
            for p in body.get("invalidparty") or []
        )
        return results

    def add_members(self, tagid: int, userids: Iterable[str]) -> ItemResults:
        """Put members into a tag (≤1000 per call); userids WeCom refuses come back as failures.

        Answers errcode 0 with the refused ones in ``invalidlist`` ("a|b"); 40070 when all are invalid.

        WeCom: ``tag/addtagusers``, https://developer.work.weixin.qq.com/document/path/90214
        """
        tag = _tagid(tagid)
        ids = unique_strings(userids, "userids")
        results = ItemResults()
        for chunk in chunked(ids, ADDTAGUSERS_MAX):
            try:
                body = self.client.post("tag/addtagusers", {"tagid": tag, "userlist": chunk})
            except WeComDataError as err:
                if err.errcode != ADD_ALL_INVALID_ERRCODE:
                    raise
                results.failed.extend(ItemFailure(u, err.errcode, err.errmsg) for u in chunk)
                continue
            invalid = {u for u in str(body.get("invalidlist") or "").split("|") if u}
            results.succeeded.extend(u for u in chunk if u not in invalid)
            results.failed.extend(
                ItemFailure(u, ADD_ALL_INVALID_ERRCODE, "invalid userid") for u in chunk if u in invalid
            )
        return results


def _tagid(tagid: Any) -> int:
    if isinstance(tagid, bool) or not isinstance(tagid, int) or tagid < 0:
        raise ValueError(f"tagid must be a non-negative integer, got {tagid!r}")
    return tagid
