"""The case actions page's buttons in headless Chromium against a real api-server (screenshot test).

Chromium is driven over the DevTools protocol: it gets the UI's ``_token`` cookie, opens the case's
actions page, fills and confirms the hold form (a real click, a real same-origin POST with the page's
form token) and the answer is read from the page; a screenshot is taken of the answered page.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lifecycle_airflow import future, lifecycle_airflow, person_conf, start_case, token, uid
from websockets.sync.client import connect

from offboarding.cases_page.actions_render import actions_url
from offboarding_dev.testing.airflow import free_port

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(1800)]

CHROMIUM = Path("/usr/bin/chromium")
WAIT = "preflight.wait_for_last_working_day"


class Browser:
    """One headless Chromium page over the DevTools protocol."""

    def __init__(self, ws_url: str) -> None:
        self.ws = connect(ws_url, max_size=None, open_timeout=30)
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=120))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 120) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"page never satisfied {expression}: {self.evaluate('document.body.innerText')}")


@pytest.fixture
def browser() -> Iterator[Browser]:
    port = free_port()
    profile = tempfile.mkdtemp(prefix="offboarding-chromium-")
    proc = subprocess.Popen(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={profile}",
            "--window-size=1200,1000",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                pages = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
                page = next(p for p in pages if p.get("type") == "page")
                break
            except (requests.RequestException, StopIteration):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        b = Browser(page["webSocketDebuggerUrl"])
        yield b
        b.ws.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def test_the_hold_button_asks_for_confirmation_and_answers_in_the_page(
    browser: Browser, tmp_path: Path
) -> None:
    airflow = lifecycle_airflow()
    case_id = f"offboard-{uid('page')}"
    start_case(airflow, case_id, person_conf(case_id.removeprefix("offboard-"), future()), (WAIT, "deferred"))
    browser.call("Network.enable")
    browser.call(
        "Network.setCookie",
        name="_token",
        value=token(airflow, "hr_wang"),
        url=airflow.api_url,
        sameSite="Lax",
    )
    browser.call("Page.enable")
    browser.call("Page.navigate", url=f"{airflow.api_url}{actions_url(case_id)}")
    browser.wait_for("document.querySelector('form.action-hold') !== null")
    # Only the actions that apply have a form: release does not (the case is not held).
    assert browser.evaluate("document.querySelector('form.action-release') === null")
    assert browser.evaluate("document.querySelector('form.action-rescind') !== null")
    # Confirming without a reason is stopped by the form itself (required field): nothing is sent.
    browser.evaluate("document.querySelector('form.action-hold button').click()")
    time.sleep(1)
    assert (
        requests.get(
            f"{airflow.api_url}/offboarding/api/cases/{case_id}",
            headers={"Authorization": f"Bearer {token(airflow, 'auditor')}"},
            timeout=60,
        ).json()["history"]
        == []
    )
    browser.evaluate(
        "document.querySelector('form.action-hold textarea[name=reason]').value = 'litigation LIT-9';"
        "document.querySelector('form.action-hold button').click()"
    )
    answer = browser.wait_for(
        "document.querySelector('.answer') && document.querySelector('.answer').innerText"
    )
    assert answer.startswith("hold: accepted and recorded")
    assert "On hold since" in browser.evaluate("document.body.innerText")
    assert browser.evaluate("document.querySelector('form.action-release') !== null")
    shot = tmp_path / "case-actions.png"
    shot.write_bytes(base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"]))
    assert shot.stat().st_size > 10_000  # a rendered page with the answer, not a blank one
    case = requests.get(
        f"{airflow.api_url}/offboarding/api/cases/{case_id}",
        headers={"Authorization": f"Bearer {token(airflow, 'auditor')}"},
        timeout=60,
    ).json()
    assert case["state"] == "on_hold" and case["hold"]["by"] == "hr_wang"
    assert case["hold"]["reason"] == "litigation LIT-9"


def test_a_form_post_without_the_pages_token_is_refused(tmp_path: Path) -> None:
    airflow = lifecycle_airflow()
    case_id = f"offboard-{uid('csrf')}"
    start_case(airflow, case_id, person_conf(case_id.removeprefix("offboard-"), future()), (WAIT, "deferred"))
    url = f"{airflow.api_url}{actions_url(case_id, 'hold')}"
    cookies = {"_token": token(airflow, "hr_wang")}
    same_origin = {"Origin": airflow.api_url}
    no_token = requests.post(url, data={"reason": "x"}, cookies=cookies, headers=same_origin, timeout=60)
    assert no_token.status_code == 403
    wrong_origin = requests.post(
        url,
        data={"reason": "x", "form_token": "0" * 64},
        cookies=cookies,
        headers={"Origin": "http://evil"},
        timeout=60,
    )
    assert wrong_origin.status_code == 403
