"""The demo's parts that need no running Airflow: ports, passwords, the fresh rehearsal, cases, connections."""

from __future__ import annotations

import io
import json
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from offboarding.airflow_api import AirflowApiError
from offboarding.cases import COMPANY_DAG_ID, PERSON_DAG_ID, validate_company_case, validate_person_case
from offboarding_dev import demo
from offboarding_dev.rehearsal.progress import CaseProgress
from offboarding_dev.rehearsal.samples import COMPANY_CORPID, SampleCase, demo_roles
from offboarding_dev.testing.airflow import stub_airflow


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_an_explicit_busy_port_is_refused(busy_port: int) -> None:
    with pytest.raises(ValueError, match=f"--port: {busy_port} is busy"):
        demo.choose_ui_port(busy_port)
    with pytest.raises(ValueError, match="--port: must be a TCP port"):
        demo.choose_ui_port(70000)


def test_the_default_port_falls_back_to_a_free_one_when_busy(
    busy_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "DEFAULT_UI_PORT", busy_port)
    port, note = demo.choose_ui_port(None)
    assert port != busy_port
    assert note == f"port {busy_port} is busy, using {port}"
    assert demo._sandbox_port_args(busy_port) == ()
    assert demo._sandbox_port_args(0) == ()


def test_passwords_are_kept_between_demos_and_new_users_get_random_ones(tmp_path: Path) -> None:
    (tmp_path / demo.PASSWORDS_FILE).write_text(json.dumps({"admin": "kept-pw", "hr": ""}))
    first = demo.load_passwords(tmp_path, ["admin", "hr", "lisi"])
    assert first["admin"] == "kept-pw"
    assert len(first["hr"]) >= 16 and len(first["lisi"]) >= 16
    assert first["hr"] != first["lisi"]
    (tmp_path / demo.PASSWORDS_FILE).write_text("{broken")
    assert set(demo.load_passwords(tmp_path, ["admin"])) == {"admin"}


def test_each_start_is_a_fresh_rehearsal_that_keeps_the_passwords(tmp_path: Path) -> None:
    home = tmp_path / ".airflow"
    (home / "logs" / "dag_id=x").mkdir(parents=True)
    (home / "offboarding" / "token-cache").mkdir(parents=True)
    for name in ("airflow.db", "standalone.log", demo.PASSWORDS_FILE, "airflow.cfg"):
        (home / name).write_text("old")
    session = demo.fresh_rehearsal(home)
    assert sorted(p.name for p in home.iterdir()) == sorted(
        [demo.PASSWORDS_FILE, "airflow.cfg", "rehearsals"]
    )
    assert session.parent == home / "rehearsals" and session.is_dir()
    assert stat.S_IMODE(session.stat().st_mode) == 0o700


def test_the_sample_cases_pass_the_case_schemas() -> None:
    persons = demo.sample_cases(with_company=False, time_scale=86400)
    assert [(c.dag_id, c.run_id) for c in persons] == [
        (PERSON_DAG_ID, "offboard-lisi"),
        (PERSON_DAG_ID, "offboard-sunqi"),
    ]
    assert all(validate_person_case(dict(c.conf)) == [] for c in persons)
    lisi, sunqi = persons
    assert lisi.conf["deregister_account"] is True and sunqi.conf["role"] == "legal_representative"
    assert {c.conf["time_scale"] for c in persons} == {86400}
    everything = demo.sample_cases(with_company=True, time_scale=86400)
    company = everything[-1]
    assert company.dag_id == COMPANY_DAG_ID and validate_company_case(dict(company.conf)) == []
    assert company.conf["wecom_conn_id"] == "wecom_company"
    roles = demo_roles()
    for case in everything:
        assert roles.get(case.triggered_by) == "user"
        owners = [case.conf.get(k) for k in ("hr_owner", "legal_representative", "finance_owner", "userid")]
        assert all(o in roles for o in [*filter(None, owners), *case.conf["approvers"]])


def test_the_connections_point_each_case_at_its_own_sandbox(tmp_path: Path) -> None:
    persons = SimpleNamespace(
        base_url="http://127.0.0.1:8900", corpid="ww1", secret="s1", agent_id=7, webhook_key="robot-key"
    )
    company = SimpleNamespace(
        base_url="http://127.0.0.1:8901", corpid=COMPANY_CORPID, secret="s2", agent_id=8
    )
    env = demo.airflow_env(persons, company, tmp_path)  # type: ignore[arg-type]
    default = json.loads(env["AIRFLOW_CONN_WECOM_DEFAULT"])
    assert default["host"] == "http://127.0.0.1:8900" and default["login"] == "ww1"
    assert default["extra"]["contact_secret"] == "s1" and default["extra"]["agent_id"] == 7
    assert default["extra"]["app_chat_ids"] == ["chat_sales_weekly", "chat_other_app"]
    assert json.loads(env["AIRFLOW_CONN_WECOM_COMPANY"])["login"] == COMPANY_CORPID
    assert env["OFFBOARDING_DATA_DIR"] == str(tmp_path / "data")
    assert env["OFFBOARDING_TOKEN_CACHE_URL"] == (tmp_path / "token-cache").as_uri()
    assert float(env["AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT"]) >= 30
    assert "AIRFLOW_CONN_WECOM_COMPANY" not in demo.airflow_env(persons, None, tmp_path)  # type: ignore[arg-type]


def test_the_watchdog_alerts_the_persons_sandbox_robot_every_few_seconds(tmp_path: Path) -> None:
    from offboarding.alerting.schedule import watchdog_interval
    from offboarding.alerting.steps import CaseInfo
    from offboarding.cases import validate_person_case

    persons = SimpleNamespace(
        base_url="http://127.0.0.1:8900", corpid="ww1", secret="s1", agent_id=7, webhook_key="robot-key"
    )
    env = demo.airflow_env(persons, None, tmp_path, watchdog_seconds=15)  # type: ignore[arg-type]
    robot = json.loads(env["AIRFLOW_CONN_WECOM_ROBOT_DEMO"])
    assert robot == {"conn_type": "wecom_webhook", "host": "http://127.0.0.1:8900", "password": "robot-key"}
    assert env["OFFBOARDING_ALERT_WEBHOOK_CONN_ID"] == "wecom_robot_demo"
    assert watchdog_interval(env).total_seconds() == 15
    # 孙七's case (the stalled sample step's) also names the robot and 张三 for app messages.
    lisi, sunqi = demo.sample_cases(with_company=False, time_scale=86400)
    assert "notify" not in lisi.conf
    assert validate_person_case(dict(sunqi.conf)) == []
    case = CaseInfo.from_conf(sunqi.dag_id, sunqi.run_id, sunqi.conf)
    assert case.webhook_conn_id == "wecom_robot_demo" and case.userids == ("zhangsan",)
    with pytest.raises(SystemExit):
        demo.build_parser().parse_args(["--watchdog-seconds", "soon"])


def test_the_demo_records_evidence_with_a_key_kept_in_its_session(tmp_path: Path) -> None:
    persons = SimpleNamespace(
        base_url="http://127.0.0.1:8900", corpid="ww1", secret="s1", agent_id=7, webhook_key="robot-key"
    )
    env = demo.airflow_env(persons, None, tmp_path)  # type: ignore[arg-type]
    key = json.loads(env["AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY"])["password"]
    key_file = tmp_path / demo.EVIDENCE_KEY_FILE
    assert key_file.read_text(encoding="utf-8").strip() == key and len(key) >= 32
    assert key_file.stat().st_mode & 0o777 == 0o600
    again = demo.airflow_env(persons, None, tmp_path)  # type: ignore[arg-type]
    assert (
        json.loads(again["AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY"])["password"] == key
    )  # one key per session


def test_a_failed_task_is_explained_from_its_log(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "dag_id=d" / "run_id=r" / "task_id=t"
    folder.mkdir(parents=True)
    (folder / "attempt=1.log").write_text(
        '{"level":"error","error_detail":[{"exc_type":"Old","exc_value":"x"}]}\n'
    )
    error = {"exc_type": "WeComDataError", "exc_value": "refused on /cgi-bin/x?access_token=abc123"}
    (folder / "attempt=2.log").write_text(
        json.dumps({"level": "info", "event": "start"})
        + "\n"
        + json.dumps({"level": "error", "event": "Task failed", "error_detail": [error]})
        + "\n"
    )
    hint = demo.failure_hint(tmp_path, "d", "r", "t")
    assert hint.startswith("WeComDataError: refused on /cgi-bin/x?access_token=*** (")
    assert "abc123" not in hint and "attempt=2.log" in hint
    assert "see the task log" in demo.failure_hint(tmp_path, "d", "r", "other")


def test_a_progress_line_says_what_runs_and_whom_it_waits_for() -> None:
    progress = CaseProgress(
        dag_id=PERSON_DAG_ID,
        run_id="offboard-lisi",
        state="running",
        done=12,
        total=35,
        current=(("approve_deletion", "awaiting_input"), ("backup.export_wedrive_files", "running")),
        waiting_for={"approve_deletion": ("approver",)},
        failed=("handover.x",),
        upstream_failed=3,
    )
    assert progress.line() == (
        "offboard-lisi                  running  12/35 done; failed: handover.x (3 not run because of it); "
        "now: approve_deletion (waiting for approver), backup.export_wedrive_files"
    )
    done = CaseProgress(PERSON_DAG_ID, "offboard-lisi", "success", 35, 35, (), {}, ())
    assert done.finished and done.line().endswith("35/35 done")


def test_api_calls_are_retried_only_while_the_server_is_unreachable_or_failing() -> None:
    said: list[str] = []
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise AirflowApiError("POST /x: cannot reach the Airflow api-server (ReadTimeout)")
        return "ok"

    assert demo.retrying(flaky, "trigger x", said.append, delay=0.01) == "ok"
    assert len(calls) == 3 and said[0].startswith("trigger x: POST /x: cannot reach")

    def refused() -> None:
        calls.append(1)
        raise AirflowApiError("HTTP 400: bad conf", status_code=400)

    calls.clear()
    with pytest.raises(AirflowApiError, match="bad conf"):
        demo.retrying(refused, "trigger x", said.append, delay=0.01)
    assert len(calls) == 1

    def down() -> None:
        raise AirflowApiError("HTTP 503", status_code=503)

    with pytest.raises(AirflowApiError, match="503"):
        demo.retrying(down, "unpause", said.append, attempts=2, delay=0.01)


def test_the_last_errors_of_airflows_log_are_picked_and_cut() -> None:
    log = "\n".join(
        [
            "scheduler | [info     ] Loop took 0.1s",
            "scheduler | [error    ] Exception when executing SchedulerJob._run_scheduler_loop",
            "scheduler | sqlite3.OperationalError: database is locked",
            "api-server | [info     ] GET /api/v2/dags 200",
            *[f"triggerer | [error    ] number {i} " + "x" * 400 for i in range(20)],
        ]
    )
    assert demo.last_errors(log, count=22)[:2] == [
        "scheduler | [error    ] Exception when executing SchedulerJob._run_scheduler_loop",
        "scheduler | sqlite3.OperationalError: database is locked",
    ]
    picked = demo.last_errors(log)
    assert len(picked) == 15 and picked[-1].startswith("triggerer | [error    ] number 19")
    assert all(len(line) == 300 for line in picked)


@pytest.mark.airflow
def test_stuck_cases_are_explained_by_the_components_and_the_dags_flags() -> None:
    airflow = stub_airflow()
    out = io.StringIO()
    case = SampleCase(PERSON_DAG_ID, "offboard-x", {}, "admin", "x leaves")
    with airflow.api() as api:
        demo.Demo(SimpleNamespace(), out)._explain_stuck(api, airflow, [case])
    text = out.getvalue()
    assert "Airflow's components: scheduler healthy (last heartbeat " in text
    assert "triggerer healthy" in text and "dag-processor healthy" in text
    assert f"DAG {PERSON_DAG_ID}: is_paused False, is_stale False, has_import_errors False" in text
