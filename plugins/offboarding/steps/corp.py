"""What a step needs of one WeCom corp, and reading a member.

:class:`WeComCorp` is the shape of :class:`offboarding.hooks.wecom.WeComHook` the steps use: the API
groups of the WeCom client and the connection's offboarding settings. The steps take it as a plain
argument, so a person operator and a company batch (and a test, with the sandbox) pass the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from offboarding.wecom.errors import WeComDataError, WeComError

if TYPE_CHECKING:
    from offboarding.wecom import AppChats, Contacts, CustomerContacts, Tags, WeComClient

MEMBER_GONE_ERRCODES = frozenset({60111, 40003})
"""``user/get`` answers meaning the member is not in the contacts (any more): already deleted."""


class WeComCorp(Protocol):
    """One WeCom corp as the steps use it (``WeComHook`` is one)."""

    @property
    def contacts(self) -> Contacts: ...

    @property
    def customer_contacts(self) -> CustomerContacts: ...

    @property
    def tags(self) -> Tags: ...

    @property
    def app_chats(self) -> AppChats: ...

    @property
    def app_chat_ids(self) -> list[str]: ...

    @property
    def leavers_department_id(self) -> int | None: ...

    @property
    def extras(self) -> dict[str, Any]: ...

    def client(self, kind: str = "app") -> WeComClient: ...


def is_member_gone(err: WeComError) -> bool:
    """True when WeCom says the member does not exist (deleted before this step ran)."""
    return isinstance(err, WeComDataError) and err.errcode in MEMBER_GONE_ERRCODES


def read_member(corp: WeComCorp, userid: str) -> dict[str, Any] | None:
    """``user/get`` of the member, or None when WeCom no longer knows them (60111/40003)."""
    try:
        return corp.contacts.get_user(userid)
    except WeComDataError as err:
        if is_member_gone(err):
            return None
        raise
