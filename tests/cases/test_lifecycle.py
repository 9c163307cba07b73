"""The case lifecycle rules (pure): fold, decide, state."""

from __future__ import annotations

import datetime as dt

import pytest

from offboarding.cases.case_ids import case_id_for_run, case_id_shown_for_run, numbered_case_id, split_case_id
from offboarding.cases.lifecycle import (
    Accepted,
    CaseAction,
    CaseControls,
    CaseProgress,
    Invalid,
    NewCase,
    Refused,
    available_actions,
    case_state,
    checked_case_id,
    decide,
    fold,
    new_case_for,
)

T0 = dt.datetime(2027, 1, 5, 9, 0, tzinfo=dt.UTC)
IDS = {"case_id": "offboard-lisi", "dag_id": "offboard_employee", "run_id": "offboard-lisi"}


def action(n: int, name: str, *, reason: str | None = "why", **fields: object) -> CaseAction:
    return CaseAction(
        n, **IDS, action=name, by_user="ops", at=T0 + dt.timedelta(minutes=n), reason=reason, fields=fields
    )


def progress(*tis: tuple[str, str], run_state: str = "running") -> CaseProgress:
    rows = [
        {"task_id": t, "state": s, "start_date": T0, "end_date": T0 if s == "success" else None}
        for t, s in tis
    ]
    return CaseProgress.from_task_instances(run_state, rows)


def controls(*actions: CaseAction, kind: str = "person") -> CaseControls:
    return fold(actions, **IDS, kind=kind, form_last_working_day="2027-02-01")


def test_fold_hold_release_reschedule_correct_and_json_round_trip() -> None:
    c = controls(
        action(1, "hold"),
        action(2, "reschedule", reason=None, last_working_day="2027-01-20"),
        action(3, "correct", successor_userid="wangwu"),
        action(4, "correct", successor_userid="zhaoliu"),
    )
    assert c.held and c.hold is not None and c.hold.reason == "why" and not c.rescinded
    assert c.effective_last_working_day("2027-02-01") == "2027-01-20"
    assert c.last_working_day == "2027-01-20"
    assert c.corrected("successor_userid", "zhangsan") == "zhaoliu"
    assert c.corrected("hr_owner", "hr_li") == "hr_li"
    again = CaseControls.from_json(c.to_json())
    assert again.to_json() == c.to_json()
    released = controls(action(1, "hold"), action(2, "release"))
    assert not released.held


def test_rescind_refused_after_the_member_was_deleted_naming_the_time() -> None:
    decision = decide(
        "rescind", {"reason": "stays"}, controls(), progress(("deletion.delete_member", "success"))
    )
    assert isinstance(decision, Refused)
    assert decision.reason.startswith(f"irreversible since {T0.isoformat()}: the member was deleted")
    assert decision.can_still and "re-invite" in decision.can_still


def test_rescind_accepted_before_deletion_and_needs_a_reason() -> None:
    p = progress(("handover.disable_member", "success"), ("approve_deletion", "awaiting_input"))
    assert isinstance(decide("rescind", {"reason": "stays"}, controls(), p), Accepted)
    bad = decide("rescind", {}, controls(), p)
    assert isinstance(bad, Invalid) and bad.field == "reason"
    assert isinstance(decide("rescind", {"reason": "x"}, controls(action(1, "rescind")), p), Refused)


def test_company_rescind_refused_once_a_member_batch_started() -> None:
    p = progress(("offboard_all_members.offboard_member_batch", "running"))
    assert isinstance(decide("rescind", {"reason": "x"}, controls(kind="company"), p), Refused)
    ok = progress(("offboard_all_members.plan_member_batches", "success"))
    assert isinstance(decide("rescind", {"reason": "x"}, controls(kind="company"), ok), Accepted)


def test_reschedule_before_handover_only_and_not_in_the_past() -> None:
    today = dt.date(2027, 1, 6)
    waiting = progress(("preflight.wait_for_last_working_day", "deferred"))
    ok = decide("reschedule", {"last_working_day": "2027-01-08"}, controls(), waiting, today=today)
    assert isinstance(ok, Accepted) and ok.fields == {"last_working_day": "2027-01-08"}
    past = decide("reschedule", {"last_working_day": "2027-01-01"}, controls(), waiting, today=today)
    assert isinstance(past, Invalid) and past.field == "last_working_day"
    late = decide(
        "reschedule",
        {"last_working_day": "2027-01-08"},
        controls(),
        progress(("handover.hand_over_customers", "running")),
        today=today,
    )
    assert isinstance(late, Refused) and "handover.hand_over_customers" in late.reason


def test_hold_release_rules() -> None:
    p = progress()
    assert isinstance(decide("hold", {"reason": "litigation"}, controls(), p), Accepted)
    again = decide("hold", {"reason": "x"}, controls(action(1, "hold")), p)
    assert isinstance(again, Refused) and again.since == (T0 + dt.timedelta(minutes=1)).isoformat()
    assert isinstance(decide("release", {}, controls(), p), Refused)
    assert isinstance(decide("release", {}, controls(action(1, "hold")), p), Accepted)
    assert isinstance(decide("hold", {"reason": "x"}, controls(), progress(run_state="success")), Refused)


def test_correct_refused_after_the_step_that_uses_the_field_and_validated() -> None:
    p = progress(("approve_deletion", "awaiting_input"))
    late = decide("correct", {"approvers": ["li"]}, controls(), p)
    assert isinstance(late, Refused) and "approve_deletion" in late.reason
    ok = decide("correct", {"successor_userid": "wangwu"}, controls(), p)
    assert isinstance(ok, Accepted) and ok.fields == {"successor_userid": "wangwu"}
    unknown = decide("correct", {"userid": "x"}, controls(), p)
    assert isinstance(unknown, Invalid) and unknown.field == "userid"

    def validate(conf: object, user: str) -> list[tuple[str, str]]:
        return [("successor_userid", "must differ")] if user == "ops" else []

    bad = decide("correct", {"successor_userid": "lisi"}, controls(), p, acting_user="ops", validate=validate)
    assert isinstance(bad, Invalid) and bad.field == "successor_userid"


def test_case_state() -> None:
    assert case_state(progress(), controls()) == "open"
    assert case_state(progress(), controls(action(1, "hold"))) == "on_hold"
    assert case_state(progress(run_state="success"), controls()) == "closed"
    assert case_state(progress(run_state="failed"), controls()) == "failed"
    rescinded = controls(action(1, "rescind"))
    assert case_state(progress(), rescinded, "running") == "rescinding"
    assert case_state(progress(run_state="success"), rescinded, "success") == "rescinded"


def test_available_actions_probe_the_same_rules() -> None:
    p = progress(("handover.hand_over_customers", "running"))
    found = available_actions(controls(action(1, "hold")), p, today=dt.date(2027, 1, 6))
    assert found["rescind"] is None and found["hold"] is not None and found["release"] is None
    assert isinstance(found["reschedule"], Refused)
    assert isinstance(found["correct:successor_userid"], Refused) and found["correct:approvers"] is None
    company = available_actions(controls(kind="company"), progress(), today=dt.date(2027, 1, 6))
    assert isinstance(company["reschedule"], Invalid) and "correct:hr_owner" not in company


def test_re_offboarding_ids() -> None:
    closed = {
        "cases": [
            {
                "case_id": "offboard-lisi",
                "run_id": "offboard-lisi",
                "state": "closed",
                "last_working_day": "2025-01-01",
            }
        ],
        "next_case_id": "offboard-lisi+2",
    }
    assert new_case_for(closed, {"last_working_day": "2027-01-01"}) == NewCase("new", "offboard-lisi+2")
    assert new_case_for(closed, {"last_working_day": "2025-01-01"}).outcome == "same"
    open_ = {"cases": [{**closed["cases"][0], "state": "on_hold"}], "next_case_id": "offboard-lisi+2"}
    refused = new_case_for(open_, {"last_working_day": "2027-01-01"})
    assert (
        refused.outcome == "refused" and "offboard-lisi of the same member is still open" in refused.message
    )
    conf = {"last_working_day": "2027-01-01"}
    assert checked_case_id("manual__x", "offboard-lisi", conf, closed) == "offboard-lisi+2"
    assert checked_case_id("offboard-lisi+2", "offboard-lisi+2", conf, closed) == "offboard-lisi+2"
    with pytest.raises(ValueError, match="offboard-lisi of the same member is still open"):
        checked_case_id("offboard-lisi+2", "offboard-lisi+2", conf, open_)
    with pytest.raises(ValueError, match="still open"):
        checked_case_id("manual__x", "offboard-lisi", conf, open_)


def test_case_ids_of_later_cases_are_unambiguous() -> None:
    assert numbered_case_id("offboard-a.+.", 2) == "offboard-a.+.+2"
    assert split_case_id("offboard-a.+.+2") == ("offboard-a.+.", 2)
    assert split_case_id("offboard-a.+.") == ("offboard-a.+.", 1)
    assert split_case_id("offboard-lisi") == ("offboard-lisi", 1)
    assert case_id_for_run({"userid": "Li..Si@corp"}, "offboard-li.+.si~corp+3") == "offboard-li.+.si~corp+3"
    assert case_id_for_run({"userid": "lisi"}, "manual__2027") == "offboard-lisi"
    assert case_id_for_run({"userid": "lisi"}, "offboard-wangwu+2") == "offboard-lisi"


def test_the_case_id_shown_is_case_id_for_run_or_the_run_id() -> None:
    """What the cases page and the alerts name a run by: never an error, the same id as case_id_for_run."""
    code = "91350100M000100Y43"
    for conf, run_id in [
        ({"userid": "Li..Si@corp"}, "offboard-li.+.si~corp+3"),
        ({"userid": "lisi"}, "manual__2027"),
        ({"userid": "lisi", "dry_run": True}, "dryrun-offboard-lisi+2"),
        ({"userid": "lisi", "dry_run": True}, "offboard-lisi"),
        ({"credit_code": code}, f"dissolve-{code}"),
        ({"credit_code": code}, "synthetic-000002"),
    ]:
        assert case_id_shown_for_run(conf, run_id) == case_id_for_run(conf, run_id)
    # a form that does not make a case id: the run id (whether or not it looks like one)
    assert case_id_shown_for_run({"credit_code": "91350100M000100Y44"}, "synthetic-1") == "synthetic-1"
    assert case_id_shown_for_run({"credit_code": "91350100M000100Y44"}, "dissolve-x") == "dissolve-x"
    assert case_id_shown_for_run({"userid": "li si"}, "offboard-li si") == "offboard-li si"
    assert case_id_shown_for_run({"userid": 7}, "manual__1") == "manual__1"
    assert case_id_shown_for_run({}, "manual__1") == "manual__1"


def test_a_layoff_list_is_rescheduled_and_rescinded_until_its_first_batch_starts() -> None:
    today = dt.date(2027, 1, 6)
    layoff = controls(kind="layoff")
    waiting = progress(
        ("preflight.wait_for_last_working_day", "deferred"), ("approve_member_deletion", "awaiting_input")
    )
    moved = decide("reschedule", {"last_working_day": "2027-01-08"}, layoff, waiting, today=today)
    assert isinstance(moved, Accepted) and moved.fields == {"last_working_day": "2027-01-08"}
    assert isinstance(decide("rescind", {"reason": "the layoff is called off"}, layoff, waiting), Accepted)
    started = progress(("offboard_all_members.offboard_member_batch", "running"))
    late = decide("reschedule", {"last_working_day": "2027-01-08"}, layoff, started, today=today)
    assert isinstance(late, Refused) and "offboard_member_batch" in late.reason
    gone = decide("rescind", {"reason": "x"}, layoff, started)
    assert isinstance(gone, Refused) and gone.can_still and "successors" in gone.can_still
    company = decide(
        "reschedule", {"last_working_day": "2027-01-08"}, controls(kind="company"), waiting, today=today
    )
    assert isinstance(company, Invalid) and "company case has no last working day" in company.message


def test_a_layoff_list_corrects_its_approvers_and_alerts_but_not_its_persons() -> None:
    p = progress(("preflight.check_members", "running"))
    ok = decide("correct", {"approvers": ["approver_wang"]}, controls(kind="layoff"), p)
    assert isinstance(ok, Accepted)
    persons = decide("correct", {"persons": []}, controls(kind="layoff"), p)
    assert isinstance(persons, Invalid) and persons.field == "persons"


def test_a_person_on_an_open_layoff_list_gets_no_case_of_their_own() -> None:
    series = {"cases": [], "open_lists": ["layoff-2026q4-east"], "next_case_id": "offboard-lisi"}
    with pytest.raises(ValueError, match="on the open layoff list layoff-2026q4-east"):
        checked_case_id("offboard-lisi", "offboard-lisi", {"userid": "lisi"}, series)
    decision = new_case_for(series, {"userid": "lisi", "last_working_day": "2027-01-08"})
    assert decision.outcome == "refused" and "layoff-2026q4-east" in decision.message
    free = {**series, "open_lists": []}
    assert checked_case_id("offboard-lisi", "offboard-lisi", {"userid": "lisi"}, free) == "offboard-lisi"
