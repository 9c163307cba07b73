"""Account deregistration (注销账号): the simulated person and reviewer under a time scale."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from offboarding_dev.sandbox.control import SandboxControlError
from offboarding_dev.sandbox.testing import running_sandbox

SCALE = 345600.0  # 4 days of WeCom time per wall second: 15-day cooling-off = 3.75 s


def _t(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def scaled_sandbox() -> Iterator[Any]:
    with running_sandbox(time_scale=SCALE) as sb:
        yield sb


@pytest.fixture
def sb(scaled_sandbox) -> Any:
    scaled_sandbox.control.reset()
    return scaled_sandbox


@pytest.fixture
def wc(sb, caller_for):
    return caller_for(sb)


def _guide(wc, sb, userid: str) -> None:
    body = {
        "touser": userid,
        "msgtype": "text",
        "agentid": sb.agent_id,
        "text": {"content": "请在企业微信中注销账号：我 › 设置 › 账号与安全 › 企业微信安全中心 › 注销账号"},
    }
    assert wc.post("/cgi-bin/message/send", body)["errcode"] == 0


def test_fresh_account_is_active(sb) -> None:
    account = sb.control.account("lisi")
    assert account["status"] == "active" and account["submitted_at"] is None and account["events"] == []
    with pytest.raises(SandboxControlError, match="404"):
        sb.control.account("ghost")


def test_guided_person_submits_after_leaving_and_is_deregistered(sb, wc, wait) -> None:
    _guide(wc, sb, "lisi")
    assert [e["event"] for e in sb.control.account("lisi")["events"]] == ["guide_received"]
    time.sleep(0.05)  # > 1 h of WeCom time: the person would submit now, but still belongs to the corp
    assert sb.control.account("lisi")["status"] == "active"
    assert wc.get("/cgi-bin/user/delete", userid="lisi")["errcode"] == 0
    deleted_at = _t(sb.control.user("lisi")["deleted_at"])
    account = wait(lambda: (a := sb.control.account("lisi"))["status"] == "deregistered" and a, timeout=20)
    submitted = _t(account["submitted_at"])
    assert submitted == pytest.approx(deleted_at, abs=0.01)  # submitted as soon as they had left
    assert _t(account["reviewed_at"]) - submitted == pytest.approx(20 * 3600 / SCALE, abs=0.01)
    assert account["review_outcome"] == "pass"
    assert _t(account["cooling_off_ends_at"]) - submitted == pytest.approx(15 * 86400 / SCALE, abs=0.01)
    assert account["deregistered_at"] == account["cooling_off_ends_at"]
    assert _t(account["review_due_hint"]) > submitted
    assert [e["event"] for e in account["events"]] == [
        "guide_received",
        "submitted",
        "approved",
        "deregistered",
    ]
    assert sb.control.state()["accounts"] == {"deregistered": 1}
    with pytest.raises(SandboxControlError, match="deregistered"):
        sb.control.login("lisi")


def test_review_rejected(sb, wc, wait) -> None:
    sb.control.script_account("wangwu", review="reject", reject_reason="账号存在风险", review_after_hours=2)
    assert wc.get("/cgi-bin/user/delete", userid="wangwu")["errcode"] == 0
    submitted = sb.control.submit_deregistration("wangwu")
    assert submitted["status"] == "under_review"
    account = wait(lambda: (a := sb.control.account("wangwu"))["status"] == "rejected" and a)
    assert account["review_outcome"] == "reject" and account["reject_reason"] == "账号存在风险"
    assert account["cooling_off_ends_at"] is None and account["deregistered_at"] is None


def test_login_during_cooling_off_revokes(sb, wc, wait) -> None:
    sb.control.script_account("zhaoliu", review_after_hours=1)
    assert wc.get("/cgi-bin/user/delete", userid="zhaoliu")["errcode"] == 0
    sb.control.submit_deregistration("zhaoliu")
    wait(lambda: sb.control.account("zhaoliu")["status"] == "cooling_off")
    account = sb.control.login("zhaoliu")
    assert account["status"] == "revoked" and account["revoked_at"]
    assert [e["event"] for e in account["events"]][-2:] == ["login", "revoked"]
    # a revoked account never becomes deregistered, even after the cooling-off would have ended
    time.sleep(max(0.0, _t(account["cooling_off_ends_at"]) - time.time()) + 0.2)
    assert sb.control.account("zhaoliu")["status"] == "revoked"


def test_scripted_login_after_days_revokes(sb, wc, wait) -> None:
    sb.control.script_account("zhengshi", review_after_hours=1, login_during_cooling_off_after_days=3)
    assert wc.get("/cgi-bin/user/delete", userid="zhengshi")["errcode"] == 0
    submitted = _t(sb.control.submit_deregistration("zhengshi")["submitted_at"])
    account = wait(lambda: (a := sb.control.account("zhengshi"))["status"] == "revoked" and a)
    assert _t(account["revoked_at"]) - submitted == pytest.approx(3 * 86400 / SCALE, abs=0.01)


def test_preconditions_refuse_submission(sb, wc) -> None:
    with pytest.raises(SandboxControlError) as creator:
        sb.control.submit_deregistration("zhangsan")
    assert creator.value.status == 409 and "creator" in (creator.value.reason or "")
    assert wc.get("/cgi-bin/user/delete", userid="admin01")["errcode"] == 0
    with pytest.raises(SandboxControlError) as admin:
        sb.control.submit_deregistration("admin01")
    assert "admin" in (admin.value.reason or "")
    with pytest.raises(SandboxControlError) as member:
        sb.control.submit_deregistration("sunqi")
    assert "belongs to an enterprise" in (member.value.reason or "")
    assert sb.control.account("sunqi")["status"] == "active"


def test_guided_creator_is_refused_by_the_app(sb, wc, wait) -> None:
    _guide(wc, sb, "zhangsan")
    account = wait(
        lambda: (a := sb.control.account("zhangsan"))["events"][-1]["event"] == "submission_refused" and a
    )
    assert account["status"] == "active"
    assert "creator" in account["events"][-1]["reason"]


def test_no_auto_submit_when_scripted_off(sb, wc) -> None:
    sb.control.script_account("sunqi", auto_submit=False)
    _guide(wc, sb, "sunqi")
    assert wc.get("/cgi-bin/user/delete", userid="sunqi")["errcode"] == 0
    time.sleep(0.1)
    assert sb.control.account("sunqi")["status"] == "active"


def test_script_is_validated(sb) -> None:
    with pytest.raises(SandboxControlError, match=r"script\.review must be 'pass' or 'reject'"):
        sb.control.script_account("lisi", review="maybe")
    with pytest.raises(SandboxControlError, match="unknown field"):
        sb.control.script_account("lisi", reviewer="bob")
    with pytest.raises(SandboxControlError, match="submit_after_hours"):
        sb.control.script_account("lisi", submit_after_hours=-1)
    script = sb.control.script_account("lisi", review_after_hours=5)["script"]
    assert script["review_after_hours"] == 5 and script["review"] == "pass" and script["auto_submit"] is True
