"""A company batch through the core steps — plan, verified backup, handover, deletion, resigned transfer —
on a list of several members, with each member's progress saved, against the sandbox, without Airflow."""

from __future__ import annotations

from typing import Any

import pytest

from offboarding.steps.batch_handover import (
    groups_handed_over,
    hand_over_customers,
    hand_over_groups,
    transfer_resigned,
)
from offboarding.steps.batches import make_plan
from offboarding.steps.deleting import delete_members
from offboarding.steps.errors import StepFailed
from offboarding.steps.member_backup import back_up_members, part_folder, read_holdings
from offboarding.steps.outcomes import china_today
from offboarding.steps.progress import OFFBOARDED, BatchProgress

CASE = "dissolve-91350100M000100Y43"
MEMBERS = ["lisi", "bigsales", "Lin..Feng@corp.cn", "resigned01"]


def test_plan_puts_admins_and_kept_members_last() -> None:
    plan = make_plan(
        ["zhangsan", "lisi", "wangwu", "bigsales", "zhaoliu"],
        admins=["zhangsan"],
        kept={"wangwu": "successor"},
        batch_size=2,
    )

    assert [list(m) for _, m in plan.batches] == [["lisi", "bigsales"], ["zhaoliu"], ["zhangsan", "wangwu"]]
    assert [b.leaders for b, _ in plan.batches] == [False, False, True]
    assert plan.summary()["to_delete"] == 4
    with pytest.raises(ValueError, match="nobody"):
        make_plan(["lisi"], admins=[], kept={"nobody": "successor"})


def test_a_batch_of_several_members_end_to_end(corp: Any, store: Any, calls: Any) -> None:
    progress = BatchProgress(store, CASE, "batch-0001", MEMBERS)
    folder = part_folder("batch-0001", 1)

    backup = back_up_members(
        corp, store, CASE, folder, MEMBERS, subject="members of batch 1/1", retention_days=30
    )

    assert backup.backed_up == ["lisi", "bigsales", "Lin..Feng@corp.cn"]
    assert backup.gone == ["resigned01"]
    assert (backup.customers, backup.groups) == (12 + 250 + 3, 3 + 120 + 1)
    holdings = read_holdings(store, CASE, [folder])
    active = backup.backed_up
    for userid in active:
        progress.record(userid)["backup"] = "verified"
    progress.record("resigned01")["backup"] = "gone"

    day = china_today()
    assert hand_over_customers(corp, progress, active, "wangwu", holdings) == 3
    assert hand_over_groups(corp, progress, active, "wangwu", holdings, day) == 2  # 124 groups, 100 per call
    lisi = progress.record("lisi")
    assert lisi["customers"]["failed"]["wm_lisi_011"]["errcode"] == 40128  # kept with WeCom's answer
    assert lisi["customers"]["started"] == 11
    assert progress.record("bigsales")["groups"]["started"] == 120

    deletion = delete_members(corp, progress, active)
    assert sorted(deletion["deleted"]) == sorted(active)
    assert calls("user/batchdelete") == 1

    transfer_resigned(corp, progress, active, "wangwu", day)

    assert progress.counts()[OFFBOARDED] == 3
    assert progress.counts()["already_gone"] == 1
    failures = {(f["member"], f["item"]) for f in progress.item_failures()}
    resigned = lisi["resigned"]
    assert set(resigned["failed"]) | {c for c in resigned["deferred"]} == {
        i for m, i in failures if m == "lisi"
    }
    assert len(groups_handed_over(progress.record("bigsales"))) == 120

    # A retry of the whole batch redoes nothing: every step reads the saved progress first.
    saved = BatchProgress.load(store, CASE, "batch-0001", MEMBERS)
    before = sum(
        calls(p) for p in ("externalcontact/transfer_customer", "externalcontact/groupchat/onjob_transfer")
    )
    assert hand_over_customers(corp, saved, active, "wangwu", holdings) == 0
    assert hand_over_groups(corp, saved, active, "wangwu", holdings, day) == 0
    assert delete_members(corp, saved, active)["call"] is None
    after = sum(
        calls(p) for p in ("externalcontact/transfer_customer", "externalcontact/groupchat/onjob_transfer")
    )
    assert after == before


def test_a_backup_that_does_not_read_back_is_a_step_failure(corp: Any, tmp_path: Any) -> None:
    """A storage that does not keep what is written (the profiles file changes after writing): the step
    fails with what to do, before anyone could be deleted."""
    from offboarding.backup.storage import BackupStore

    class ForgetfulStore(BackupStore):
        def write_stream(self, case_id: str, relpath: str, chunks: Any, **kwargs: Any) -> Any:
            entry = super().write_stream(case_id, relpath, chunks, **kwargs)
            if relpath.endswith("profiles.jsonl"):
                super().write_stream(case_id, relpath, [b"not what was written\n"], **kwargs)
            return entry

    store = ForgetfulStore(str(tmp_path / "forgetful"))
    with pytest.raises(StepFailed, match="nobody was deleted"):
        back_up_members(
            corp, store, CASE, part_folder("batch-0001", 1), ["lisi"], subject="s", retention_days=30
        )
