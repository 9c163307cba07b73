"""``CustomerContacts`` (客户联系): a member's customers and customer groups, and handing them over.

Needs the 客户联系 secret (or an app added to 客户联系). Handover comes in two variants: on-job (the
member still exists; ``resigned=False``) and resigned (after the member was deleted; ``resigned=True``).
A per-customer errcode 0 only means "handover started": WeCom completes it after 24 h, which
:meth:`CustomerContacts.iter_transfer_results` reports (status 1 done, 2 waiting, 3 refused, 4 limit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from offboarding.wecom.errcodes import hint_for
from offboarding.wecom.errors import WeComDataError
from offboarding.wecom.paging import chunked, iter_cursor, require_id, unique_strings
from offboarding.wecom.results import ItemFailure, ItemResults

if TYPE_CHECKING:  # the transport imports requests: not needed to import a constant
    from offboarding.wecom.client import WeComClient

TRANSFER_MAX = 100
GROUP_TRANSFER_MAX = 100
DETAILS_PAGE_MAX = 100
GROUP_LIST_PAGE_MAX = 1000
UNASSIGNED_PAGE_MAX = 1000
TRANSFER_MESSAGE_MAX_CHARS = 200
NO_RELATIONSHIP_ERRCODE = 84061
# Per-customer answers meaning WeCom already works on this customer's handover.
CUSTOMER_IN_PROGRESS = frozenset({40129, 40100})
# Per-group answers: handover in progress / already done.
GROUP_IN_PROGRESS = frozenset({90507})
GROUP_DONE = frozenset({90508})
# transfer_result status values.
TRANSFER_DONE, TRANSFER_WAITING, TRANSFER_REFUSED, TRANSFER_LIMIT = 1, 2, 3, 4


class CustomerContacts:
    """Customer-contact calls of one client."""

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    # -- reading ----------------------------------------------------------------------------------
    def list_customers(self, userid: str) -> list[str]:
        """The external_userids the member follows ([] when they have none, 84061).

        WeCom: ``externalcontact/list``, https://developer.work.weixin.qq.com/document/path/92113
        """
        require_id(userid, "userid")
        try:
            body = self.client.get("externalcontact/list", {"userid": userid}, item=userid)
        except WeComDataError as err:
            if err.errcode == NO_RELATIONSHIP_ERRCODE:
                return []
            raise
        return list(body.get("external_userid") or [])

    def iter_customer_details(
        self, userid: str, page_size: int = DETAILS_PAGE_MAX
    ) -> Iterator[dict[str, Any]]:
        """Each customer of the member with details (``batch/get_by_user``, cursor paging).

        WeCom: ``externalcontact/batch/get_by_user``, https://developer.work.weixin.qq.com/document/path/92994
        """
        require_id(userid, "userid")
        _check_page(page_size, DETAILS_PAGE_MAX)
        return iter_cursor(
            lambda cursor: self.client.post(
                "externalcontact/batch/get_by_user",
                {"userid_list": [userid], "cursor": cursor, "limit": page_size},
                item=userid,
            ),
            "external_contact_list",
            path="/cgi-bin/externalcontact/batch/get_by_user",
        )

    def iter_group_chats(
        self, owner: str | None = None, status_filter: int = 0, page_size: int = GROUP_LIST_PAGE_MAX
    ) -> Iterator[dict[str, Any]]:
        """Customer groups ``{"chat_id", "status"}``; status_filter 0 all, 1 awaiting, 2 in progress, 3 done.

        WeCom: ``externalcontact/groupchat/list``, https://developer.work.weixin.qq.com/document/path/92120
        """
        if status_filter not in (0, 1, 2, 3):
            raise ValueError(f"status_filter must be 0, 1, 2 or 3, got {status_filter!r}")
        _check_page(page_size, GROUP_LIST_PAGE_MAX)
        body: dict[str, Any] = {"status_filter": status_filter, "limit": page_size}
        if owner is not None:
            body["owner_filter"] = {"userid_list": [require_id(owner, "owner")]}
        return iter_cursor(
            lambda cursor: self.client.post(
                "externalcontact/groupchat/list", {**body, "cursor": cursor}, item=owner
            ),
            "group_chat_list",
            path="/cgi-bin/externalcontact/groupchat/list",
        )

    def get_group_chat(self, chat_id: str) -> dict[str, Any]:
        """The group: ``{"chat_id", "name", "owner", "member_list": [...], ...}``.

        WeCom: ``externalcontact/groupchat/get``, https://developer.work.weixin.qq.com/document/path/92122
        """
        require_id(chat_id, "chat_id")
        body = self.client.post("externalcontact/groupchat/get", {"chat_id": chat_id}, item=chat_id)
        return dict(body.get("group_chat") or {})

    def iter_unassigned(self, page_size: int = UNASSIGNED_PAGE_MAX) -> Iterator[dict[str, Any]]:
        """Customers of deleted members awaiting a new follower: ``{"handover_userid", "external_userid", ...}``.

        WeCom: ``externalcontact/get_unassigned_list``, https://developer.work.weixin.qq.com/document/path/92124
        """
        _check_page(page_size, UNASSIGNED_PAGE_MAX)
        return iter_cursor(
            lambda cursor: self.client.post(
                "externalcontact/get_unassigned_list", {"cursor": cursor, "page_size": page_size}
            ),
            "info",
            path="/cgi-bin/externalcontact/get_unassigned_list",
        )

    # -- handing over -----------------------------------------------------------------------------
    def transfer_customers(
        self,
        handover: str,
        takeover: str,
        external_userids: Iterable[str],
        message: str | None = None,
        *,
        resigned: bool,
    ) -> ItemResults:
        """Hand customers from ``handover`` to ``takeover`` (≤100 per call); per-customer outcome.

        ``succeeded`` means WeCom started the handover (done after 24 h); ``in_progress`` means it was
        already under way (40129/40100). ``message`` (on-job only) is shown to the customers.

        WeCom:

        * ``externalcontact/transfer_customer``: https://developer.work.weixin.qq.com/document/path/92125
        * ``externalcontact/resigned/transfer_customer``: https://developer.work.weixin.qq.com/document/path/94081
        """
        require_id(handover, "handover")
        require_id(takeover, "takeover")
        if handover == takeover:
            raise ValueError("takeover must be a different member than handover")
        ids = unique_strings(external_userids, "external_userids")
        if message is not None:
            if resigned:
                raise ValueError("message is only sent with an on-job handover (resigned=False)")
            if not message.strip() or len(message) > TRANSFER_MESSAGE_MAX_CHARS:
                raise ValueError(
                    f"message must be 1–{TRANSFER_MESSAGE_MAX_CHARS} characters, got {len(message)}"
                )
        path = (
            "externalcontact/resigned/transfer_customer" if resigned else "externalcontact/transfer_customer"
        )
        results = ItemResults()
        for chunk in chunked(ids, TRANSFER_MAX):
            body: dict[str, Any] = {
                "handover_userid": handover,
                "takeover_userid": takeover,
                "external_userid": chunk,
            }
            if message is not None:
                body["transfer_success_msg"] = message
            answer = self.client.post(path, body, item=handover)
            results.extend(_customer_outcomes(chunk, answer.get("customer") or [], self._describe))
        return results

    def iter_transfer_results(
        self, handover: str, takeover: str, *, resigned: bool
    ) -> Iterator[dict[str, Any]]:
        """Handover status per customer: ``{"external_userid", "status" (1–4), "takeover_time"}``.

        WeCom:

        * ``externalcontact/transfer_result``: https://developer.work.weixin.qq.com/document/path/94088
        * ``externalcontact/resigned/transfer_result``: https://developer.work.weixin.qq.com/document/path/94082
        """
        require_id(handover, "handover")
        require_id(takeover, "takeover")
        path = "externalcontact/resigned/transfer_result" if resigned else "externalcontact/transfer_result"
        return iter_cursor(
            lambda cursor: self.client.post(
                path,
                {"handover_userid": handover, "takeover_userid": takeover, "cursor": cursor},
                item=handover,
            ),
            "customer",
            path=f"/cgi-bin/{path}",
        )

    def transfer_group_chats(self, chat_ids: Iterable[str], new_owner: str, *, resigned: bool) -> ItemResults:
        """Give customer groups a new owner (≤100 per call); ``failed_chat_list`` becomes failures.

        90507 (handover under way) counts as in progress, 90508 (already handed over) as succeeded.

        WeCom:

        * ``externalcontact/groupchat/onjob_transfer``: https://developer.work.weixin.qq.com/document/path/95703
        * ``externalcontact/groupchat/transfer``: https://developer.work.weixin.qq.com/document/path/92127
        """
        require_id(new_owner, "new_owner")
        ids = unique_strings(chat_ids, "chat_ids")
        path = (
            "externalcontact/groupchat/transfer" if resigned else "externalcontact/groupchat/onjob_transfer"
        )
        results = ItemResults()
        for chunk in chunked(ids, GROUP_TRANSFER_MAX):
            answer = self.client.post(path, {"chat_id_list": chunk, "new_owner": new_owner}, item=new_owner)
            results.extend(_group_outcomes(chunk, answer.get("failed_chat_list") or [], self._describe))
        return results

    def _describe(self, errcode: int) -> str:
        return hint_for(errcode, corp=self.client.corpid, where=self.client.where)


def _customer_outcomes(
    chunk: list[str], answers: list[dict[str, Any]], describe: Callable[[int], str]
) -> ItemResults:
    by_id = {str(a.get("external_userid")): a for a in answers}
    results = ItemResults()
    for external_userid in chunk:
        answer = by_id.get(external_userid)
        if answer is None:
            results.failed.append(
                ItemFailure(external_userid, None, "WeCom did not answer for this customer")
            )
            continue
        errcode = int(answer.get("errcode", 0))
        if errcode == 0:
            results.succeeded.append(external_userid)
        elif errcode in CUSTOMER_IN_PROGRESS:
            results.in_progress.append(external_userid)
        else:
            errmsg = str(answer.get("errmsg") or describe(errcode))
            results.failed.append(ItemFailure(external_userid, errcode, errmsg))
    return results


def _group_outcomes(
    chunk: list[str], failed: list[dict[str, Any]], describe: Callable[[int], str]
) -> ItemResults:
    by_id = {str(f.get("chat_id")): f for f in failed}
    results = ItemResults()
    for chat_id in chunk:
        answer = by_id.get(chat_id)
        errcode = int(answer.get("errcode", 0)) if answer is not None else 0
        if errcode == 0 or errcode in GROUP_DONE:
            results.succeeded.append(chat_id)
        elif errcode in GROUP_IN_PROGRESS:
            results.in_progress.append(chat_id)
        else:
            assert answer is not None
            results.failed.append(
                ItemFailure(chat_id, errcode, str(answer.get("errmsg") or describe(errcode)))
            )
    return results


def _check_page(page_size: int, maximum: int) -> None:
    if not isinstance(page_size, int) or not 1 <= page_size <= maximum:
        raise ValueError(f"page_size must be between 1 and {maximum}, got {page_size!r}")
