"""The robot queue's rules with a controlled clock, on its real file-backed shared document.

The clock is injected so a minute passes instantly; posting is a recording function, because these
tests are about the queue's decisions (the sandbox tests cover the HTTP side).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offboarding.wecom.errors import WeComRateLimited
from offboarding.wecom.robot_queue import (
    Delivered,
    Failed,
    Outgoing,
    RobotQueue,
    RobotQueueError,
    RobotQueueTimeout,
    Send,
    Wait,
)
from offboarding.wecom.shared_state import FileSharedState


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_queue(tmp_path: Path, clock: Clock, **kwargs: float) -> RobotQueue:
    return RobotQueue(FileSharedState(tmp_path, "robot-test"), clock=clock, label="robot test", **kwargs)


def test_twenty_go_out_at_once_and_the_21st_waits_for_the_window(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock, coalesce_seconds=0)
    posted: list[tuple[float, str]] = []
    start = clock.now
    for number in range(21):
        queue.deliver(
            "text", f"m{number}", lambda o: posted.append((clock.now, o.content)), sleep=clock.sleep
        )

    assert [content for _, content in posted] == [f"m{n}" for n in range(21)]
    assert all(at == start for at, _ in posted[:20])
    assert posted[20][0] >= start + 61.0  # a sliding minute plus the margin


def test_a_burst_beyond_the_limit_is_merged_into_the_last_slot(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock)
    for number in range(19):
        queue.deliver("markdown", f"early {number}", lambda o: None, sleep=clock.sleep)
    ids = [queue.enqueue("markdown", f"burst {n}") for n in range(5)]
    assert queue.step(ids[0]) == Wait(pytest.approx(1.0))  # the last slot waits for the burst
    clock.now += 1.0
    action = queue.step(ids[0])

    assert isinstance(action, Send)
    assert action.outgoing.message_ids == tuple(ids)
    assert action.outgoing.content.startswith("(5 messages merged")
    queue.finish(action.batch_id)
    assert [queue.step(i) for i in ids] == [Delivered()] * 5


def test_only_messages_of_one_type_that_fit_are_merged(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock, coalesce_seconds=0)
    big = "x" * 1500
    ids = [queue.enqueue("text", big), queue.enqueue("markdown", "md"), queue.enqueue("text", big)]
    first = queue.step(ids[0])
    assert isinstance(first, Send)
    assert first.outgoing.message_ids == (ids[0],)  # two 1500-byte texts exceed 2048 bytes together
    assert first.outgoing.msgtype == "text"


def test_45009_blocks_everyone_then_retries(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock, coalesce_seconds=0, rate_limit_block_seconds=60)
    answers = [WeComRateLimited(45009, "api freq out of limit", "/cgi-bin/webhook/send"), None]
    posted: list[float] = []

    def post(outgoing: Outgoing) -> None:
        posted.append(clock.now)
        error = answers.pop(0)
        if error is not None:
            raise error

    queue.deliver("text", "hello", post, sleep=clock.sleep)
    assert posted[1] - posted[0] >= 60


def test_repeated_45009_fails_loudly(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock, coalesce_seconds=0, rate_limit_block_seconds=1)

    def post(outgoing: Outgoing) -> None:
        raise WeComRateLimited(45009, "api freq out of limit", "/cgi-bin/webhook/send")

    with pytest.raises(RobotQueueError, match="rate-limited"):
        queue.deliver("text", "hello", post, sleep=clock.sleep)


def test_a_message_that_cannot_get_a_slot_is_withdrawn_with_an_error(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock, coalesce_seconds=0, max_wait_seconds=30)
    for number in range(20):
        queue.deliver("text", f"m{number}", lambda o: None, sleep=clock.sleep)
    with pytest.raises(RobotQueueTimeout, match="was NOT sent"):
        queue.deliver("text", "late", lambda o: None, sleep=clock.sleep)
    assert queue.pending() == 0


def test_a_batch_whose_sender_died_is_posted_by_someone_else(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock, coalesce_seconds=0, stale_seconds=300)
    orphan = queue.enqueue("text", "from a crashed process")
    taken = queue.step(orphan)
    assert isinstance(taken, Send)  # ... and its process dies before finish()
    clock.now += 301
    mine = queue.enqueue("text", "mine")
    again = queue.step(mine)

    assert isinstance(again, Send)
    assert again.outgoing.message_ids == (orphan, mine)
    queue.finish(again.batch_id)
    assert queue.step(mine) == Delivered()


def test_a_refused_batch_fails_every_message_in_it(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock, coalesce_seconds=0)
    ids = [queue.enqueue("text", "a"), queue.enqueue("text", "b")]
    action = queue.step(ids[1])
    assert isinstance(action, Send)
    queue.finish(action.batch_id, ValueError("robot removed (93000)"))
    assert [queue.step(i) for i in ids] == [
        Failed("robot test refused the message: robot removed (93000)")
    ] * 2


def test_the_document_is_private_and_holds_no_key(tmp_path: Path, clock: Clock) -> None:
    queue = make_queue(tmp_path, clock)
    queue.enqueue("text", "hello")
    document = tmp_path / "robot-test.json"
    assert document.stat().st_mode & 0o777 == 0o600
    assert json.loads(document.read_text())["outbox"][0]["content"] == "hello"


def test_oversize_content_is_refused_by_the_queue(tmp_path: Path, clock: Clock) -> None:
    with pytest.raises(ValueError, match="2049 bytes"):
        make_queue(tmp_path, clock).enqueue("text", "x" * 2049)


@pytest.mark.services
def test_redis_backend_shares_the_window(clock: Clock) -> None:
    import redis

    from offboarding.wecom.shared_state import RedisSharedState

    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    name = f"test-{clock.now}"
    try:
        first = RobotQueue(RedisSharedState(client, name), clock=clock, coalesce_seconds=0)
        second = RobotQueue(RedisSharedState(client, name), clock=clock, coalesce_seconds=0)
        for number in range(20):
            (first if number % 2 else second).deliver("text", f"m{number}", lambda o: None, sleep=clock.sleep)
        late = second.enqueue("text", "late")
        assert isinstance(first.step(late), Wait)  # the other process's 20 count here too
    finally:
        client.delete(f"offboarding:robot-queue:{name}")


def test_the_backend_follows_the_token_cache_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from offboarding.wecom.shared_state import RedisSharedState, robot_state_for

    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "memory://")
    local = robot_state_for("robot-abc", tmp_path)
    assert isinstance(local, FileSharedState) and local.path == tmp_path / "robot-queue" / "robot-abc.json"
    monkeypatch.setenv("OFFBOARDING_TOKEN_CACHE_URL", "redis://127.0.0.1:6379/15?prefix=x:")
    shared = robot_state_for("robot-abc", tmp_path)
    assert isinstance(shared, RedisSharedState) and shared.key == "offboarding:robot-queue:robot-abc"
