"""The plan of a layoff list (:func:`offboarding.steps.batches.make_list_plan`): batches of one successor
each, in the list's order, saved once in ``members/plan.json`` and handed to the mapped task by XCom."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offboarding.steps.batches import (
    BATCH_SIZE,
    PLAN_PATH,
    MemberBatch,
    MemberPlan,
    load_plan,
    make_list_plan,
    save_plan,
)

CASE = "layoff-2026q4-east"


def interleaved_list() -> dict[str, str]:
    """400 persons in the HR export's order: the odd ones up to p299 go to s0 (150), everyone else to s1
    (250), so the two successors' persons alternate for most of the list."""
    return {f"p{n:03d}": "s0" if n % 2 == 1 and n < 300 else "s1" for n in range(1, 401)}


def members(plan: MemberPlan) -> list[tuple[str, ...]]:
    return [m for _, m in plan.batches]


def test_each_batch_has_one_successor_and_at_most_200_persons() -> None:
    successors = interleaved_list()

    plan = make_list_plan(successors)

    assert [(b.number, b.of, b.successor, len(m)) for b, m in plan.batches] == [
        (1, 3, "s0", 150),
        (2, 3, "s1", 200),
        (3, 3, "s1", 50),
    ]
    for batch, persons in plan.batches:
        assert {successors[p] for p in persons} == {batch.successor}
        assert len(persons) <= BATCH_SIZE == 200
        assert batch.size == len(persons)
        assert not batch.leaders
    # Everyone once, nobody kept, no leaders' batches: the successors are not on the list.
    everyone = [p for m in members(plan) for p in m]
    assert sorted(everyone) == sorted(successors) and len(everyone) == len(set(everyone)) == 400
    assert (plan.kept, plan.admins, plan.leader_batches) == ({}, (), [])
    assert plan.regular == [b for b, _ in plan.batches]
    assert [b.batch_id for b in plan.regular] == ["batch-0001", "batch-0002", "batch-0003"]


def test_the_lists_order_is_kept_within_a_successor_and_successors_come_as_they_first_appear() -> None:
    successors = {"p1": "s1", "p2": "s0", "p3": "s1", "p4": "s2", "p5": "s0", "p6": "s1"}

    plan = make_list_plan(successors, batch_size=2)

    assert [(b.successor, list(m)) for b, m in plan.batches] == [
        ("s1", ["p1", "p3"]),
        ("s1", ["p6"]),
        ("s0", ["p2", "p5"]),
        ("s2", ["p4"]),
    ]
    big = interleaved_list()
    order = [p for m in members(make_list_plan(big)) for p in m]
    assert order == [p for p in big if big[p] == "s0"] + [p for p in big if big[p] == "s1"]


def test_positions_are_contiguous_from_1_to_the_number_of_persons() -> None:
    plan = make_list_plan(interleaved_list())

    assert [(b.first, b.last) for b in plan.regular] == [(1, 150), (151, 350), (351, 400)]
    position = 1
    for batch, persons in plan.batches:
        assert batch.first == position
        position = batch.last + 1
        assert batch.last - batch.first + 1 == len(persons)
    assert position - 1 == plan.total == 400


def test_the_label_names_the_batch_its_persons_and_its_successor() -> None:
    plan = make_list_plan(interleaved_list())

    assert [b.label for b in plan.regular] == [
        "batch 1/3 (members 1–150) → s0",
        "batch 2/3 (members 151–350) → s1",
        "batch 3/3 (members 351–400) → s1",
    ]
    assert plan.regular[1].to_xcom()["label"] == "batch 2/3 (members 151–350) → s1"
    # A company's batch has no successor of its own: no arrow.
    assert MemberBatch("batch-0002", 2, 3, 151, 350).label == "batch 2/3 (members 151–350)"


def test_the_summary_counts_every_listed_person_as_to_delete() -> None:
    summary = make_list_plan(interleaved_list()).summary()

    assert {k: summary[k] for k in ("members", "batches", "batch_size", "to_delete", "leader_batches")} == {
        "members": 400,
        "batches": 3,
        "batch_size": BATCH_SIZE,
        "to_delete": 400,
        "leader_batches": 0,
    }
    assert summary["kept"] == {} and summary["plan_file"] == PLAN_PATH


@pytest.mark.parametrize("batch_size", [0, BATCH_SIZE + 1])
def test_a_batch_size_wecom_cannot_delete_in_one_call_is_refused(batch_size: int) -> None:
    with pytest.raises(ValueError, match=f"batch_size must be between 1 and {BATCH_SIZE}"):
        make_list_plan({"p1": "s1"}, batch_size=batch_size)


# -- through plan.json and XCom -------------------------------------------------------------------------


def test_the_plan_round_trips_through_plan_json(tmp_path: Any) -> None:
    from offboarding.backup.storage import BackupStore

    plan = make_list_plan(interleaved_list())
    data = json.loads(json.dumps(plan.to_json(), ensure_ascii=False))
    assert [entry["successor"] for entry in data["batches"]] == ["s0", "s1", "s1"]

    assert MemberPlan.from_json(data) == plan

    store = BackupStore(str(tmp_path / "backups"))
    assert load_plan(store, CASE) is None
    save_plan(store, CASE, plan)
    assert store.exists(CASE, PLAN_PATH)
    loaded = load_plan(store, CASE)
    assert loaded == plan
    assert loaded is not None and loaded.members_of("batch-0002") == list(plan.batches[1][1])


def test_each_batch_round_trips_through_xcom() -> None:
    for batch in make_list_plan(interleaved_list()).regular:
        value = json.loads(json.dumps(batch.to_xcom(), ensure_ascii=False))  # XCom is JSON
        assert MemberBatch.from_xcom(value) == batch
        assert value["successor"] == batch.successor
    company = MemberBatch("batch-0001", 1, 1, 1, 200)
    assert "successor" not in company.to_xcom()
    assert MemberBatch.from_xcom(company.to_xcom()).successor is None


@pytest.mark.parametrize("successor", ["bad id!", "", "张三", 42, ["s1"], "a" * 65])
def test_a_bad_successor_in_xcom_is_refused(successor: Any) -> None:
    value = {**make_list_plan(interleaved_list()).regular[1].to_xcom(), "successor": successor}
    with pytest.raises(ValueError, match=r"batch\.successor must be a WeCom userid"):
        MemberBatch.from_xcom(value)


def test_a_plan_json_with_a_bad_successor_is_not_a_plan() -> None:
    data = make_list_plan(interleaved_list()).to_json()
    data["batches"][2]["successor"] = "../../etc"
    with pytest.raises(ValueError, match=r"batch\.successor must be a WeCom userid"):
        MemberPlan.from_json(data)
