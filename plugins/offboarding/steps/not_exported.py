"""What a backup cannot export by API, as the manifest records it (with WeCom's reason or errcode)."""

from __future__ import annotations

from offboarding.backup.manifest import NotExported

STANDING_NOT_EXPORTED: tuple[NotExported, ...] = (
    NotExported(
        "chat history (1:1 and group chats)",
        "chats can only be exported through the message archive (会话内容存档), which must have been enabled "
        "and pulled continuously before the member left; WeCom has no API for past chats",
        "会话内容存档 (301052/301053)",
    ),
    NotExported(
        "calendars and schedules the member created",
        "apps may only read calendars and schedules they created themselves",
        "90466/90479",
    ),
    NotExported(
        "internal group chats created in the WeCom client",
        "no API reads or changes group chats people created in the client (only app-created chats); "
        "members and owner must be changed by hand",
        "86008",
    ),
    NotExported(
        "Tencent Exmail mailbox (腾讯企业邮)",
        "if the corp is bound to Exmail, deleting the member deletes the mailbox too: back it up in the "
        "Exmail admin console before the deletion step",
        "user/delete",
    ),
)
"""What no backup of a member can export by API, recorded in every manifest."""


def not_exported(item: str, reason: str, reference: str = "") -> dict[str, str]:
    """A not-exported record in the JSON form the manifest reads back (see ``NotExported``)."""
    return NotExported(item, reason, reference).to_dict()
