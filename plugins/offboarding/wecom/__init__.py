"""The WeCom (企业微信) server API client used by offboarding — no Airflow import anywhere in here.

:class:`WeComClient` is the transport (token cache, retries, rate limiting, typed errors); the API groups
wrap it by area: :class:`Contacts`, :class:`Tags`, :class:`AppChats`, :class:`CustomerContacts`,
:class:`WeDrive`, :class:`AppMessages`; :class:`GroupRobot` posts to a group robot webhook.

Example::

    client = WeComClient("ww...", secret, token_cache=default_token_cache(), label="connection wecom_default")
    Contacts(client).delete_user("lisi")  # "deleted" or "already_gone"
"""

from __future__ import annotations

from typing import Any

from offboarding.wecom.app_chats import AppChats
from offboarding.wecom.app_messages import AppMessages, MessageResult
from offboarding.wecom.client import WeComClient
from offboarding.wecom.contacts import Contacts
from offboarding.wecom.customer_contacts import CustomerContacts
from offboarding.wecom.errors import (
    WeComConfigError,
    WeComCreatorCannotBeDeleted,
    WeComDataError,
    WeComError,
    WeComRateLimited,
    WeComTokenError,
    WeComTransientError,
)
from offboarding.wecom.file_token_cache import FileTokenCache
from offboarding.wecom.group_robot import GroupRobot
from offboarding.wecom.paging import chunked, iter_cursor, iter_start_limit
from offboarding.wecom.ratelimit import RateLimiter
from offboarding.wecom.redact import redact
from offboarding.wecom.results import BatchDeleteResult, ItemFailure, ItemResults
from offboarding.wecom.retry import RetryPolicy
from offboarding.wecom.tags import Tags
from offboarding.wecom.token_cache import (
    MemoryTokenCache,
    TokenCache,
    default_token_cache,
    token_cache_from_url,
)
from offboarding.wecom.wedrive import DownloadTicket, WeDrive


def __getattr__(name: str) -> Any:
    # Redis' client is slow to import; load it only when a Redis cache is asked for.
    if name == "RedisTokenCache":
        from offboarding.wecom.redis_token_cache import RedisTokenCache

        return RedisTokenCache
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AppChats",
    "AppMessages",
    "BatchDeleteResult",
    "Contacts",
    "CustomerContacts",
    "DownloadTicket",
    "FileTokenCache",
    "GroupRobot",
    "ItemFailure",
    "ItemResults",
    "MemoryTokenCache",
    "MessageResult",
    "RateLimiter",
    "RedisTokenCache",
    "RetryPolicy",
    "Tags",
    "TokenCache",
    "WeComClient",
    "WeComConfigError",
    "WeComCreatorCannotBeDeleted",
    "WeComDataError",
    "WeComError",
    "WeComRateLimited",
    "WeComTokenError",
    "WeComTransientError",
    "WeDrive",
    "chunked",
    "default_token_cache",
    "iter_cursor",
    "iter_start_limit",
    "redact",
    "token_cache_from_url",
]
