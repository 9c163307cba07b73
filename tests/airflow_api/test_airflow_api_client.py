"""The REST client against a real Airflow 3.3 api-server (stub case DAGs with the real trigger forms)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
import pytest

from offboarding.airflow_api import (
    AirflowApi,
    AirflowAuthError,
    DagRunEndedElsewhere,
    DagRunWaitTimeout,
    HumanStepRefused,
    InvalidConf,
    NotFound,
    RunAlreadyExists,
)
from offboarding.cases import company_case_id, person_case_id
from offboarding_dev.rehearsal.responder import wait_until_answerable
from offboarding_dev.testing.airflow import RunningAirflow

pytestmark = pytest.mark.airflow


def person_conf(**changes: Any) -> dict[str, Any]:
    conf = {
        "userid": f"u{uuid.uuid4().hex[:10]}",
        "display_name": "张三",
        "last_working_day": "2026-12-31",
        "successor_userid": "lisi",
        "hr_owner": "hr_wang",
        "approvers": ["admin"],
    }
    conf.update(changes)
    return conf


def company_conf(**changes: Any) -> dict[str, Any]:
    conf = {
        "company_name": "福州某某科技有限公司",
        "credit_code": "91350100M000100Y43",
        "procedure": "simplified",
        "legal_representative": "admin",
        "finance_owner": "hr_wang",
        "approvers": ["admin"],
        "successor_userid": "lisi",
    }
    conf.update(changes)
    return conf


def test_trigger_uses_the_case_id_and_the_run_succeeds(airflow: RunningAirflow) -> None:
    conf = person_conf(role="finance_owner")
    case_id = person_case_id(conf)
    with airflow.api() as api:
        run = api.trigger_dag_run("offboard_employee", case_id, conf, note="HR-2026-001")
        assert run["dag_run_id"] == case_id
        assert run["logical_date"] is None
        assert run["note"] == "HR-2026-001"
        done = api.wait_for_dag_run("offboard_employee", case_id, ["success"], timeout=120)
        # Airflow fills in the form defaults the conf left out.
        assert done["conf"]["userid"] == conf["userid"]
        tis = api.list_task_instances("offboard_employee", case_id)
    assert [(t["task_id"], t["state"]) for t in tis] == [("case_received", "success")]


def test_triggering_the_same_case_twice_is_refused_not_doubled(airflow: RunningAirflow) -> None:
    conf = person_conf()
    case_id = person_case_id(conf)
    with airflow.api() as api:
        api.trigger_dag_run("offboard_employee", case_id, conf)
        with pytest.raises(RunAlreadyExists, match=case_id) as raised:
            api.trigger_dag_run("offboard_employee", case_id, conf)
        assert raised.value.status_code == 409
        runs = [r for r in api.list_dag_runs("offboard_employee") if r["dag_run_id"] == case_id]
    assert len(runs) == 1


def test_a_userid_with_at_and_double_dots_still_makes_a_valid_run_id(airflow: RunningAirflow) -> None:
    conf = person_conf(userid=f"Li..Si@{uuid.uuid4().hex[:6]}")
    case_id = person_case_id(conf)
    with airflow.api() as api:
        run = api.trigger_dag_run("offboard_employee", case_id, conf)
        assert api.get_dag_run("offboard_employee", case_id)["dag_run_id"] == run["dag_run_id"] == case_id


def test_invalid_conf_is_refused_with_airflows_message_naming_the_field(airflow: RunningAirflow) -> None:
    conf = person_conf(userid="zhang san")
    with airflow.api() as api, pytest.raises(InvalidConf, match="userid") as raised:
        api.trigger_dag_run("offboard_employee", "offboard-invalid-userid", conf)
    assert raised.value.status_code == 400
    assert "zhang san" in str(raised.value)


def test_a_missing_required_field_is_refused(airflow: RunningAirflow) -> None:
    conf = person_conf()
    del conf["approvers"]
    with airflow.api() as api, pytest.raises(InvalidConf, match="approvers"):
        api.trigger_dag_run("offboard_employee", person_case_id(conf), conf)


def test_the_api_server_checks_the_credit_code_check_character(airflow: RunningAirflow) -> None:
    # The pattern accepts ...Y44; only the cn-credit-code format (registered by a plugin) refuses it.
    bad = company_conf(credit_code="91350100M000100Y44")
    with airflow.api() as api:
        with pytest.raises(InvalidConf, match="credit_code"):
            api.trigger_dag_run("dissolve_company", "dissolve-91350100M000100Y44", bad)
        good = company_conf(company_name=f"公司-{uuid.uuid4().hex[:6]}")
        run_id = f"{company_case_id(good)}-{uuid.uuid4().hex[:6]}"
        assert api.trigger_dag_run("dissolve_company", run_id, good)["dag_run_id"] == run_id


def test_unknown_dag_and_run_are_not_found(airflow: RunningAirflow) -> None:
    with airflow.api() as api:
        with pytest.raises(NotFound):
            api.get_dag_run("offboard_employee", "offboard-nobody-here")
        with pytest.raises(NotFound):
            api.trigger_dag_run("no_such_dag", "x-1", {})


def test_wrong_password_is_an_auth_error_without_the_password(airflow: RunningAirflow) -> None:
    api = AirflowApi(airflow.api_url, username="admin", password="S3cret-wrong")
    with pytest.raises(AirflowAuthError) as raised:
        api.get_dag("offboard_employee")
    assert "S3cret-wrong" not in str(raised.value)
    assert "S3cret-wrong" not in repr(api)


def _expired_copy(airflow: RunningAirflow, token: str) -> str:
    """The same token with ``exp`` in the past, signed with the test deployment's JWT secret."""
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 60
    return jwt.encode(claims, airflow.env["AIRFLOW__API_AUTH__JWT_SECRET"], algorithm=header["alg"])


def test_an_expired_token_is_replaced_by_logging_in_again(airflow: RunningAirflow) -> None:
    fresh = airflow.api()
    fresh.login()
    assert fresh._token is not None
    expired = _expired_copy(airflow, fresh._token)
    with pytest.raises(AirflowAuthError) as raised:
        AirflowApi(airflow.api_url, token=expired).get_dag("offboard_employee")
    assert raised.value.status_code == 401  # what Airflow says for an expired token

    api = AirflowApi(airflow.api_url, username="admin", password=airflow.passwords["admin"], token=expired)
    assert api.get_dag("offboard_employee")["dag_id"] == "offboard_employee"
    assert api._token not in (None, expired)


def test_a_token_from_another_deployment_is_replaced_too(airflow: RunningAirflow) -> None:
    forged = jwt.encode(
        {"sub": "admin", "exp": int(time.time()) + 600}, "another-deployment-" + "x" * 64, algorithm="HS512"
    )
    with pytest.raises(AirflowAuthError) as raised:
        AirflowApi(airflow.api_url, token=forged).get_dag("offboard_employee")
    assert raised.value.status_code == 403
    api = AirflowApi(airflow.api_url, username="admin", password=airflow.passwords["admin"], token=forged)
    assert api.get_dag("dissolve_company")["dag_id"] == "dissolve_company"


def test_a_viewer_may_not_trigger_a_case(airflow: RunningAirflow) -> None:
    with airflow.api("auditor") as api:
        assert api.get_dag("offboard_employee")["dag_id"] == "offboard_employee"
        with pytest.raises(AirflowAuthError) as raised:
            api.trigger_dag_run("offboard_employee", "offboard-viewer-try", person_conf())
    assert raised.value.status_code == 403


def test_pause_and_unpause(airflow: RunningAirflow) -> None:
    with airflow.api() as api:
        assert api.pause("harness_human_step")["is_paused"] is True
        assert api.get_dag("harness_human_step")["is_paused"] is True
        assert api.unpause("harness_human_step")["is_paused"] is False
        assert api.get_dag("harness_human_step")["is_paused"] is False


def test_wait_for_dag_run_times_out_and_reports_the_state(airflow: RunningAirflow) -> None:
    run_id = f"slow-{uuid.uuid4().hex[:8]}"
    with airflow.api() as api:
        api.trigger_dag_run("harness_check", run_id, {"wait_seconds": 60})
        with pytest.raises(DagRunWaitTimeout, match=r"still '(queued|running)'"):
            api.wait_for_dag_run("harness_check", run_id, ["success"], timeout=1, poll_interval=0.2)


def test_wait_for_dag_run_stops_when_the_run_ends_elsewhere(airflow: RunningAirflow) -> None:
    conf = person_conf()
    case_id = person_case_id(conf)
    with airflow.api() as api:
        api.trigger_dag_run("offboard_employee", case_id, conf)
        api.wait_for_dag_run("offboard_employee", case_id, ["success"], timeout=120)
        with pytest.raises(DagRunEndedElsewhere, match="ended 'success'"):
            api.wait_for_dag_run("offboard_employee", case_id, ["failed"], timeout=30)


def _wait_until_awaiting_input(api: AirflowApi, run_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = api.pending_human_steps("harness_human_step", run_id)
        if steps and steps[0]["task_instance"]["state"] == "awaiting_input":
            return steps[0]
        time.sleep(0.5)
    raise AssertionError(f"no pending human step for {run_id} after {timeout}s")


def test_pending_human_steps_are_listed_and_answered(airflow: RunningAirflow) -> None:
    run_id = f"hitl-{uuid.uuid4().hex[:8]}"
    with airflow.api() as api:
        api.trigger_dag_run("harness_human_step", run_id, {})
        step = _wait_until_awaiting_input(api, run_id)
        assert step["task_instance"]["task_id"] == "approve"
        assert step["options"] == ["Approve", "Reject"]
        assert any(s["task_instance"]["dag_run_id"] == run_id for s in api.pending_human_steps())

        with pytest.raises(HumanStepRefused) as refused:
            api.answer_human_step("harness_human_step", run_id, "approve", ["Maybe"])
        assert refused.value.status_code == 400

        # Trap 11: an answer within ~0.5 s of parking can fail the task; let the scheduler settle it.
        wait_until_answerable(api, "harness_human_step", run_id, "approve")
        answer = api.answer_human_step("harness_human_step", run_id, "approve", ["Approve"], {})
        assert answer["chosen_options"] == ["Approve"]
        assert answer["responded_by"]["name"] == "admin"

        with pytest.raises(HumanStepRefused) as again:
            api.answer_human_step("harness_human_step", run_id, "approve", ["Reject"])
        assert again.value.status_code == 409

        run = api.wait_for_dag_run("harness_human_step", run_id, ["success"], timeout=120)
        assert run["state"] == "success"
        assert not api.pending_human_steps("harness_human_step", run_id)
        states = {t["task_id"]: t["state"] for t in api.list_task_instances("harness_human_step", run_id)}
    assert states == {"approve": "success", "approved": "success"}
