"""``offboard_layoff`` rehearsed end to end in a real Airflow against the sandbox.

A list of 250 members of its own corp (sandbox ``layoff``, seed ``members:300``: ``u000001`` …
``u000300``, 3 customers and one customer group each, plus ``zhangsan``, ``admin01``, ``admin02``), with
two successors who stay: ``u000299`` inherits from every listed person whose number is not a multiple of
6 (209 persons: two batches), ``u000300`` from the others (41: one batch). Their last working day is
today; in rehearsal time (a legal day per second) it ends within a second of the trigger. The approver
answers ``approve_member_deletion`` through Airflow's REST API (the responder), as for every case.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from offboarding.steps.outcomes import china_today

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAG = "offboard_layoff"
LIST_ID = "e2e-2026q4"
RUN_ID = f"layoff-{LIST_ID}"
HEIR_A, HEIR_B = "u000299", "u000300"
LISTED = [f"u{n:06d}" for n in range(1, 251)]
SUCCESSORS = {u: HEIR_B if int(u[1:]) % 6 == 0 else HEIR_A for u in LISTED}
SEEDED = {f"u{n:06d}" for n in range(1, 301)} | {"zhangsan", "admin01", "admin02"}
UNLISTED = SEEDED - set(LISTED)


def layoff_form() -> dict[str, Any]:
    return {
        "list_id": LIST_ID,
        "list_name": "演练名单 2026Q4",
        "last_working_day": china_today().isoformat(),
        "persons": [
            {"userid": u, "successor_userid": s, "display_name": f"成员{u[1:]}"}
            for u, s in SUCCESSORS.items()
        ],
        "hr_owner": "hr",
        "approvers": ["approver"],
        "wecom_conn_id": "wecom_layoff",
        "time_scale": 86400,
    }


@pytest.fixture(scope="module")
def layoff(rehearsal: Any) -> Any:
    rehearsal.trigger(DAG, RUN_ID, layoff_form())
    run = rehearsal.wait(DAG, RUN_ID, timeout=900)
    if run["state"] != "success":
        print(rehearsal.failure_report(DAG, RUN_ID))
    return rehearsal, run


def writes(rehearsal: Any) -> list[dict[str, Any]]:
    return list(rehearsal.sandboxes["layoff"].control.stats()["writes"])


def test_a_list_of_250_is_offboarded_unattended(layoff: Any) -> None:
    rehearsal, run = layoff
    tasks = rehearsal.task_states(DAG, RUN_ID)
    assert run["state"] == "success", tasks
    assert set(tasks.values()) == {"success"}, tasks
    assert rehearsal.tasks_after_close(DAG, RUN_ID) == []
    batches = [
        ti
        for ti in rehearsal.api().list_task_instances(DAG, RUN_ID)
        if ti["task_id"] == "offboard_all_members.offboard_member_batch"
    ]
    assert len(batches) == 3, batches


def test_the_responder_approved_as_the_lists_eligible_approver(layoff: Any) -> None:
    rehearsal, _ = layoff
    answers = [
        r
        for r in rehearsal.responder.answered
        if (r.dag_id, r.run_id, r.task_id) == (DAG, RUN_ID, "approve_member_deletion")
    ]
    assert [(r.status, r.user, r.chosen_options) for r in answers] == [("answered", "approver", ("Approve",))]
    approved = [e for e in rehearsal.ledger(RUN_ID) if e["action"] == "approval.approved"]
    assert [e["actor"] for e in approved] == ["approver"]
    assert not [e for e in rehearsal.ledger(RUN_ID) if e["action"] == "approval.not_counted"]


def test_every_listed_member_is_deleted_once_and_the_others_stay(layoff: Any) -> None:
    rehearsal, _ = layoff
    deleted: Counter[str] = Counter()
    for write in writes(rehearsal):
        if write["path"] == "/cgi-bin/user/batchdelete":
            deleted.update(write["summary"]["userids"])
        elif write["path"] == "/cgi-bin/user/delete":
            deleted[write["summary"]["userid"]] += 1
    assert deleted == Counter(LISTED)
    control = rehearsal.sandboxes["layoff"].control
    for userid in sorted(UNLISTED):
        assert control.user(userid)["deleted"] is False, userid
    assert control.state()["members"]["active"] == len(UNLISTED) == 53


def test_customers_and_groups_went_to_each_persons_own_successor(layoff: Any) -> None:
    rehearsal, _ = layoff
    heirs: dict[str, set[str]] = {}
    for write in writes(rehearsal):
        summary = write["summary"]
        if write["path"] == "/cgi-bin/externalcontact/transfer_customer":
            heirs.setdefault(summary["handover_userid"], set()).add(summary["takeover_userid"])
        elif write["path"] == "/cgi-bin/externalcontact/groupchat/onjob_transfer":
            for chat_id in summary["chat_id_list"]:
                heirs.setdefault(chat_id.removeprefix("wr_"), set()).add(summary["new_owner"])
    assert {person: sorted(h) for person, h in heirs.items()} == {u: [s] for u, s in SUCCESSORS.items()}
    control = rehearsal.sandboxes["layoff"].control
    groups = set(control.user(HEIR_A)["groups"]) | set(control.user(HEIR_B)["groups"])
    assert {f"wr_{u}" for u in LISTED} <= groups


def test_the_ledger_has_the_approval_before_the_deletions_and_the_summary(layoff: Any) -> None:
    rehearsal, _ = layoff
    ledger = rehearsal.ledger(RUN_ID)
    actions = [e["action"] for e in ledger]
    assert actions.index("approval.approved") < actions.index("members.deleted")
    assert actions.index("deadline.reached") < actions.index("members.deleted")
    assert actions.count("members.deleted") == 3
    summarised = [e for e in ledger if e["action"] == "members.summarised"]
    assert len(summarised) == 1
    result = summarised[0]["result"]
    assert (result["members"], result["offboarded"], result["already_gone"]) == (250, 250, 0)
    assert result["unexpected_members_left"] == [] and result["members_left_in_wecom"] == len(UNLISTED)
    assert "case.closed" in actions
    assert (rehearsal.case_dir(RUN_ID) / "members" / "outcomes.csv").exists()


# -- one open case per person, checked against Airflow's own runs -----------------------------------------

OPEN_LIST = "layoff-e2e-open"


def task_state(rehearsal: Any, dag_id: str, run_id: str, task_id: str) -> str | None:
    return rehearsal.task_states(dag_id, run_id).get(task_id)


def wait_until(rehearsal: Any, dag_id: str, run_id: str, task_id: str, states: set[str]) -> str:
    import time

    deadline = time.monotonic() + 300
    while (state := task_state(rehearsal, dag_id, run_id, task_id)) not in states:
        assert time.monotonic() < deadline, (task_id, state, rehearsal.failure_report(dag_id, run_id))
        time.sleep(2)
    return str(state)


def ended(rehearsal: Any, dag_id: str, run_id: str) -> str:
    """The run's final state; on a timeout, what its tasks say (a retry's error included)."""
    from offboarding.airflow_api import AirflowApiError

    try:
        return str(rehearsal.wait(dag_id, run_id, timeout=300)["state"])
    except AirflowApiError as err:
        raise AssertionError(f"{err}: {rehearsal.failure_report(dag_id, run_id)}") from None


def test_a_person_is_in_one_open_case_a_list_or_their_own(layoff: Any) -> None:
    """A second list (real time, last working day in a month: it stays open) names u000249, deleted by the
    closed list (a closed case is no overlap), and u000260. A case of u000260's own is then refused by its
    check_case, and so is a third list naming u000260; the open list is rescinded before any batch."""
    import datetime as dt

    rehearsal, _ = layoff
    later = (china_today() + dt.timedelta(days=30)).isoformat()
    form = {
        **layoff_form(),
        "list_id": OPEN_LIST.removeprefix("layoff-"),
        "last_working_day": later,
        "time_scale": 1,
        "persons": [
            {"userid": "u000249", "successor_userid": HEIR_A},
            {"userid": "u000260", "successor_userid": HEIR_A},
        ],
    }
    rehearsal.trigger(DAG, OPEN_LIST, form)
    wait = "preflight.wait_for_last_working_day"
    assert (
        wait_until(rehearsal, DAG, OPEN_LIST, wait, {"up_for_reschedule", "deferred", "failed"}) != "failed"
    )

    own = {
        "userid": "u000260",
        "display_name": "成员000260",
        "successor_userid": HEIR_A,
        "last_working_day": later,
        "hr_owner": "hr",
        "approvers": ["approver"],
        "wecom_conn_id": "wecom_layoff",
        "time_scale": 1,
    }
    rehearsal.trigger("offboard_employee", "offboard-u000260", own)
    assert ended(rehearsal, "offboard_employee", "offboard-u000260") == "failed"
    report = rehearsal.failure_report("offboard_employee", "offboard-u000260")
    assert f"on the open layoff list {OPEN_LIST}" in report, report

    second = {**form, "list_id": "e2e-second", "persons": [{"userid": "u000260", "successor_userid": HEIR_B}]}
    rehearsal.trigger(DAG, "layoff-e2e-second", second)
    assert ended(rehearsal, DAG, "layoff-e2e-second") == "failed"
    report = rehearsal.failure_report(DAG, "layoff-e2e-second")
    assert f"u000260 is in the open case {OPEN_LIST} (running)" in report, report
    assert rehearsal.sandboxes["layoff"].control.user("u000260")["deleted"] is False

    rehearsal.api().case_action(OPEN_LIST, "rescind", {"reason": "the second wave is called off"})
    run = ended(rehearsal, DAG, OPEN_LIST)
    assert task_state(rehearsal, DAG, OPEN_LIST, "offboard_all_members.offboard_member_batch") in (
        "skipped",
        None,
    ), (run, rehearsal.task_states(DAG, OPEN_LIST))
    assert rehearsal.api().get_case(OPEN_LIST)["state"] in ("rescinding", "rescinded")
