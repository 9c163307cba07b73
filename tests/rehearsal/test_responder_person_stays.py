"""The responder plays "the person stays": at the step an override names, it rescinds the case instead of
answering it — only for a rehearsal run against the sandbox (the guards still apply)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_responder_guards import API, RUN_ID, FakeAirflow, rehearsal_conf

from offboarding_dev.rehearsal import PERSON_STAYS, Responder
from offboarding_dev.sandbox.testing import RunningSandbox, running_sandbox


class CaseApi(FakeAirflow):
    """The stand-in, plus the plugin's case action endpoint."""

    def __init__(self, conf: dict[str, Any]) -> None:
        super().__init__(conf)
        self.actions: list[tuple[str, str, dict[str, Any]]] = []

    def case_action(self, case_id: str, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        self.actions.append((case_id, action, dict(body or {})))
        return {"state": "rescinding", "rescind_run_id": f"rescind-{case_id}-1"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    with running_sandbox() as sb:
        yield sb


def one_pass(api: CaseApi, sandbox: RunningSandbox, overrides: dict[str, Any]) -> Any:
    responder = Responder(
        API,
        {"admin": "pw"},
        sandboxes={"wecom_default": sandbox.base_url},
        settle_seconds=0,
        overrides=overrides,
    )
    responder._apis["admin"] = api  # type: ignore[assignment]  # the stand-in instead of a login
    (report,) = responder.run_once()
    again = responder.run_once()
    responder.close()
    return report, again, responder.answered


def test_the_person_stays_rescinds_the_case_at_the_chosen_step(sandbox: RunningSandbox) -> None:
    api = CaseApi(rehearsal_conf())
    report, again, answered = one_pass(api, sandbox, {RUN_ID: {"approve_deletion": PERSON_STAYS}})
    assert report.status == "rescinded", report.detail
    assert "rescind-offboard-lisi-1" in report.detail
    assert api.answers == []  # the approval is not answered
    ((case_id, action, body),) = api.actions  # once, not again on the next pass
    assert (case_id, action) == (RUN_ID, "rescind")
    assert "the person stays" in body["reason"] and "approve_deletion" in body["reason"]
    assert [r.status for r in again] == ["answered"] and answered == [report]


def test_a_run_not_in_rehearsal_time_is_not_rescinded(sandbox: RunningSandbox) -> None:
    api = CaseApi(rehearsal_conf(time_scale=1))
    report, _, _ = one_pass(api, sandbox, {RUN_ID: {"approve_deletion": PERSON_STAYS}})
    assert report.status == "not_rehearsal"
    assert api.actions == []
