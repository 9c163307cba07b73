"""GET /cgi-bin/gettoken: an access token for a corp secret."""

from __future__ import annotations

from offboarding_dev.sandbox.endpoints.base import Answer, Call, WeComRoute
from offboarding_dev.sandbox.errors import WeComAnswer


def gettoken(call: Call) -> Answer:
    corpid = call.query("corpid")
    secret = call.query("corpsecret")
    config = call.app.config
    if not corpid:
        raise WeComAnswer(41002)
    if not secret:
        raise WeComAnswer(41004)
    if corpid != config.corpid:
        raise WeComAnswer(40013)
    scopes = config.scopes_for_secret(secret)
    if not scopes:
        raise WeComAnswer(40001)
    token, expires_in = call.app.tokens.issue(secret, scopes, call.now)
    return Answer({"access_token": token, "expires_in": expires_in})


ROUTES = [WeComRoute("/cgi-bin/gettoken", "GET", gettoken, scopes=None)]
