"""CSRF rules of the case actions (pure parts): same origin for cookie POSTs, the per-form token."""

from __future__ import annotations

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from offboarding.cases_page.actions_csrf import check_cookie_request, check_form_request, form_token
from offboarding.cases_page.actions_render import form_body


def request(headers: dict[str, str], cookie: str | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if cookie is not None:
        raw.append((b"cookie", f"_token={cookie}".encode()))
    return Request({"type": "http", "method": "POST", "path": "/", "headers": [(b"host", b"af:8080"), *raw]})


def test_a_cookie_post_must_come_from_the_same_origin() -> None:
    check_cookie_request(request({"Origin": "http://af:8080"}))
    check_cookie_request(request({"Referer": "http://af:8080/offboarding/cases"}))
    check_cookie_request(request({"Authorization": "Bearer x"}))  # not sent by a browser on its own
    for headers in ({"Origin": "http://evil:8080"}, {"Origin": "null"}, {}):
        with pytest.raises(HTTPException) as refused:
            check_cookie_request(request(headers))
        assert refused.value.status_code == 403


def test_a_page_form_needs_its_logins_token_for_this_case_and_action() -> None:
    good = form_token("jwt-a", "offboard-lisi", "hold")
    check_form_request(request({"Origin": "http://af:8080"}, "jwt-a"), good, "offboard-lisi", "hold")
    for cookie, case_id, action in (
        ("jwt-b", "offboard-lisi", "hold"),
        ("jwt-a", "offboard-x", "hold"),
        ("jwt-a", "offboard-lisi", "rescind"),
    ):
        with pytest.raises(HTTPException) as refused:
            check_form_request(request({"Origin": "http://af:8080"}, cookie), good, case_id, action)
        assert refused.value.status_code == 403


def test_form_fields_become_the_rest_body() -> None:
    assert form_body("hold", {"reason": [" audit "]}) == {"reason": "audit"}
    assert form_body("reschedule", {"last_working_day": ["2027-01-10"], "reason": [""]}) == {
        "last_working_day": "2027-01-10"
    }
    assert form_body(
        "correct", {"approvers": ["a, b;c"], "hr_owner": [""], "notify": ['{"userids": []}']}
    ) == {
        "approvers": ["a", "b", "c"],
        "notify": {"userids": []},
    }
    with pytest.raises(ValueError, match="notify"):
        form_body("correct", {"notify": ["{nope"]})
