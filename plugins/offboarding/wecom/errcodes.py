"""What each WeCom errcode means for this client: which kind of error it is and what to do about it.

Sources: the official global error code page (全局错误码) as summarised in
``/work/shared/reference/wecom-api.md`` §1.4 and §2.
"""

from __future__ import annotations

# The deployment is misconfigured (secret, corp, IP allow-list, visible range, app rights): fail at once.
CONFIG_ERRCODES = frozenset(
    {40001, 40013, 40091, 48002, 60011, 60020, 60021, 41002, 41004, 50002, 50003, 301002, 81011, 84074}
)
# WeCom is busy or a concurrent change got in the way: retry with backoff.
TRANSIENT_ERRCODES = frozenset({-1, 6000, 45033})
# "System busy": WeCom asks for at most three retries.
BUSY_ERRCODE = -1
# The access token was rejected or has expired: fetch a new one once and replay once.
TOKEN_ERRCODES = frozenset({40014, 42001})
# Frequency limit hit: WeCom blocks the API for a while (a minute for minute-level limits).
RATE_LIMITED_ERRCODE = 45009
# The corp creator cannot be deleted by API.
CREATOR_ERRCODE = 301005
# The member does not exist (on delete: already gone).
NO_SUCH_USER_ERRCODE = 60111

# What the person running the deployment should do. ``{corp}`` and ``{where}`` are filled in by the client.
HINTS: dict[int, str] = {
    -1: "WeCom is busy; the call was retried and may be run again later",
    6000: "a concurrent change to the same data conflicted; run the step again",
    40001: "WeCom rejected the corp secret: check the secret of {where} for corp {corp}",
    40003: "the userid is not valid in WeCom: check the spelling of the member's userid",
    40013: "WeCom rejected the CorpID {corp}: check the CorpID of {where}",
    40014: "WeCom rejected the access token even after a refresh: check the base URL of {where}",
    40031: "some userids are not in WeCom's contacts",
    40032: "too many userids in one call (a client bug: batches must be split)",
    40091: "the secret belongs to another corp than {corp}: check the secret of {where}",
    40035: "WeCom refused a parameter of the call",
    40058: "WeCom refused a parameter of the call",
    40096: "the external contact id is not valid",
    40097: "the member has not left yet: delete the member first or use the on-job handover",
    40098: "the takeover member has not completed real-name verification: choose another takeover member",
    40099: "the takeover member has reached the customer limit: choose another takeover member",
    40128: "the customer was handed over too often (2 times per 90 days): hand over manually later",
    40130: "the takeover member is the same as the handover member",
    40131: "the handover member is not this customer's follower",
    41001: "the access token is missing from the call (a client bug)",
    41002: "the CorpID is missing: set the CorpID (login) of {where}",
    41004: "the corp secret is missing: set the secret of {where}",
    42001: "the access token expired even after a refresh: check the clock and the base URL of {where}",
    45009: "WeCom's frequency limit was hit; the API is blocked for a while (60 s for minute limits)",
    45033: "too many concurrent calls; lower the concurrency of the deployment",
    48002: (
        "the secret of {where} has no right to call this API: member writes need the contacts-sync "
        "(通讯录同步) secret, customer handover the 客户联系 secret"
    ),
    50002: "the member is outside the app's visible range: widen the visible range of the app used by {where}",
    50003: "the app is disabled in the WeCom admin console: enable it or use another app's secret for {where}",
    60011: (
        "the secret of {where} may not act on this member/department/tag: widen the app's visible range "
        "or use the contacts-sync secret"
    ),
    60020: (
        "this machine's IP is not in the app's trusted IPs (企业可信IP): add the workers' egress IP "
        "in the WeCom admin console for {where}"
    ),
    60021: "the userid is outside the app's visible range: widen the visible range of the app of {where}",
    60111: "the userid does not exist in WeCom (already deleted or misspelled)",
    60123: "the department id does not exist",
    60132: "department, order and is_leader_in_dept must have the same length",
    81011: "the app may only change tags it created: use the app that created the tag (or contacts-sync) for {where}",
    84061: "there is no external-contact relationship between this member and customer",
    84074: "the secret of {where} has no customer-contact rights: use the 客户联系 secret or add the app to 客户联系",
    86003: "the app chat does not exist",
    86008: "the app chat was not created by this app; remove the member manually in the WeCom client",
    90500: "the group owner has not left yet: use the on-job group handover",
    90502: "the group owner has already left: use the resigned group handover",
    90504: "the group owner is already the new owner",
    93000: "the robot webhook is invalid or the robot was removed from the group: create a new robot key",
    93008: "the robot is not in the group any more: add it again or create a new robot key",
    93004: "the robot is disabled: enable it in the group or create a new robot key",
    301002: "the secret of {where} may not act on the given app: check the AgentId and secret",
    301005: (
        "the member is the creator of the WeCom enterprise and cannot be deleted by API: transfer the "
        "creator role in the WeCom admin console (我的企业 › 权限管理) first, then run this step again"
    ),
    640002: "the WeDrive file does not exist",
    640004: "the app has no access to this WeDrive file",
    640008: "the app has no rights on this WeDrive space",
    640017: "the WeDrive API is not enabled in the WeDrive admin settings",
    640019: "the monthly WeDrive API quota is used up (1,000 calls on free corps)",
    640029: "only ordinary files can be downloaded (not folders or online documents)",
}


def hint_for(errcode: int | None, *, corp: str, where: str) -> str:
    """The actionable hint for ``errcode`` with the corp and the configuration place filled in."""
    template = HINTS.get(errcode) if errcode is not None else None
    if template is None:
        return "WeCom refused the call"
    return template.format(corp=corp or "?", where=where or "the configured WeCom secret")
