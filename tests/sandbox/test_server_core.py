"""The server core: start line, --help, gettoken, token checks and scopes, envelopes, limits, shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import requests

from offboarding_dev.sandbox.testing import running_sandbox


def test_help_documents_every_default() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "offboarding_dev.sandbox", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    out = " ".join(out.split())
    for flag, default in [
        ("--host", "127.0.0.1"),
        ("--port", "8900"),
        ("--corpid", "wwsandbox00000001"),
        ("--secret", "sandbox-secret"),
        ("--seed", "default"),
        ("--time-scale", "1)"),
        ("--agent-id", "1000002"),
        ("--token-ttl", "7200"),
        ("--webhook-key", "sandbox-robot-key"),
        ("--rate-limit-per-minute", "10000"),
        ("--fault-errcodes", "-1,6000,45033"),
    ]:
        assert flag in out
        assert f"(default: {default}" in out or f"key '{default}'" in out, f"default of {flag} not documented"
    for flag in (
        "--contact-secret",
        "--customer-secret",
        "--app-secret",
        "--fault-rate",
        "--http-5xx-rate",
        "--latency-ms",
    ):
        assert flag in out


def test_start_line_names_the_address_but_never_the_secret() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "offboarding_dev.sandbox",
            "--port",
            "0",
            "--secret",
            "top-secret-value",
            "--seed",
            "default",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("WeCom sandbox listening on http://127.0.0.1:")
        assert "(corp wwsandbox00000001, seed default, time-scale 1)" in line
        assert "top-secret-value" not in line
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        assert port > 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0  # stops cleanly on SIGTERM
    finally:
        if process.poll() is None:
            process.kill()


def test_stops_cleanly_on_sigint() -> None:
    with running_sandbox() as sb:
        sb.process.send_signal(signal.SIGINT)
        assert sb.process.wait(timeout=10) == 0


def test_bad_seed_is_refused_at_start() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "offboarding_dev.sandbox", "--port", "0", "--seed", "nonsense"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown seed 'nonsense'" in result.stderr


def test_gettoken_success_and_errors(wecom) -> None:
    answer = wecom.gettoken()
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    assert answer["expires_in"] == 7200
    assert 0 < len(answer["access_token"]) <= 512
    assert wecom.gettoken()["access_token"] == answer["access_token"]  # same token while valid
    assert wecom.gettoken(corpid="wwother")["errcode"] == 40013
    assert wecom.gettoken(secret="wrong")["errcode"] == 40001
    assert wecom.gettoken(corpid="")["errcode"] == 41002
    assert wecom.gettoken(secret="")["errcode"] == 41004


def test_token_missing_invalid(wecom) -> None:
    assert wecom.get("/cgi-bin/user/get", userid="lisi", access_token="")["errcode"] == 41001
    assert wecom.get("/cgi-bin/user/get", userid="lisi", access_token="not-a-token")["errcode"] == 40014
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 0


def test_reset_invalidates_tokens(sandbox, wecom) -> None:
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 0
    sandbox.control.reset()
    assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 40014


def test_expired_token_answers_42001_and_a_new_one_works(caller_for) -> None:
    with running_sandbox(extra_args=["--token-ttl", "1"]) as sb:
        wecom = caller_for(sb)
        assert wecom.gettoken()["expires_in"] == 1
        assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 0
        time.sleep(1.2)
        assert wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 42001
        fresh = wecom.gettoken()
        assert fresh["access_token"] != wecom.token
        assert (
            wecom.get("/cgi-bin/user/get", userid="lisi", access_token=fresh["access_token"])["errcode"] == 0
        )


def test_token_scopes_per_secret(caller_for) -> None:
    args = ["--contact-secret", "contact-s", "--customer-secret", "customer-s", "--app-secret", "app-s"]
    with running_sandbox(extra_args=args) as sb:
        app = caller_for(sb)
        app.secret = "app-s"
        contact = caller_for(sb)
        contact.secret = "contact-s"
        customer = caller_for(sb)
        customer.secret = "customer-s"
        assert app.gettoken(secret="sandbox-secret")["errcode"] == 40001  # --secret no longer valid itself
        # member writes: contact-sync only
        assert app.get("/cgi-bin/user/delete", userid="wangwu")["errcode"] == 48002
        assert customer.post("/cgi-bin/user/update", {"userid": "wangwu", "enable": 0})["errcode"] == 48002
        assert sb.control.user("wangwu")["deleted"] is False  # refused calls changed nothing
        assert contact.get("/cgi-bin/user/delete", userid="wangwu")["errcode"] == 0
        # reads work with any token
        assert app.get("/cgi-bin/user/get", userid="lisi")["errcode"] == 0
        # customer-contact APIs need the customer secret, app messages the app secret
        assert customer.get("/cgi-bin/externalcontact/list", userid="lisi")["errcode"] == 0
        assert app.get("/cgi-bin/externalcontact/list", userid="lisi")["errcode"] == 48002
        message = {"touser": "lisi", "msgtype": "text", "agentid": sb.agent_id, "text": {"content": "hi"}}
        assert contact.post("/cgi-bin/message/send", message)["errcode"] == 48002
        assert app.post("/cgi-bin/message/send", message)["errcode"] == 0


def test_malformed_json_is_47001_with_documented_warning(wecom, sandbox) -> None:
    answer = wecom.post("/cgi-bin/user/update", raw=b'{"userid": "lisi", "enable": ')
    assert answer["errcode"] == 47001
    assert "Warning: wrong json format." in answer["errmsg"]
    assert sandbox.control.user("lisi")["status"] == 1


def test_unknown_path_and_wrong_method(wecom) -> None:
    response = requests.get(f"{wecom.base_url}/cgi-bin/no/such/api", timeout=10)
    assert response.status_code == 404 and response.json()["errcode"] == 404
    assert wecom.post("/cgi-bin/user/delete", {"userid": "lisi"})["errcode"] == 43001
    assert wecom.get("/cgi-bin/user/update")["errcode"] == 43002


def test_error_envelope_is_http_200_with_wecom_style_errmsg(wecom) -> None:
    response = wecom.session.get(
        f"{wecom.base_url}/cgi-bin/user/get",
        params={"access_token": wecom.token, "userid": "ghost"},
        timeout=10,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["errcode"] == 60111
    assert "more info at https://open.work.weixin.qq.com/devtool/query?e=60111" in body["errmsg"]


def test_rate_limit_per_path_per_minute(caller_for) -> None:
    with running_sandbox(extra_args=["--rate-limit-per-minute", "5"]) as sb:
        wecom = caller_for(sb)
        wecom.token  # noqa: B018 - gettoken counts against its own path only
        # stay clear of a minute boundary so all calls fall into one minute
        if time.time() % 60 > 55:
            time.sleep(60 - time.time() % 60 + 0.1)
        codes = [wecom.get("/cgi-bin/user/get", userid="lisi")["errcode"] for _ in range(8)]
        assert codes == [0] * 5 + [45009] * 3
        assert wecom.get("/cgi-bin/department/list")["errcode"] == 0  # another path has its own budget
        assert sb.control.stats()["errors"]["45009"] == 3


@pytest.mark.parametrize("clients", [20])
def test_concurrent_clients(sandbox, wecom, clients: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    token = wecom.token

    def work(n: int) -> list[int]:
        session = requests.Session()
        url = f"{wecom.base_url}/cgi-bin/user/get"
        return [
            session.get(url, params={"access_token": token, "userid": "wangwu"}, timeout=30).json()["errcode"]
            for _ in range(25)
        ]

    with ThreadPoolExecutor(clients) as pool:
        results = [code for codes in pool.map(work, range(clients)) for code in codes]
    assert results == [0] * (clients * 25)
    assert sandbox.control.stats()["calls"]["/cgi-bin/user/get"] == clients * 25
