"""Offboarding every member of a corp in batches, against a WeCom sandbox seeded with 2,000 members.

The tasks of ``offboard_all_members`` are run by calling ``execute(context)`` (not through Airflow), one
batch after the other, against a dedicated sandbox (seed ``members:2000``: members ``u000001`` …
``u002000`` with 3 customers and one customer group each, plus ``zhangsan`` (creator, admin),
``admin01`` and ``admin02`` (admins)). What happened is read back from the sandbox's control API
(``/sandbox/users``, ``/sandbox/stats``, ``/sandbox/state``) and from the backup folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from offboarding.backup.manifest import BackupManifest, load_manifest
from offboarding.backup.roots import resolve_backup_root
from offboarding.backup.storage import BackupStore
from offboarding.backup.verification import verify
from offboarding.cases import company_case_id
from offboarding.evidence.keys import key_from_environment
from offboarding.evidence.ledger import LEDGER_PATH, EvidenceLedger
from offboarding.operators.company_member_summary import OUTCOMES_CSV_PATH, SummariseMemberOffboardingOperator
from offboarding.operators.company_members import (
    BATCH_TASK_ID,
    LEADERS,
    PLAN_SUMMARY_KEY,
    PLAN_TASK_ID,
    OffboardMemberBatchOperator,
    PlanMemberBatchesOperator,
)
from offboarding.operators.deadlines import PUBLICATION_STEP
from offboarding.steps.batch_handover import groups_handed_over
from offboarding.steps.batches import (
    BATCH_SIZE,
    PLAN_PATH,
    WECOM_CALLS_PER_MINUTE_PER_API,
    calls_per_second_share,
    load_plan,
)
from offboarding.steps.outcomes import china_today
from offboarding.steps.progress import BatchProgress, progress_path
from offboarding.wecom import Contacts, WeComClient
from offboarding_dev.sandbox.testing import running_sandbox

MEMBERS = 2000
SEED = f"members:{MEMBERS}"
CASE_ID = "dissolve-91350100M000100Y43"
ADMINS = ["zhangsan", "admin01", "admin02"]
BATCHDELETE = "/cgi-bin/user/batchdelete"
USER_DELETE = "/cgi-bin/user/delete"


class SimulatedCrash(Exception):
    """Stands for the worker process dying in the middle of a batch."""


@pytest.fixture(scope="module")
def corp_server() -> Iterator[Any]:
    with running_sandbox(seed=SEED) as sandbox:
        yield sandbox


@pytest.fixture
def corp(corp_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh 2,000-member corp; ``wecom_default`` points at it and names its admins."""
    corp_server.control.reset(seed=SEED)
    conn = {
        "conn_type": "wecom",
        "host": corp_server.base_url,
        "login": corp_server.corpid,
        "password": corp_server.secret,
        "extra": {
            "contact_secret": corp_server.secret,
            "customer_secret": corp_server.secret,
            "agent_id": corp_server.agent_id,
            "admin_userids": ADMINS,
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    return corp_server


class CompanyRun:
    """Runs the member tasks of one company case the way the DAG would, sharing one XCom store."""

    def __init__(self, params: dict[str, Any], make_context: Any, approvals: Any) -> None:
        self.params = params
        self.make_context = make_context
        self.approvals = approvals
        self.ti: Any = None
        self.store = BackupStore(resolve_backup_root(params["backup_target"]).url)
        self.case_id = company_case_id(params)  # dryrun-dissolve-... for a dry run
        self.ledger = EvidenceLedger(self.store, self.case_id, key=key_from_environment())

    def context(self, task_id: str) -> dict[str, Any]:
        context = self.make_context(self.params, task_id=task_id, run_id=self.case_id, ti=self.ti)
        self.ti = context["ti"]
        return context

    def publish_notice(self, published_on: str = "2026-01-05") -> None:
        """What the notice's human step records: a publication whose notice period is long over (the
        batches check it themselves, see offboarding.operators.deadlines)."""
        self.ledger.append(
            "human_step.answered",
            actor="legal",
            step=PUBLICATION_STEP,
            result={"evidence": {"published_on": published_on}, "responded_at": "2026-01-05T10:00:00+08:00"},
        )

    def plan(self) -> list[dict[str, Any]]:
        self.publish_notice()  # in the DAG the notice period ends before the plan
        return PlanMemberBatchesOperator(task_id="plan_member_batches").execute(self.context(PLAN_TASK_ID))

    def approve(self, action: str = "approval.approved", **kwargs: Any) -> None:
        """The approver answers in Airflow: Airflow's record and the ledger entry ApproveDeletionOperator writes."""
        chosen = "Approve" if action == "approval.approved" else "Reject"
        self.approvals.approve(self.params, chosen=chosen, run_id=self.case_id, **kwargs)

    def leader_batch(self) -> dict[str, Any]:
        plan = load_plan(self.store, self.case_id)
        assert plan is not None
        return plan.leader_batches[0].to_xcom()

    def batch(self, batch: dict[str, Any] | str, **kwargs: Any) -> dict[str, Any]:
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


@pytest.fixture
def company(tmp_path: Any, make_context: Any, airflow_approvals: Any) -> Any:
    """``company(**overrides)`` -> a CompanyRun for a valid company case backing up under ``tmp_path``."""

    def build(**overrides: Any) -> CompanyRun:
        params = {
            "company_name": "示例科技有限公司",
            "credit_code": "91350100M000100Y43",
            "procedure": "general",
            "legal_representative": "legal",
            "finance_owner": "finance",
            "approvers": ["approver"],
            "successor_userid": "admin01",
            "admin_userid": "admin02",
            "deregister_admin_account": False,
            "backup_target": "test",
            "notify": {"webhook_conn_id": None, "userids": []},
            "wecom_conn_id": "wecom_default",
            "dry_run": False,
            "time_scale": 1,
        }
        params.update(overrides)
        return CompanyRun(params, make_context, airflow_approvals)

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


def calls(sandbox: Any, path: str) -> int:
    return int(stats(sandbox)["calls"].get(f"/cgi-bin/{path}", 0))


# -- planning -----------------------------------------------------------------------------------------


def test_plan_lists_every_member_once_and_puts_the_leaders_last(corp: Any, company: Any) -> None:
    run = company()
    batches = run.plan()

    regular = math.ceil(MEMBERS / BATCH_SIZE)
    assert [b["batch_id"] for b in batches] == [f"batch-{n:04d}" for n in range(1, regular + 1)]
    assert batches[6]["label"] == "batch 7/10 (members 1201–1400)"
    plan = load_plan(run.store, CASE_ID)
    assert plan is not None
    order = [m for _, members in plan.batches for m in members]
    assert len(order) == len(set(order)) == MEMBERS + len(ADMINS)
    # Everyone else first; then the admins to delete; then the kept successor and admin.
    assert order[-3:] == ["zhangsan", "admin01", "admin02"]
    assert all(m.startswith("u") for m in order[:-3])
    assert [b.label for b in plan.leader_batches] == [f"leaders 1/1 (members {MEMBERS + 1}–{MEMBERS + 3})"]
    assert plan.kept.keys() == {"admin01", "admin02"}
    summary = run.ti.xcom_pull(task_ids=PLAN_TASK_ID, key=PLAN_SUMMARY_KEY)
    assert summary["members"] == MEMBERS + 3
    assert summary["batches"] == regular
    assert summary["to_delete"] == MEMBERS + 1
    assert summary["admins_deleted_last"] == ["zhangsan"]
    assert [e.action for e in run.ledger.entries() if e.step != PUBLICATION_STEP] == ["members.planned"]
    # Planning only reads.
    assert stats(corp)["write_calls"] == {}


def test_plan_is_made_once_so_batches_never_shift(corp: Any, company: Any) -> None:
    run = company()
    first = run.plan()
    # A member disappears from WeCom after planning (e.g. deleted by hand in the admin console).
    Contacts(WeComClient(corp.corpid, corp.secret, base_url=corp.base_url)).delete_user("u000005")

    assert run.plan() == first
    assert "u000005" in run.members_of(first[0])
    run.approve()
    result = run.batch(first[0])
    assert result["already_gone"] == 1 and result["offboarded"] == BATCH_SIZE - 1
    assert run.progress(first[0]).outcome("u000005") == "already_gone"


def test_plan_refuses_a_successor_who_is_not_a_member(corp: Any, company: Any) -> None:
    run = company(successor_userid="nobody")

    with pytest.raises(AirflowFailException, match="successor_userid: nobody is not a member"):
        run.plan()
    assert not run.store.exists(CASE_ID, PLAN_PATH)


# -- one batch ----------------------------------------------------------------------------------------


def test_a_batch_is_backed_up_handed_over_and_deleted(corp: Any, company: Any) -> None:
    run = company()
    batch = run.plan()[0]
    run.approve()
    members = run.members_of(batch)
    corp.control.reset_stats()

    result = run.batch(batch)

    assert result["offboarded"] == len(members) == BATCH_SIZE
    assert result["items_not_handed_over"] == 0
    # The backup part: three files, a manifest that still verifies, every member in it.
    manifest = BackupManifest.from_json(
        run.store.read_bytes(CASE_ID, "members/batch-0001/backup-1/manifest.json")
    )
    assert verify(run.store, manifest).ok
    profiles = (
        run.store.read_bytes(CASE_ID, "members/batch-0001/backup-1/profiles.jsonl").decode().splitlines()
    )
    assert [json.loads(line)["userid"] for line in profiles] == members
    customers = run.store.read_bytes(CASE_ID, "members/batch-0001/backup-1/customers.jsonl").decode()
    assert len(customers.splitlines()) == 3 * BATCH_SIZE
    # Customers and groups went to the successor; every member was deleted exactly once, in one call.
    state = corp.control.state()
    assert state["transfers"]["waiting"] == 3 * BATCH_SIZE
    member = corp.control.user(members[0])
    assert member["deleted"] is True
    assert deletions(corp) == Counter(members)
    assert calls(corp, "user/batchdelete") == 1
    assert calls(corp, "externalcontact/transfer_customer") == BATCH_SIZE
    assert calls(corp, "externalcontact/groupchat/onjob_transfer") == BATCH_SIZE // 100
    # The evidence: the verified part, the deletion with the approval, the batch summary.
    actions = [e.action for e in run.ledger.entries()]
    assert actions[-3:] == ["backup.batch_verified", "members.deleted", "handover.member_batch"]
    deleted = next(e for e in run.ledger.entries() if e.action == "members.deleted")
    assert deleted.request["approved_by"] == "approver"
    assert sorted(deleted.result["deleted"]) == sorted(members)


def test_a_batch_refuses_to_start_without_an_approval(corp: Any, company: Any) -> None:
    run = company()
    batch = run.plan()[0]

    with pytest.raises(AirflowFailException, match="the deletion is not approved in the ledger"):
        run.batch(batch)
    run.approve("approval.rejected")
    with pytest.raises(AirflowFailException, match="rejected"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    assert not run.store.exists(CASE_ID, progress_path(batch["batch_id"]))


def test_a_batch_refuses_to_delete_when_the_evidence_ledger_is_broken(corp: Any, company: Any) -> None:
    """Like the person deletion, the company's member deletion checks the ledger's chain first."""
    run = company()
    batch = run.plan()[0]
    run.approve("approval.rejected")
    ledger_file = run.store.local_path(CASE_ID, LEDGER_PATH)
    assert ledger_file is not None
    forged = ledger_file.read_text(encoding="utf-8").replace("approval.rejected", "approval.approved")
    ledger_file.write_text(forged, encoding="utf-8")

    with pytest.raises(AirflowFailException, match=r"removing members is refused: .* is BROKEN at seq"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    assert not run.store.exists(CASE_ID, progress_path(batch["batch_id"]))


def test_a_batch_refuses_an_approval_airflow_did_not_record(corp: Any, company: Any) -> None:
    """An ``approval.approved`` appended to the ledger by hand: Airflow has no such answer."""
    run = company()
    batch = run.plan()[0]
    run.approve(in_airflow=False)
    with pytest.raises(AirflowFailException, match="no human-in-the-loop record of approve_member_deletion"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}


def test_the_legal_representative_may_not_approve_the_member_deletion(corp: Any, company: Any) -> None:
    """Listed beside another approver, the legal representative is not assigned and does not count."""
    run = company(approvers=["legal", "approver"])
    batch = run.plan()[0]
    with pytest.raises(AirflowFailException, match="legal is not one of the case's assigned approvers"):
        run.approve(by="legal")
    with pytest.raises(AirflowFailException, match="the deletion is not approved in the ledger"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    run.approve(by="approver")
    assert run.batch(batch)["offboarded"] > 0


def test_a_batch_retried_after_a_crash_redoes_only_what_is_left(corp: Any, company: Any) -> None:
    run = company()
    batch = run.plan()[1]
    run.approve()
    members = run.members_of(batch)
    corp.control.reset_stats()
    handed_over: list[str] = []

    def crash_at_member_70(userid: str, step: str) -> None:
        if step == "customers":
            handed_over.append(userid)
            if len(handed_over) == 70:
                raise SimulatedCrash(f"worker died after {userid}")

    with pytest.raises(SimulatedCrash):
        run.batch(batch, after_member_step=crash_at_member_70)
    assert calls(corp, "externalcontact/transfer_customer") == 70
    assert deletions(corp) == Counter()

    result = run.batch(batch)  # the retry

    assert result["offboarded"] == BATCH_SIZE
    # Not backed up again, no customer sent twice, every member deleted exactly once.
    assert calls(corp, "user/get") == BATCH_SIZE
    assert calls(corp, "externalcontact/transfer_customer") == BATCH_SIZE
    assert deletions(corp) == Counter(members)
    assert result["backup_parts"] == 1


def test_members_wecom_refuses_to_read_are_not_deleted_until_backed_up(corp: Any, company: Any) -> None:
    run = company()
    batch = run.plan()[3]
    run.approve()
    members = run.members_of(batch)
    corp.control.set_faults(errcodes={"40035": 0.05}, paths=["/cgi-bin/user/get"], seed=3)

    with pytest.raises(AirflowFailException, match=r"member\(s\) could not be offboarded") as failed:
        run.batch(batch)

    progress = run.progress(batch)
    refused = [m for m in members if progress.outcome(m) == "backup_failed"]
    assert refused and refused[0] in str(failed.value)
    assert all(corp.control.user(m)["deleted"] is False for m in refused)
    assert all(progress.record(m).get("customers") is None for m in refused)  # nothing handed over
    assert deletions(corp) == Counter(m for m in members if m not in refused)

    corp.control.clear_faults()  # the ops engineer fixed what WeCom refused
    result = run.batch(batch)

    assert result["offboarded"] == BATCH_SIZE and result["backup_parts"] == 2
    part2 = run.store.read_bytes(CASE_ID, f"members/{batch['batch_id']}/backup-2/profiles.jsonl").decode()
    assert [json.loads(line)["userid"] for line in part2.splitlines()] == refused
    assert deletions(corp) == Counter(members)


def test_a_deletion_interrupted_after_the_call_is_not_sent_again(corp: Any, company: Any) -> None:
    run = company()
    batch = run.plan()[0]
    run.approve()
    members = run.members_of(batch)
    wecom = Contacts(WeComClient(corp.corpid, corp.secret, base_url=corp.base_url))

    def die_after_the_call(userid: str, step: str) -> None:
        if step == "deletion_requested":
            wecom.batch_delete(run.progress(batch).pending_deletion)  # the call went out ...
            raise SimulatedCrash("... and the worker died before saving WeCom's answer")

    with pytest.raises(SimulatedCrash):
        run.batch(batch, after_member_step=die_after_the_call)
    assert run.progress(batch).pending_deletion == members

    result = run.batch(batch)

    assert result["offboarded"] == BATCH_SIZE
    assert calls(corp, "user/batchdelete") == 1  # the retry read WeCom first and found them gone
    assert deletions(corp) == Counter(members)
    assert run.progress(batch).pending_deletion == []


def test_a_lost_answer_to_the_deletion_still_deletes_each_member_once(corp: Any, company: Any) -> None:
    run = company()
    batch = run.plan()[2]
    run.approve()
    members = run.members_of(batch)
    corp.control.set_faults(apply_then_fail=1.0, paths=[BATCHDELETE], seed=7)

    result = run.batch(batch)

    assert result["offboarded"] == BATCH_SIZE
    assert deletions(corp) == Counter(members)
    assert {run.progress(batch).record(m)["deleted"] for m in members} <= {"deleted", "already_gone"}
    assert stats(corp)["injected_faults"] >= 1  # the answer really was lost


def test_the_creator_is_kept_and_the_kept_members_are_not_deleted(corp: Any, company: Any) -> None:
    run = company()
    run.plan()
    run.approve()

    result = run.batch(LEADERS)

    assert result["kept"] == 3 and result["offboarded"] == 0
    leaders = run.leader_batch()
    progress = BatchProgress.load(run.store, CASE_ID, leaders["batch_id"], run.members_of(leaders))
    assert progress.record("zhangsan")["kept"].startswith("creator (301005)")
    assert progress.record("admin01")["kept"].startswith("successor")
    assert progress.record("admin02")["kept"].startswith("admin")
    assert deletions(corp) == Counter()
    assert stats(corp)["errors"].get("301005", 0) >= 1


def test_the_leaders_do_not_read_again_the_groups_the_batches_handed_over(corp: Any, company: Any) -> None:
    run = company()
    batches = run.plan()
    run.approve()
    for batch in batches[:2]:
        run.batch(batch)
    corp.control.reset_stats()

    result = run.batch(LEADERS)

    # The successor (admin01) now owns the 400 groups of the two batches: listed (one page), not read
    # again; the creator alone is sent to user/delete once (no user/batchdelete refused first).
    assert result["kept"] == 3
    assert calls(corp, "externalcontact/groupchat/list") == 1
    assert calls(corp, "externalcontact/groupchat/get") == 0
    assert calls(corp, "user/delete") == 1 and calls(corp, "user/batchdelete") == 0
    assert stats(corp)["errors"] == {"301005": 1}
    # Each group is listed with the verified backup that holds it, and is in that backup.
    leaders = run.leader_batch()
    lines = run.store.read_bytes(CASE_ID, f"members/{leaders['batch_id']}/backup-1/groups.jsonl").decode()
    references = [json.loads(line) for line in lines.splitlines()]
    assert len(references) == 2 * BATCH_SIZE
    assert {r["member"] for r in references} == {"admin01"}
    for groups_file in {r["backed_up_in"] for r in references}:
        backed_up = run.store.read_bytes(CASE_ID, groups_file).decode().splitlines()
        chats = {json.loads(line)["chat_id"] for line in backed_up}
        assert {r["chat_id"] for r in references if r["backed_up_in"] == groups_file} <= chats
    assert sorted({r["backed_up_in"] for r in references}) == [
        "members/batch-0001/backup-1/groups.jsonl",
        "members/batch-0002/backup-1/groups.jsonl",
    ]
    verified = [e for e in run.ledger.entries() if e.action == "backup.batch_verified"][-1]
    assert verified.result["groups_backed_up_earlier"] == 2 * BATCH_SIZE
    deleted = [e for e in run.ledger.entries() if e.action == "members.deleted"][-1]
    assert deleted.request["call"] == "user/delete"


def test_groups_handed_over_are_those_the_successor_got_on_job_or_after_the_deletion() -> None:
    record = {
        "groups": {
            "items": {
                "wr_on_job": {"outcome": "started"},
                "wr_owned_already": {"outcome": "in_progress"},
                "wr_inherited": {"outcome": "failed", "errcode": 90501},
                "wr_refused_twice": {"outcome": "failed", "errcode": 90501},
                "wr_tomorrow": {"outcome": "deferred"},
            }
        },
        "resigned": {"failed": {"wr_refused_twice": {"errcode": 90501}}, "deferred": ["wr_tomorrow"]},
    }

    assert groups_handed_over(record) == ["wr_on_job", "wr_owned_already", "wr_inherited"]
    assert groups_handed_over({**record, "resigned": None}) == ["wr_on_job", "wr_owned_already"]


def test_a_dry_run_batch_reads_and_backs_up_but_sends_no_write(corp: Any, company: Any) -> None:
    run = company(dry_run=True)
    batch = run.plan()[0]
    run.approve()

    result = run.batch(batch)

    assert stats(corp)["write_calls"] == {}
    assert corp.control.user(run.members_of(batch)[0])["deleted"] is False
    assert result["backup_parts"] == 1  # the backup is real: a dry run shows what would be kept
    planned = [e for e in run.ledger.entries() if e.action == "dry_run.planned"][-1]
    paths = Counter(call["path"] for call in planned.request["calls"])
    assert paths[BATCHDELETE] == 1
    actions = {e.action for e in run.ledger.entries()}
    assert "members.delete_planned" in actions and "members.deleted" not in actions  # bug 9b
    assert paths["/cgi-bin/externalcontact/transfer_customer"] == BATCH_SIZE


def test_parallel_batches_share_wecom_rate_limit() -> None:
    parallel = 4
    rate = calls_per_second_share(parallel)
    # Every process may burst one second's worth, then keeps its rate: within any clock minute the
    # corp stays under WeCom's 10,000 calls per API (45009 beyond).
    assert parallel * (rate * 60 + rate) < WECOM_CALLS_PER_MINUTE_PER_API
    assert calls_per_second_share(1) == parallel * rate


def test_batches_keep_the_deployment_limiter_when_it_is_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from offboarding.steps.batches import share_rate_limit
    from offboarding.wecom.ratelimit import RedisRateLimiter, default_rate_limiter

    clients = {kind: SimpleNamespace(rate_limiter=None) for kind in ("contacts", "customers")}
    hook = SimpleNamespace(client=clients.__getitem__)
    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "redis://127.0.0.1:6379/15")
    # The whole deployment's rate, counted in Redis, not a share of it.
    assert share_rate_limit(hook, 4) == calls_per_second_share(1)
    assert all(isinstance(c.rate_limiter, RedisRateLimiter) for c in clients.values())
    assert clients["contacts"].rate_limiter is default_rate_limiter()
    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "memory://")
    monkeypatch.setenv("OFFBOARDING_WECOM_CONCURRENCY", "8")
    assert share_rate_limit(hook, 4) == calls_per_second_share(8)  # the larger of the two divisors
    assert clients["contacts"].rate_limiter is clients["customers"].rate_limiter


def test_summarise_refuses_while_batches_are_unfinished(corp: Any, company: Any) -> None:
    run = company()
    run.plan()

    with pytest.raises(AirflowFailException, match=rf"{MEMBERS + 3} member\(s\) are not offboarded"):
        run.summarise()


# -- the whole corp -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_member_of_2000_is_offboarded_once_at_the_batching_minimum(corp: Any, company: Any) -> None:
    run = company()
    batches = run.plan()
    run.approve()

    results = [run.batch(batch) for batch in batches]
    leaders = run.batch(LEADERS)
    summary = run.summarise()

    assert sum(r["offboarded"] for r in results) == MEMBERS
    assert leaders["offboarded"] == 0 and leaders["kept"] == 3
    regular = [f"u{n:06d}" for n in range(1, MEMBERS + 1)]
    assert deletions(corp) == Counter(regular)
    # Call counts at the batching minimum: one batchdelete per batch (the leaders' batch has one member
    # to delete, the creator: one user/delete), one customer handover per member, groups 100 a call,
    # customers read 100 members a call, each group read once (the leaders' backup lists the groups
    # the batches handed to the successor by reference to the batches' backups).
    assert calls(corp, "user/batchdelete") == len(batches)
    assert calls(corp, "user/delete") == 1
    assert calls(corp, "externalcontact/groupchat/get") == MEMBERS
    assert calls(corp, "externalcontact/transfer_customer") == MEMBERS
    assert calls(corp, "externalcontact/groupchat/onjob_transfer") == math.ceil(MEMBERS / 100)
    assert calls(corp, "user/get") == MEMBERS + 3 + 1  # every member once, the successor's check once
    per_batch_reads = (BATCH_SIZE // 100) * math.ceil(100 * 3 / 100)
    assert calls(corp, "externalcontact/batch/get_by_user") == len(batches) * per_batch_reads + 1
    assert calls(corp, "externalcontact/resigned/transfer_customer") == 0
    assert stats(corp)["errors"].get("45009", 0) == 0
    # The summary, the per-member results and the whole backup.
    assert summary["offboarded"] == MEMBERS and summary["kept"] == 3
    assert summary["members_left_in_wecom"] == 3 and summary["unexpected_members_left"] == []
    assert (
        summary["done"]
        == f"{MEMBERS} of {MEMBERS + 3} members offboarded, 3 kept until the enterprise is dissolved"
    )
    rows = list(
        csv.DictReader(io.StringIO(run.store.read_bytes(CASE_ID, OUTCOMES_CSV_PATH).decode("utf-8-sig")))
    )
    assert len(rows) == MEMBERS + 3
    assert Counter(row["outcome"] for row in rows) == {"offboarded": MEMBERS, "kept": 3}
    assert verify(run.store, load_manifest(run.store, CASE_ID)).ok
    summarised = [e for e in run.ledger.entries() if e.action == "members.summarised"]
    assert summarised[-1].result["offboarded"] == MEMBERS
    assert corp.control.state()["members"]["active"] == 3


# -- the hand-written company: refusals, daily limits, the creator ------------------------------------


def test_what_wecom_refuses_on_job_is_inherited_after_deletion_or_listed(
    sandbox: Any, company: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default seed: lisi's wm_lisi_011 was transferred twice in 90 days (40128 on-job);
    groupowner owns 305 customer groups, 5 more than one owner may hand to one new owner a day."""
    conn = {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": {
            "contact_secret": sandbox.secret,
            "customer_secret": sandbox.secret,
            "admin_userids": ["zhangsan"],
        },
    }
    monkeypatch.setenv("AIRFLOW_CONN_WECOM_DEFAULT", json.dumps(conn))
    run = company(successor_userid="wangwu", admin_userid="admin01")
    batch = run.plan()[0]
    run.approve()

    result = run.batch(batch)
    run.batch(LEADERS)
    summary = run.summarise()

    lisi = run.progress(batch).record("lisi")
    assert lisi["customers"]["failed"]["wm_lisi_011"]["errcode"] == 40128
    assert lisi["resigned"]["customers_started"] == 1  # inherited after the deletion instead
    assert calls(sandbox, "externalcontact/resigned/transfer_customer") == 1
    groupowner = run.progress(batch).record("groupowner")
    assert groupowner["groups"]["started"] == 300
    assert len(groupowner["resigned"]["deferred"]) == 5  # today's allowance is used up: listed
    assert result["items_not_handed_over"] == 5
    handover = next(e for e in run.ledger.entries() if e.action == "handover.member_batch")
    assert sum(1 for item in handover.result["failed"] if item.get("status") == "deferred") == 5
    assert summary["kept"] == 3  # wangwu (successor), admin01 (admin), zhangsan (creator)
    assert summary["members_left_in_wecom"] == 3 and summary["unexpected_members_left"] == []
    assert summary["items_not_handed_over"] == 5

    # The next day (the calendar day is the one thing that cannot pass here), clearing the batch hands
    # the deferred groups over and touches nothing else.
    tomorrow = china_today() + dt.timedelta(days=1)
    monkeypatch.setattr("offboarding.steps.outcomes.china_today", lambda: tomorrow)
    sandbox.control.reset_stats()
    rerun = run.batch(batch)

    assert rerun["items_not_handed_over"] == 0
    assert run.progress(batch).record("groupowner")["resigned"]["groups_started"] == 5
    assert stats(sandbox)["write_calls"] == {"/cgi-bin/externalcontact/groupchat/transfer": 1}


def approved_first_batch(corp: Any, company: Any, control: Any) -> tuple[CompanyRun, dict[str, Any]]:
    """A planned, approved company case and its first batch, after ``control()`` (a hold or a rescind)
    was recorded; the sandbox's counters start from zero."""
    run = company()
    batch = run.plan()[0]
    run.approve()
    control()
    corp.control.reset_stats()
    return run, batch


def test_a_held_company_defers_its_batch_before_any_write_and_resumes_after_the_release(
    corp: Any, company: Any, case_controls: Any
) -> None:
    from airflow.sdk.exceptions import TaskDeferred

    from offboarding.triggers.case_controls import CaseReleasedTrigger

    run, batch = approved_first_batch(
        corp, company, lambda: case_controls.hold(CASE_ID, reason="tax audit 2026-9", by="legal_wang")
    )

    with pytest.raises(TaskDeferred) as deferred:
        run.batch(batch)
    assert isinstance(deferred.value.trigger, CaseReleasedTrigger)
    assert stats(corp)["write_calls"] == {}
    assert deletions(corp) == Counter()

    case_controls.release(CASE_ID, by="legal_wang")
    result = run.batch(batch)
    assert result["offboarded"] == len(run.members_of(batch)) == BATCH_SIZE
    assert deletions(corp) == Counter(run.members_of(batch))
    actions = [e.action for e in run.ledger.entries()]
    assert actions.index("case.hold") < actions.index("members.deleted")


def test_a_company_rescinded_before_its_first_deletion_stops_the_wind_up(
    corp: Any, company: Any, case_controls: Any
) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    run, batch = approved_first_batch(
        corp,
        company,
        lambda: case_controls.rescind(CASE_ID, reason="the shareholders keep the company", by="ops"),
    )

    with pytest.raises(AirflowSkipException, match="rescinded"):
        run.batch(batch)
    assert stats(corp)["write_calls"] == {}
    assert corp.control.user(run.members_of(batch)[0])["deleted"] is False
