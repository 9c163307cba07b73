"""The WeCom (企业微信) server API client used by offboarding — no Airflow import anywhere in here.

:class:`WeComClient` is the transport (token cache, retries, rate limiting, typed errors); the API groups
wrap it by area: :class:`Contacts`, :class:`Tags`, :class:`AppChats`, :class:`CustomerContacts`,
:class:`WeDrive`, :class:`AppMessages`; :class:`GroupRobot` posts to a group robot webhook, and
:class:`~offboarding.wecom.robot_queue.RobotQueue` keeps every process posting through one robot within
its 20 messages a minute (:mod:`offboarding.wecom.content` fits a message to WeCom's byte limits). Each
method's docstring links the official page of the endpoint it calls.

Example::

    client = WeComClient("ww...", secret, token_cache=default_token_cache(), label="connection wecom_default")
    Contacts(client).delete_user("lisi")  # "deleted" or "already_gone"
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Imported now: ``redact`` is also a submodule's name, which would shadow a lazily loaded function.
from offboarding.wecom.redact import redact

# Names are loaded on first use: the DAG files import error classes and constants from this package
# while they are parsed, and the HTTP client (``requests``) or Redis' client is slow to import.
_EXPORTS = {
    "AppChats": "offboarding.wecom.app_chats",
    "AppMessages": "offboarding.wecom.app_messages",
    "MessageResult": "offboarding.wecom.app_messages",
    "WeComClient": "offboarding.wecom.client",
    "Contacts": "offboarding.wecom.contacts",
    "CustomerContacts": "offboarding.wecom.customer_contacts",
    "WeComConfigError": "offboarding.wecom.errors",
    "WeComCreatorCannotBeDeleted": "offboarding.wecom.errors",
    "WeComDataError": "offboarding.wecom.errors",
    "WeComError": "offboarding.wecom.errors",
    "WeComRateLimited": "offboarding.wecom.errors",
    "WeComTokenError": "offboarding.wecom.errors",
    "WeComTransientError": "offboarding.wecom.errors",
    "FileTokenCache": "offboarding.wecom.file_token_cache",
    "GroupRobot": "offboarding.wecom.group_robot",
    "chunked": "offboarding.wecom.paging",
    "iter_cursor": "offboarding.wecom.paging",
    "iter_start_limit": "offboarding.wecom.paging",
    "RateLimiter": "offboarding.wecom.ratelimit",
    "RedisRateLimiter": "offboarding.wecom.ratelimit",
    "default_rate_limiter": "offboarding.wecom.ratelimit",
    "RedisTokenCache": "offboarding.wecom.redis_token_cache",
    "BatchDeleteResult": "offboarding.wecom.results",
    "ItemFailure": "offboarding.wecom.results",
    "ItemResults": "offboarding.wecom.results",
    "RetryPolicy": "offboarding.wecom.retry",
    "Tags": "offboarding.wecom.tags",
    "MemoryTokenCache": "offboarding.wecom.token_cache",
    "TokenCache": "offboarding.wecom.token_cache",
    "default_token_cache": "offboarding.wecom.token_cache",
    "token_cache_from_url": "offboarding.wecom.token_cache",
    "DownloadTicket": "offboarding.wecom.wedrive",
    "WeDrive": "offboarding.wecom.wedrive",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module when it is first read (PEP 562); later reads find it here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


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
    "RedisRateLimiter",
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
    "default_rate_limiter",
    "default_token_cache",
    "iter_cursor",
    "iter_start_limit",
    "redact",
    "token_cache_from_url",
]
