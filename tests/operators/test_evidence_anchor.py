"""The evidence key, the anchor every task records in Airflow's metadata, and what the deciding steps do.

Operators run by ``execute(context)`` inside a DAG (so they have upstream tasks) with an in-memory XCom.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.evidence.ledger import ANCHOR_XCOM_KEY, LEDGER_PATH, Anchor
from offboarding.operators.base import Case, CaseOperator
from offboarding.operators.close import CloseCaseOperator
from offboarding.operators.deletion import DeleteMemberOperator
from offboarding_dev.testing.task_instance import MemoryTaskInstance

KEY_CONN_ENV = "AIRFLOW_CONN_OFFBOARDING_EVIDENCE_KEY"


def case_id(params: dict[str, Any]) -> str:
    return f"offboard-{params['userid']}"


class RecordSomething(CaseOperator):
    """A step that records one entry (and fails afterwards when asked to)."""

    def __init__(self, *, fail: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail = fail

    def run(self, case: Case, context: Context) -> str:
        self.record("member.updated", request={"userid": "lisi"}, key="lisi")
        if self.fail:
            raise AirflowFailException("failed after recording")
        return "done"


def _dag_tasks() -> dict[str, Any]:
    with DAG("offboard_employee_anchor_test", schedule=None) as dag:
        approve = EmptyOperator(task_id="approve_deletion")
        earlier = RecordSomething(task_id="approve_deletion_recorder")
        disable = RecordSomething(task_id="disable_member")
        delete = DeleteMemberOperator(task_id="delete_member")
        close = CloseCaseOperator(task_id="close_case")
        approve >> earlier >> disable >> delete >> close
    return dict(dag.task_dict)


def _run(task: Any, params: dict[str, Any], make_context: Any, ti: MemoryTaskInstance) -> Any:
    context = make_context(params, task_id=task.task_id, ti=ti)
    context["task"] = task
    return task.execute(context)


def test_every_task_records_the_ledger_head_as_its_evidence_anchor(
    sample_person_case: Any, make_context: Any, case_ledger: Any
) -> None:
    params = sample_person_case()
    tasks, ti = _dag_tasks(), MemoryTaskInstance()

    _run(tasks["disable_member"], params, make_context, ti)

    head = case_ledger(params).head()
    assert head is not None and head.seq == 1
    assert ti.xcoms[("disable_member", ANCHOR_XCOM_KEY)] == head.text


def test_a_failed_task_still_anchors_what_it_recorded(sample_person_case: Any, make_context: Any) -> None:
    params = sample_person_case()
    ti = MemoryTaskInstance()
    task = RecordSomething(task_id="disable_member", fail=True)
    with pytest.raises(AirflowFailException, match="failed after recording"):
        _run(task, params, make_context, ti)
    assert Anchor.parse(ti.xcoms[("disable_member", ANCHOR_XCOM_KEY)]).seq == 1


def test_the_deletion_refuses_a_ledger_cut_short_below_the_upstream_anchor(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    case_store: Any,
    case_ledger: Any,
    allow_deletion: Any,
) -> None:
    params = sample_person_case()
    tasks, ti = _dag_tasks(), MemoryTaskInstance()
    allow_deletion(params)
    _run(tasks["disable_member"], params, make_context, ti)  # records seq 3 and anchors 3:<hash>
    ledger_file = case_store(params).local_path(case_id(params), LEDGER_PATH)
    assert ledger_file is not None
    lines = ledger_file.read_text(encoding="utf-8").splitlines(keepends=True)
    ledger_file.write_text("".join(lines[:-1]), encoding="utf-8")  # the tail removed: the chain alone is fine
    assert case_ledger(params).verify_chain().ok

    with pytest.raises(
        AirflowFailException, match=r"deleting lisi is refused: .*entries 3\.\.3 were removed"
    ):
        _run(tasks["delete_member"], params, make_context, ti)
    assert wecom_conn.control.stats()["calls"] == {}


def test_a_ledger_cut_short_then_appended_again_is_caught_by_the_earlier_anchor(
    wecom_conn: Any, sample_person_case: Any, make_context: Any, case_store: Any, allow_deletion: Any
) -> None:
    """The latest anchor alone would be held (later tasks appended after the cut): every anchor is checked."""
    params = sample_person_case()
    tasks, ti = _dag_tasks(), MemoryTaskInstance()
    allow_deletion(params)
    _run(tasks["approve_deletion_recorder"], params, make_context, ti)  # seq 3, anchored by that task
    ledger_file = case_store(params).local_path(case_id(params), LEDGER_PATH)
    assert ledger_file is not None
    lines = ledger_file.read_text(encoding="utf-8").splitlines(keepends=True)
    ledger_file.write_text("".join(lines[:-1]), encoding="utf-8")  # seq 3 removed ...
    _run(tasks["disable_member"], params, make_context, ti)  # ... and a new seq 3 anchored by a later task

    with pytest.raises(AirflowFailException, match=r"entry seq 3 has hash .* the anchor .* says"):
        _run(tasks["delete_member"], params, make_context, ti)
    assert wecom_conn.control.stats()["calls"] == {}


def test_a_torn_last_line_does_not_block_the_deletion(
    wecom_conn: Any,
    sample_person_case: Any,
    make_context: Any,
    case_store: Any,
    case_ledger: Any,
    allow_deletion: Any,
) -> None:
    params = sample_person_case()
    tasks, ti = _dag_tasks(), MemoryTaskInstance()
    allow_deletion(params)
    ledger_file = case_store(params).local_path(case_id(params), LEDGER_PATH)
    assert ledger_file is not None
    with ledger_file.open("ab") as handle:
        handle.write(b'{"seq":3,"at":"2026-12-04T')  # a worker killed while writing

    result = _run(tasks["delete_member"], params, make_context, ti)

    assert result["wecom_answer"] == "deleted"
    actions = [e.action for e in case_ledger(params).entries()]
    assert actions == [
        "backup.verified",
        "approval.approved",
        "ledger.recovered",
        "deadline.reached",  # the last working day re-checked by the deletion (operators/deadlines.py)
        "member.deleted",
    ]
    (recovered,) = [e for e in case_ledger(params).entries() if e.action == "ledger.recovered"]
    assert recovered.result["dropped_bytes"] == len(b'{"seq":3,"at":"2026-12-04T')
    assert case_ledger(params).verify_chain().ok


def test_close_case_puts_the_report_location_and_digest_in_xcom_not_the_report(
    sample_person_case: Any, make_context: Any, case_store: Any
) -> None:
    params = sample_person_case()
    tasks, ti = _dag_tasks(), MemoryTaskInstance()
    _run(tasks["disable_member"], params, make_context, ti)
    anchor = ti.xcoms[("disable_member", ANCHOR_XCOM_KEY)]

    result = _run(tasks["close_case"], params, make_context, ti)

    report = case_store(params).local_path(case_id(params), "evidence/report.md")
    assert report is not None
    content = report.read_bytes()
    assert result["report"] == case_store(params).case_location(case_id(params)) + "evidence/report.md"
    assert result["report_sha256"] == hashlib.sha256(content).hexdigest()
    assert result["ledger_ok"] is True and result["ledger_authenticated"] is True
    pdf = case_store(params).local_path(case_id(params), "evidence/report.pdf")
    assert pdf is not None and result["report_pdf"] == str(pdf)
    assert result["report_pdf_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert len(json.dumps(result)) < 2000 and "案件证据报告" not in json.dumps(result, ensure_ascii=False)
    text = content.decode("utf-8")
    assert anchor in text  # the anchor it was checked against
    assert "HMAC-SHA256 checked with the deployment's key" in text
    assert "intact: 2 entries" in text
    assert ti.xcoms[("close_case", ANCHOR_XCOM_KEY)].startswith("2:")


def test_close_case_reports_a_ledger_cut_short(
    sample_person_case: Any, make_context: Any, case_store: Any
) -> None:
    params = sample_person_case()
    tasks, ti = _dag_tasks(), MemoryTaskInstance()
    _run(tasks["disable_member"], params, make_context, ti)
    _run(tasks["disable_member"], params, make_context, ti)  # seq 2, anchored
    ledger_file = case_store(params).local_path(case_id(params), LEDGER_PATH)
    assert ledger_file is not None
    ledger_file.write_text(
        ledger_file.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8"
    )

    result = _run(tasks["close_case"], params, make_context, ti)

    assert result["ledger_ok"] is False
    text = case_store(params).read_bytes(case_id(params), "evidence/report.md").decode("utf-8")
    assert "BROKEN at seq 2" in text


def test_without_the_evidence_key_nothing_is_recorded(
    sample_person_case: Any, make_context: Any, case_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sample_person_case()
    monkeypatch.delenv(KEY_CONN_ENV)
    with pytest.raises(
        AirflowFailException,
        match="no evidence key: create the Airflow Connection 'offboarding_evidence_key'",
    ):
        _run(RecordSomething(task_id="disable_member"), params, make_context, MemoryTaskInstance())
    assert not case_store(params).exists(case_id(params), LEDGER_PATH)


def test_a_too_short_key_fails_without_showing_it(
    sample_person_case: Any, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = sample_person_case()
    monkeypatch.setenv(KEY_CONN_ENV, json.dumps({"conn_type": "generic", "password": "short-key-value"}))
    with pytest.raises(AirflowFailException) as failure:
        _run(RecordSomething(task_id="disable_member"), params, make_context, MemoryTaskInstance())
    assert "too short" in str(failure.value) and "short-key-value" not in str(failure.value)
