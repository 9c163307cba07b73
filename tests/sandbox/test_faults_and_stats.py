"""Fault injection and call statistics."""

from __future__ import annotations

import pytest
import requests

from offboarding_dev.sandbox.control import SandboxControlError
from offboarding_dev.sandbox.testing import running_sandbox


def test_errcode_rates_are_roughly_honoured_with_a_seed(sandbox, wecom) -> None:
    wecom.token  # noqa: B018 - fetch before faults start
    sandbox.control.set_faults(errcodes={"-1": 0.2, "45033": 0.1}, seed=42)
    codes = [wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] for _ in range(1000)]
    assert 150 <= codes.count(-1) <= 250
    assert 60 <= codes.count(45033) <= 140
    assert set(codes) == {0, -1, 45033}
    stats = sandbox.control.stats()
    assert stats["injected_faults"] == codes.count(-1) + codes.count(45033)
    assert stats["errors"]["-1"] == codes.count(-1)
    assert stats["calls"]["/cgi-bin/user/get"] == 1000

    # the same seed gives the same sequence
    sandbox.control.set_faults(errcodes={"-1": 0.2, "45033": 0.1}, seed=42)
    again = [wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] for _ in range(1000)]
    assert again == codes


def test_an_injected_fault_never_applies_the_write(sandbox, wecom) -> None:
    wecom.token  # noqa: B018
    sandbox.control.set_faults(errcodes={"6000": 1.0}, paths=["/cgi-bin/user/delete"])
    assert wecom.get("/cgi-bin/user/delete", userid="wangwu")["errcode"] == 6000
    assert sandbox.control.user("wangwu")["deleted"] is False
    assert wecom.get("/cgi-bin/user/get", userid="wangwu")["errcode"] == 0  # other paths untouched
    sandbox.control.clear_faults()
    assert wecom.get("/cgi-bin/user/delete", userid="wangwu")["errcode"] == 0


def test_http_5xx_and_latency(sandbox, wecom) -> None:
    wecom.token  # noqa: B018
    sandbox.control.set_faults(http_5xx=1.0, paths=["/cgi-bin/user/get"])
    response = requests.get(
        f"{sandbox.base_url}/cgi-bin/user/get",
        params={"access_token": wecom.token, "userid": "lisi"},
        timeout=10,
    )
    assert response.status_code in (500, 502, 503)
    assert sandbox.control.stats()["injected_faults"] == 1
    sandbox.control.set_faults(latency_ms=300)
    import time

    start = time.monotonic()
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 0
    assert time.monotonic() - start >= 0.3


def test_apply_then_fail_applies_the_write_but_loses_the_reply(sandbox, wecom) -> None:
    wecom.token  # noqa: B018
    sandbox.control.set_faults(apply_then_fail=1.0)
    answer = wecom.get("/cgi-bin/user/delete", userid="wangwu")
    assert answer["errcode"] == -1
    assert sandbox.control.user("wangwu")["deleted"] is True  # applied
    assert wecom.get("/cgi-bin/user/delete", userid="wangwu")["errcode"] == 60111  # a retry sees it done
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 0  # reads are never "lost"
    stats = sandbox.control.stats()
    assert stats["write_calls"] == {"/cgi-bin/user/delete": 1}
    assert stats["injected_faults"] == 1


def test_faults_never_touch_the_control_api(sandbox) -> None:
    sandbox.control.set_faults(errcodes={"-1": 0.5}, http_5xx=0.5, seed=1)
    for _ in range(50):
        assert sandbox.control.state()["seed"] == "default"
    assert sandbox.control.faults()["http_5xx"] == 0.5


def test_fault_spec_is_validated(sandbox) -> None:
    with pytest.raises(SandboxControlError, match=r"faults\.http_5xx must be a number between 0 and 1"):
        sandbox.control.set_faults(http_5xx=2)
    with pytest.raises(SandboxControlError, match="must not exceed 1"):
        sandbox.control.set_faults(errcodes={"-1": 0.7}, http_5xx=0.5)
    with pytest.raises(SandboxControlError, match="unknown field"):
        sandbox.control.set_faults(nonsense=1)
    with pytest.raises(SandboxControlError, match=r"faults\.paths"):
        sandbox.control.set_faults(paths="user/get")
    assert sandbox.control.faults()["errcodes"] == {}


def test_reset_clears_faults_and_stats(sandbox, wecom) -> None:
    sandbox.control.set_faults(errcodes={"-1": 1.0})
    assert wecom.gettoken()["errcode"] == -1
    sandbox.control.reset()
    assert sandbox.control.faults()["errcodes"] == {}
    assert sandbox.control.stats()["calls"] == {}
    assert wecom.gettoken()["errcode"] == 0


def test_stats_reset_and_write_log(sandbox, wecom) -> None:
    wecom.get("/cgi-bin/user/get", userid="lisi")
    wecom.get("/cgi-bin/user/delete", userid="wangwu")
    stats = sandbox.control.stats()
    assert stats["calls"] == {"/cgi-bin/gettoken": 1, "/cgi-bin/user/get": 1, "/cgi-bin/user/delete": 1}
    assert stats["write_calls"] == {"/cgi-bin/user/delete": 1}
    assert stats["writes"][0]["path"] == "/cgi-bin/user/delete"
    assert stats["writes"][0]["summary"] == {"userid": "wangwu"}
    assert stats["writes"][0]["at"].endswith("Z")
    lean = sandbox.control.stats(include_writes=False)
    assert lean["writes"] == [] and lean["write_calls"] == {"/cgi-bin/user/delete": 1}
    sandbox.control.reset_stats()
    assert sandbox.control.stats() == {
        "calls": {},
        "write_calls": {},
        "writes": [],
        "errors": {},
        "injected_faults": 0,
    }


def test_command_line_fault_defaults() -> None:
    args = ["--fault-rate", "0.3", "--fault-errcodes=-1,6000", "--http-5xx-rate", "0.1"]
    with running_sandbox(extra_args=args) as sb:
        faults = sb.control.faults()
        assert faults["errcodes"] == {"-1": 0.15, "6000": 0.15}
        assert faults["http_5xx"] == 0.1
        sb.control.clear_faults()
        sb.control.reset()  # a reset goes back to the command line's faults
        assert sb.control.faults()["errcodes"] == {"-1": 0.15, "6000": 0.15}


def test_control_client_raises_clearly(sandbox) -> None:
    with pytest.raises(SandboxControlError, match=r"HTTP 404.*no member 'ghost'"):
        sandbox.control.user("ghost")
    with pytest.raises(SandboxControlError, match="unknown seed"):
        sandbox.control.reset(seed="bogus")
    assert sandbox.control.user("lisi")["userid"] == "lisi"  # a refused reset changed nothing
