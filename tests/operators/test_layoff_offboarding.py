"""A layoff list offboarded in batches of one successor each, against a WeCom sandbox of 600 members.

The tasks of ``offboard_layoff`` are run by calling ``execute(context)`` (not through Airflow), in the
DAG's order, against a dedicated sandbox (seed ``members:600``: members ``u000001`` … ``u000600`` with 3
customers and one customer group ``wr_<userid>`` each, plus ``zhangsan``, ``admin01`` and ``admin02``).

The list: ``u000001`` … ``u000330`` and ``ghost01`` (a person WeCom does not know, listed after
``u000150``). Two successors: ``admin01`` inherits from every person whose number is not a multiple of 3
(220 persons: two batches), ``u000500`` from the others and ``ghost01`` (111 persons: one batch).
Everyone else stays. What happened is read back from the sandbox's control API (``/sandbox/users``,
``/sandbox/stats``, ``/sandbox/state``) and from the case folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup.manifest import BackupManifest, load_manifest
from offboarding.backup.roots import resolve_backup_root
from offboarding.backup.storage import BackupStore
from offboarding.backup.verification import verify
from offboarding.cases import layoff_case_id
from offboarding.evidence.keys import key_from_environment
from offboarding.evidence.ledger import EvidenceLedger
from offboarding.operators.approval import ApproveDeletionOperator
from offboarding.operators.approvers import APPROVAL_TASK_IDS
from offboarding.operators.company_member_summary import OUTCOMES_CSV_PATH, SummariseMemberOffboardingOperator
from offboarding.operators.company_members import (
    BATCH_TASK_ID,
    PLAN_SUMMARY_KEY,
    PLAN_TASK_ID,
    OffboardMemberBatchOperator,
)
from offboarding.operators.layoff import (
    CheckLayoffCaseOperator,
    CheckListedMembersOperator,
    PlanLayoffBatchesOperator,
)
from offboarding.steps.batches import PLAN_PATH, load_plan
from offboarding.steps.outcomes import china_today
from offboarding.steps.progress import BatchProgress, progress_path
from offboarding.wecom import Contacts, WeComClient
from offboarding_dev.rehearsal.samples import wecom_connection
from offboarding_dev.sandbox.testing import running_sandbox

SEED = "members:600"
LIST_ID = "2026q4-east"
CASE_ID = f"layoff-{LIST_ID}"
DAG_ID = "offboard_layoff"
APPROVAL_TASK_ID = APPROVAL_TASK_IDS["layoff"]
GHOST = "ghost01"
HEIR_A, HEIR_B = "admin01", "u000500"
KNOWN = [f"u{n:06d}" for n in range(1, 331)]
LISTED = [*KNOWN[:150], GHOST, *KNOWN[150:]]
SUCCESSORS = {u: (HEIR_B if u == GHOST or int(u[1:]) % 3 == 0 else HEIR_A) for u in LISTED}
OF_A = [u for u in LISTED if SUCCESSORS[u] == HEIR_A]  # 220, in the list's order
OF_B = [u for u in LISTED if SUCCESSORS[u] == HEIR_B]  # 111, ghost01 among them
SEEDED = {f"u{n:06d}" for n in range(1, 601)} | {"zhangsan", "admin01", "admin02"}
UNLISTED = SEEDED - set(LISTED)
BATCHDELETE = "/cgi-bin/user/batchdelete"
USER_DELETE = "/cgi-bin/user/delete"
TRANSFER_CUSTOMER = "/cgi-bin/externalcontact/transfer_customer"
GROUP_ONJOB_TRANSFER = "/cgi-bin/externalcontact/groupchat/onjob_transfer"


class SimulatedCrash(Exception):
    """Stands for the worker process dying in the middle of a batch."""


@pytest.fixture(scope="module")
def corp_server() -> Iterator[Any]:
    with running_sandbox(seed=SEED) as sandbox:
        yield sandbox


@pytest.fixture
def corp(corp_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh 600-member corp; ``wecom_default`` points at it."""
    corp_server.control.reset(seed=SEED)
    conn = wecom_connection(corp_server, admin_userids=["zhangsan", "admin01", "admin02"])
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    return corp_server


def persons(successors: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"userid": u, "successor_userid": s, "display_name": f"成员{u[1:]}" if u != GHOST else "幽灵"}
        for u, s in successors.items()
    ]


class LayoffRun:
    """Runs the tasks of one layoff case the way the DAG would, sharing one XCom store."""

    def __init__(self, params: dict[str, Any], make_context: Any, approvals: Any) -> None:
        self.params = params
        self.make_context = make_context
        self.approvals = approvals
        self.ti: Any = None
        self.store = BackupStore(resolve_backup_root(params["backup_target"]).url)
        self.case_id = layoff_case_id(params)  # dryrun-layoff-... for a dry run
        self.ledger = EvidenceLedger(self.store, self.case_id, key=key_from_environment())

    def context(self, task_id: str, run_id: str | None = None) -> dict[str, Any]:
        context = self.make_context(self.params, task_id=task_id, run_id=run_id or self.case_id, ti=self.ti)
        self.ti = context["ti"]
        return context

    def check_case(self, run_id: str | None = None) -> dict[str, Any]:
        operator = CheckLayoffCaseOperator(task_id="check_case")
        return operator.execute(self.context("preflight.check_case", run_id))

    def check_members(self) -> dict[str, Any]:
        operator = CheckListedMembersOperator(task_id="check_members")
        return operator.execute(self.context("preflight.check_members"))

    def plan(self) -> list[dict[str, Any]]:
        return PlanLayoffBatchesOperator(task_id="plan_member_batches").execute(self.context(PLAN_TASK_ID))

    def approve(
        self, *, by: str = "approver", chosen: str = "Approve", assigned: tuple[str, ...] | None = None
    ) -> None:
        """The approver answers ``approve_member_deletion`` in Airflow: Airflow's human-in-the-loop record
        (the ``airflow_approvals`` fixture's memory) and the ledger entry ApproveDeletionOperator writes.

        Made here rather than by ``airflow_approvals.approve()`` so a test can assign someone the form does
        not name (``assigned``: a correction accepted after the plan).
        """
        context = self.make_context(self.params, task_id=APPROVAL_TASK_ID, run_id=self.case_id, user="ops")
        at = dt.datetime.now(dt.UTC)
        self.approvals.record(
            dag_id=DAG_ID,
            run_id=self.case_id,
            task_id=APPROVAL_TASK_ID,
            ti_id=str(context["ti"].id),
            by=by,
            chosen=chosen,
            assigned=assigned or tuple(self.params["approvers"]),
            at=at,
        )
        event = {
            "chosen_options": [chosen],
            "params_input": {},
            "responded_at": at,
            "responded_by_user": {"id": by, "name": by},
        }
        ApproveDeletionOperator(task_id=APPROVAL_TASK_ID)._record_answer(context, event)

    def batch(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        operator = OffboardMemberBatchOperator(task_id="offboard_member_batch", batch=batch, **kwargs)
        return operator.execute(self.context(BATCH_TASK_ID))

    def summarise(self) -> dict[str, Any]:
        operator = SummariseMemberOffboardingOperator(task_id="summarise_member_offboarding")
        return operator.execute(self.context("offboard_all_members.summarise_member_offboarding"))

    def members_of(self, batch: dict[str, Any]) -> list[str]:
        plan = load_plan(self.store, self.case_id)
        assert plan is not None
        return plan.members_of(batch["batch_id"])

    def progress(self, batch: dict[str, Any]) -> BatchProgress:
        return BatchProgress.load(self.store, self.case_id, batch["batch_id"], self.members_of(batch))

    def actions(self) -> list[str]:
        return [e.action for e in self.ledger.entries()]


@pytest.fixture
def layoff(make_context: Any, airflow_approvals: Any) -> Any:
    """``layoff(**overrides)`` -> a LayoffRun for a valid list backing up under ``tmp_path``."""

    def build(**overrides: Any) -> LayoffRun:
        params = {
            "list_id": LIST_ID,
            "list_name": "2026年Q4 华东区优化",
            "last_working_day": "2026-11-20",
            "persons": persons(SUCCESSORS),
            "hr_owner": "hr",
            "approvers": ["approver"],
            "backup_target": "test",
            "notify": {"webhook_conn_id": None, "userids": []},
            "wecom_conn_id": "wecom_default",
            "dry_run": False,
            "time_scale": 1,
        }
        params.update(overrides)
        return LayoffRun(params, make_context, airflow_approvals)

    return build


def stats(sandbox: Any) -> dict[str, Any]:
    return sandbox.control.stats()


def deletions(sandbox: Any) -> Counter[str]:
    """How often each member was deleted, from the sandbox's record of every write."""
    deleted: Counter[str] = Counter()
    for write in stats(sandbox)["writes"]:
        if write["path"] == BATCHDELETE:
            deleted.update(write["summary"]["userids"])
        elif write["path"] == USER_DELETE:
            deleted[write["summary"]["userid"]] += 1
    return deleted


def customers_handed_over(sandbox: Any) -> dict[str, set[str]]:
    """Who took over each person's customers and groups (on-job transfers), from the sandbox's writes:
    person -> the successors who received any of them."""
    heirs: dict[str, set[str]] = {}
    for write in stats(sandbox)["writes"]:
        summary = write["summary"]
        if write["path"] == TRANSFER_CUSTOMER:
            heirs.setdefault(summary["handover_userid"], set()).add(summary["takeover_userid"])
        elif write["path"] == GROUP_ONJOB_TRANSFER:
            for chat_id in summary["chat_id_list"]:
                heirs.setdefault(chat_id.removeprefix("wr_"), set()).add(summary["new_owner"])
    return heirs


def calls(sandbox: Any, path: str) -> int:
    return int(stats(sandbox)["calls"].get(f"/cgi-bin/{path}", 0))


def tamper_plan(run: LayoffRun, change: Any) -> None:
    """Rewrite ``members/plan.json`` on disk (what someone with file access could do)."""
    data = json.loads(run.store.read_bytes(run.case_id, PLAN_PATH))
    change(data)
    path = run.store.local_path(run.case_id, PLAN_PATH)
    assert path is not None
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# -- preflight ------------------------------------------------------------------------------------------


def test_check_case_opens_the_list_as_one_case(corp: Any, layoff: Any) -> None:
    run = layoff()

    result = run.check_case()

    assert result["case_id"] == CASE_ID and result["persons"] == len(LISTED)
    opened = next(e for e in run.ledger.entries() if e.action == "case.opened")
    assert opened.request["kind"] == "layoff" and opened.request["subject"] == "2026年Q4 华东区优化"
    assert json.loads(run.store.read_bytes(CASE_ID, "case.json"))["kind"] == "layoff"
    assert stats(corp)["write_calls"] == {}


def test_check_case_refuses_a_dry_run_under_the_real_lists_run_id(corp: Any, layoff: Any) -> None:
    """Bug 9b for lists: a dry run triggered as ``layoff-<list id>`` would use up the real case's run id."""
    run = layoff(dry_run=True)
    assert run.case_id == f"dryrun-{CASE_ID}"

    with pytest.raises(AirflowFailException, match=rf"trigger it again with run id dryrun-{CASE_ID}"):
        run.check_case(run_id=CASE_ID)
    assert run.check_case(run_id=run.case_id)["case_id"] == run.case_id


def test_check_members_records_a_person_wecom_does_not_know(corp: Any, layoff: Any) -> None:
    run = layoff()

    result = run.check_members()

    assert result == {
        "persons": len(LISTED),
        "members": len(KNOWN),
        "not_in_wecom": [GHOST],
        "not_in_wecom_count": 1,
        "successors": 2,
    }
    checked = [e for e in run.ledger.entries() if e.action == "preflight.checked"]
    assert checked[-1].result["not_in_wecom"] == [GHOST]
    assert stats(corp)["write_calls"] == {}


def test_check_members_refuses_a_successor_who_is_not_a_member(corp: Any, layoff: Any) -> None:
    run = layoff(persons=persons({**SUCCESSORS, "u000007": "nobody"}))

    with pytest.raises(
        AirflowFailException,
        match=r"persons\[\]\.successor_userid: nobody is not a member of the corp",
    ):
        run.check_members()
    assert "preflight.checked" not in run.actions()


def test_check_members_refuses_a_successor_who_is_not_active(corp: Any, layoff: Any) -> None:
    Contacts(WeComClient(corp.corpid, corp.secret, base_url=corp.base_url)).disable_user(HEIR_B)
    run = layoff()

    with pytest.raises(
        AirflowFailException, match=rf"persons\[\]\.successor_userid: {HEIR_B} is disabled, not active"
    ):
        run.check_members()
    assert "preflight.checked" not in run.actions()


# -- plan ---------------------------------------------------------------------------------------------


def test_the_plan_cuts_the_list_in_batches_of_one_successor_each(corp: Any, layoff: Any) -> None:
    run = layoff()

    batches = run.plan()

    assert [b["label"] for b in batches] == [
        f"batch 1/3 (members 1–200) → {HEIR_A}",
        f"batch 2/3 (members 201–220) → {HEIR_A}",
        f"batch 3/3 (members 221–331) → {HEIR_B}",
    ]
    assert [b["successor"] for b in batches] == [HEIR_A, HEIR_A, HEIR_B]
    assert [run.members_of(b) for b in batches] == [OF_A[:200], OF_A[200:], OF_B]
    summary = run.ti.xcom_pull(task_ids=PLAN_TASK_ID, key=PLAN_SUMMARY_KEY)
    assert (summary["members"], summary["batches"], summary["to_delete"]) == (331, 3, 331)
    assert summary["kept"] == {} and summary["leader_batches"] == 0
    planned = [e for e in run.ledger.entries() if e.action == "members.planned"]
    assert len(planned) == 1 and planned[0].request == {"list_id": LIST_ID, "successors": 2}
    # Made once: a rerun returns the saved plan, and records nothing new.
    assert run.plan() == batches
    assert run.actions().count("members.planned") == 1
    assert stats(corp)["write_calls"] == {}  # planning writes nothing to WeCom


# -- a batch ------------------------------------------------------------------------------------------


def test_a_batch_is_backed_up_handed_to_its_successor_and_deleted(corp: Any, layoff: Any) -> None:
    run = layoff()
    batch = run.plan()[2]  # u000500's persons, ghost01 among them
    run.approve()
    members = run.members_of(batch)
    corp.control.reset_stats()

    result = run.batch(batch)

    assert (result["offboarded"], result["already_gone"], result["items_not_handed_over"]) == (110, 1, 0)
    assert run.progress(batch).outcome(GHOST) == "already_gone"
    # The backup part: a manifest that verifies, every known person's profile and customers in it.
    folder = f"members/{batch['batch_id']}/backup-1"
    manifest = BackupManifest.from_json(run.store.read_bytes(CASE_ID, f"{folder}/manifest.json"))
    assert verify(run.store, manifest).ok
    profiles = run.store.read_bytes(CASE_ID, f"{folder}/profiles.jsonl").decode().splitlines()
    assert [json.loads(line)["userid"] for line in profiles] == [m for m in members if m != GHOST]
    customers = run.store.read_bytes(CASE_ID, f"{folder}/customers.jsonl").decode().splitlines()
    assert len(customers) == 3 * 110
    # Customers and groups went to this batch's successor, nobody else; each person deleted once.
    heirs = customers_handed_over(corp)
    assert set(heirs) == set(members) - {GHOST}
    assert all(h == {HEIR_B} for h in heirs.values()), heirs
    assert f"wr_{members[0]}" in corp.control.user(HEIR_B)["groups"]
    assert deletions(corp) == Counter(m for m in members if m != GHOST)
    assert calls(corp, "user/batchdelete") == 1
    # Nobody else was touched: not the other successor's persons, not the unlisted members.
    assert corp.control.user(OF_A[0])["deleted"] is False
    assert corp.control.user("u000600")["deleted"] is False
    # The evidence: the verified part, the deletion with the approval, the batch summary.
    actions = run.actions()
    assert actions[-3:] == ["backup.batch_verified", "members.deleted", "handover.member_batch"]
    deleted = next(e for e in run.ledger.entries() if e.action == "members.deleted")
    assert deleted.request["approved_by"] == "approver"
    assert sorted(deleted.result["deleted"]) == sorted(m for m in members if m != GHOST)
    assert "deadline.reached" in actions  # the last working day, checked by the batch itself


def test_the_batch_evidence_names_the_successor_who_received_the_customers(corp: Any, layoff: Any) -> None:
    """The ledger's ``handover.member_batch`` entry says who inherited the batch's customers and groups."""
    run = layoff()
    batch = run.plan()[1]
    run.approve()

    run.batch(batch)

    handover = next(e for e in run.ledger.entries() if e.action == "handover.member_batch")
    assert handover.request["successor"] == HEIR_A, handover.request


def test_every_listed_person_is_offboarded_once_and_nobody_else(corp: Any, layoff: Any) -> None:
    run = layoff()
    assert run.check_members()["not_in_wecom"] == [GHOST]
    batches = run.plan()
    run.approve()

    results = [run.batch(batch) for batch in batches]
    summary = run.summarise()

    assert [r["offboarded"] for r in results] == [200, 20, 110]
    assert deletions(corp) == Counter(KNOWN)  # every known listed person, exactly once
    heirs = customers_handed_over(corp)
    assert {person: heir for person, (heir,) in heirs.items()} == {u: SUCCESSORS[u] for u in KNOWN}
    for userid in sorted(UNLISTED):
        assert corp.control.user(userid)["deleted"] is False, userid
    assert corp.control.state()["members"]["active"] == len(UNLISTED) == 273
    # The summary: every listed person offboarded (ghost01 already gone), none left in WeCom.
    assert summary["members"] == 331
    assert (summary["offboarded"], summary["already_gone"], summary["kept"]) == (330, 1, 0)
    assert summary["unexpected_members_left"] == [] and summary["unexpected_members_left_count"] == 0
    assert summary["members_left_in_wecom"] == len(UNLISTED)
    assert summary["done"] == "331 of 331 members offboarded"
    rows = list(
        csv.DictReader(io.StringIO(run.store.read_bytes(CASE_ID, OUTCOMES_CSV_PATH).decode("utf-8-sig")))
    )
    assert [row["userid"] for row in rows] == OF_A + OF_B
    assert Counter(row["outcome"] for row in rows) == {"offboarded": 330, "already_gone": 1}
    assert verify(run.store, load_manifest(run.store, CASE_ID)).ok
    summarised = [e for e in run.ledger.entries() if e.action == "members.summarised"]
    assert summarised[-1].result["offboarded"] == 330


def test_the_summary_of_a_dry_run_names_the_listed_persons_wecom_still_lists(corp: Any, layoff: Any) -> None:
    """A dry run deletes nobody: the summary reads WeCom back and names every listed person still there,
    and none of the members who were never on the list."""
    run = layoff(dry_run=True)
    batches = run.plan()
    run.approve()
    for batch in batches:
        run.batch(batch)

    summary = run.summarise()

    assert summary["unexpected_members_left_count"] == len(KNOWN)
    assert summary["unexpected_members_left"] == KNOWN[:20]
    assert summary["members_left_in_wecom"] == len(SEEDED)
    assert stats(corp)["write_calls"] == {}


# -- what a batch refuses -------------------------------------------------------------------------------


def test_a_batch_refuses_to_start_without_an_approval(corp: Any, layoff: Any) -> None:
    run = layoff()
    batch = run.plan()[0]

    with pytest.raises(AirflowFailException, match="the deletion is not approved in the ledger"):
        run.batch(batch)
    run.approve(chosen="Reject")
    with pytest.raises(AirflowFailException, match="the deletion is rejected"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    assert not run.store.exists(CASE_ID, progress_path(batch["batch_id"]))


def test_a_batch_refuses_before_the_last_working_day_has_ended(corp: Any, layoff: Any) -> None:
    run = layoff(last_working_day=china_today().isoformat())  # today: not over yet, in real time
    batch = run.plan()[0]
    run.approve()

    with pytest.raises(
        AirflowFailException, match=r"removing members is refused: the last working day ends .* now"
    ):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    assert not run.store.exists(CASE_ID, progress_path(batch["batch_id"]))
    assert "deadline.reached" not in run.actions()


@pytest.mark.parametrize(
    ("approver", "why"),
    [
        ("u000001", r"u000001 is a departing person \(persons\[0\]\)"),
        (HEIR_A, rf"{HEIR_A} is a successor \(persons\[0\]\.successor_userid\)"),
    ],
    ids=["a listed person", "a successor"],
)
def test_a_batch_refuses_an_approval_by_a_listed_person_or_a_successor(
    corp: Any,
    layoff: Any,
    case_controls: Any,
    monkeypatch: pytest.MonkeyPatch,
    approver: str,
    why: str,
) -> None:
    """On the deployment's approver list, they still may not approve this list: named in the form, the
    form itself is refused; named by a correction accepted after the plan, their approval does not count."""
    monkeypatch.setenv("AIRFLOW_VAR_OFFBOARDING_APPROVERS", json.dumps(["approver", "ops", approver]))
    run = layoff()
    batch = run.plan()[0]

    named_in_the_form = layoff(approvers=[approver])
    with pytest.raises(AirflowFailException, match=rf"the trigger form is invalid: approvers: {why}"):
        named_in_the_form.batch(batch)

    case_controls.correct(CASE_ID, approvers=[approver])
    with pytest.raises(AirflowFailException, match=why):
        run.approve(
            by=approver, assigned=(approver,)
        )  # Airflow records it; the approval task does not count it
    assert run.actions()[-1] == "approval.not_counted"
    with pytest.raises(AirflowFailException, match=rf"removing members is refused .*{why}"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    assert not run.store.exists(CASE_ID, progress_path(batch["batch_id"]))


def test_a_batch_refuses_a_plan_with_a_member_who_is_not_on_the_list(corp: Any, layoff: Any) -> None:
    run = layoff()
    batch = run.plan()[2]
    run.approve()

    def add_unlisted(data: dict[str, Any]) -> None:
        data["batches"][2]["members"].append("u000590")
        data["batches"][2]["last"] += 1

    tamper_plan(run, add_unlisted)

    with pytest.raises(AirflowFailException, match="u000590 is in the member plan but not on the list"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    assert corp.control.user("u000590")["deleted"] is False


def test_a_plan_that_leaves_a_listed_person_out_is_refused_before_the_case_closes(
    corp: Any, layoff: Any
) -> None:
    """plan.json is a file in the case folder: a person taken out of it must not end the case as if done
    (they would stay in WeCom); the form (Airflow's record) says who is on the list."""
    run = layoff()
    batches = run.plan()
    run.approve()
    left_out = run.members_of(batches[1])[-1]

    def take_out(data: dict[str, Any]) -> None:
        data["batches"][1]["members"].remove(left_out)
        data["batches"][1]["last"] -= 1

    tamper_plan(run, take_out)

    with pytest.raises(
        AirflowFailException, match=rf"does not match the list \(persons\): not planned: {left_out}"
    ):
        run.plan()  # a rerun of the planning task
    for batch in batches:
        run.batch(batch)
    with pytest.raises(AirflowFailException, match=rf"not planned: {left_out}"):
        run.summarise()
    assert corp.control.user(left_out)["deleted"] is False


def test_a_batch_refuses_a_plan_mixing_the_successors_of_the_form(corp: Any, layoff: Any) -> None:
    run = layoff()
    batches = run.plan()
    run.approve()

    def move_a_person(data: dict[str, Any]) -> None:
        moved = data["batches"][0]["members"].pop()  # one of admin01's persons ...
        data["batches"][2]["members"].insert(0, moved)  # ... into u000500's batch

    tamper_plan(run, move_a_person)

    with pytest.raises(
        AirflowFailException, match=rf"its persons have successors {HEIR_A}, {HEIR_B} in the form"
    ):
        run.batch(batches[2])
    assert stats(corp)["write_calls"] == {}


def test_the_successor_comes_from_the_form_not_from_the_batchs_xcom(corp: Any, layoff: Any) -> None:
    """A batch's XCom rewritten over REST to hand admin01's persons to admin02: the form decides."""
    run = layoff()
    batch = run.plan()[1]
    run.approve()
    members = run.members_of(batch)

    result = run.batch({**batch, "successor": "admin02", "label": "batch 2/3 (members 201–220) → admin02"})

    assert result["offboarded"] == len(members) == 20
    heirs = customers_handed_over(corp)
    assert set(heirs) == set(members)
    assert all(h == {HEIR_A} for h in heirs.values()), heirs
    assert corp.control.user("admin02")["customers"] == []


def test_a_batch_retried_after_a_crash_redoes_only_what_is_left(corp: Any, layoff: Any) -> None:
    run = layoff()
    run.check_members()  # as in the DAG: WeCom was read before the batches
    batch = run.plan()[0]
    run.approve()
    members = run.members_of(batch)
    corp.control.reset_stats()
    handed_over: list[str] = []

    def crash_at_person_70(userid: str, step: str) -> None:
        if step == "customers":
            handed_over.append(userid)
            if len(handed_over) == 70:
                raise SimulatedCrash(f"worker died after {userid}")

    with pytest.raises(SimulatedCrash):
        run.batch(batch, after_member_step=crash_at_person_70)
    assert calls(corp, "externalcontact/transfer_customer") == 70
    assert deletions(corp) == Counter()

    result = run.batch(batch)  # the retry

    assert result["offboarded"] == len(members) == 200
    # Not backed up again, no customer sent twice, every person deleted exactly once, to their successor.
    assert calls(corp, "user/get") == 200
    assert calls(corp, "externalcontact/transfer_customer") == 200
    assert deletions(corp) == Counter(members)
    assert result["backup_parts"] == 1
    assert all(h == {HEIR_A} for h in customers_handed_over(corp).values())


def test_a_dry_run_batch_backs_up_but_sends_no_write(corp: Any, layoff: Any) -> None:
    run = layoff(dry_run=True)
    batch = run.plan()[2]
    run.approve()

    result = run.batch(batch)

    assert stats(corp)["write_calls"] == {}
    assert corp.control.user(run.members_of(batch)[0])["deleted"] is False
    assert result["backup_parts"] == 1
    actions = set(run.actions())
    assert "members.delete_planned" in actions and "members.deleted" not in actions
