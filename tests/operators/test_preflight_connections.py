"""``check_case`` refuses a case whose connections are of the wrong type or insecure, before it starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.preflight import CheckCaseOperator


def check(params: dict[str, Any], make_context: Any) -> Any:
    return CheckCaseOperator(task_id="preflight.check_case").execute(
        make_context(params, task_id="preflight.check_case")
    )


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        ({"conn_type": "http"}, "wecom_conn_id: connection wecom_bad has type 'http'; expected 'wecom'"),
        (
            {"conn_type": "generic"},
            "wecom_conn_id: connection wecom_bad has type 'generic'; expected 'wecom'",
        ),
        (
            {"conn_type": "wecom", "host": "http://qyapi.example.com"},
            "wecom_conn_id: connection wecom_bad points at http://qyapi.example.com: secrets are only sent "
            "over https",
        ),
    ],
)
def test_a_wecom_connection_of_another_type_or_over_http_stops_the_case_before_anything(
    sandbox: Any,
    sample_person_case: Any,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    backup_roots: Path,
    conn: dict[str, Any],
    message: str,
) -> None:
    fields = {"host": sandbox.base_url, "login": sandbox.corpid, "password": sandbox.secret, **conn}
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_BAD", json.dumps(fields))
    params = sample_person_case(wecom_conn_id="wecom_bad")
    with pytest.raises(AirflowFailException) as refused:
        check(params, make_context)
    assert message in str(refused.value)
    assert sandbox.secret not in str(refused.value)
    assert sandbox.control.stats()["calls"] == {}
    assert not backup_roots.exists()  # the root params["backup_target"] names: no case folder, no ledger


def test_a_robot_of_another_type_stops_the_case(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    backup_roots: Path,
) -> None:
    robot = {"conn_type": "http", "host": wecom_conn.base_url, "password": wecom_conn.webhook_key}
    monkeypatch.setenv("AIRFLOW_CONN_ROBOT_HTTP", json.dumps(robot))
    params = sample_person_case(notify={"webhook_conn_id": "robot_http", "userids": []})
    with pytest.raises(
        AirflowFailException,
        match=r"notify\.webhook_conn_id: connection robot_http has type 'http'; expected 'wecom_webhook'",
    ):
        check(params, make_context)
    assert not backup_roots.exists()
    assert wecom_conn.control.stats()["calls"] == {}


def test_right_connections_pass(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    robot = {"conn_type": "wecom_webhook", "host": wecom_conn.base_url, "password": wecom_conn.webhook_key}
    monkeypatch.setenv("AIRFLOW_CONN_ROBOT_OK", json.dumps(robot))
    params = sample_person_case(notify={"webhook_conn_id": "robot_ok", "userids": []})
    assert check(params, make_context)["case_id"] == "offboard-lisi"
