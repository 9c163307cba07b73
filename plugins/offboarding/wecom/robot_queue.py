"""Keep a WeCom group robot within 20 messages a minute, across every process, without dropping any.

A robot may post 20 messages in any minute; beyond that WeCom answers 45009 and blocks it for a
while. Every process that posts through one robot shares one :class:`RobotQueue` document (see
:mod:`offboarding.wecom.shared_state`):

* ``sent`` — the instants of the messages posted in the last window (a sliding minute plus a margin);
* ``outbox`` — messages waiting for a slot, oldest first;
* ``inflight`` — batches a process took from the outbox and is posting right now;
* ``done`` — the outcome of each message, until its sender has read it;
* ``blocked_until`` — set after a 45009 answer: nobody posts before it.

A sender puts its message in the outbox and then steps: when a slot is free it takes the oldest
messages — as many of one type as fit into one WeCom message — and posts them together, so a burst
beyond the limit is *merged* rather than refused. When no slot is free it *waits*. The last slot
of a window waits a moment (``coalesce_seconds``) so that a burst shares it. A message nobody could
post within ``max_wait_seconds`` is withdrawn and its sender gets an error: never dropped silently.
A batch whose sender died mid-post goes back to the outbox after ``stale_seconds``.

The document holds message texts (never the robot key): file backend 0600 in a 0700 folder.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from offboarding.wecom.content import ROBOT_LIMITS, utf8_size
from offboarding.wecom.errors import WeComRateLimited
from offboarding.wecom.shared_state import SharedState

log = logging.getLogger(__name__)

MESSAGES_PER_MINUTE = 20
WINDOW_SECONDS = 61.0  # WeCom's minute plus a second for clock and network jitter
RATE_LIMIT_BLOCK_SECONDS = 60.0  # WeCom blocks a minute-level limit for 60 s
MAX_WAIT_SECONDS = 900.0
STALE_SECONDS = 300.0
COALESCE_SECONDS = 1.0
POLL_SECONDS = 0.25
DONE_KEEP_SECONDS = 900.0
MAX_RATE_LIMITED_ATTEMPTS = 5


class RobotQueueError(RuntimeError):
    """A message could not be posted; the message says why (never the robot key)."""


class RobotQueueTimeout(RobotQueueError, TimeoutError):
    """A message waited longer than ``max_wait_seconds`` for a slot and was withdrawn."""


@dataclass(frozen=True)
class Outgoing:
    """One WeCom message to post: one or several queued messages merged."""

    msgtype: str
    content: str
    mentioned_list: list[str] = field(default_factory=list)
    message_ids: tuple[str, ...] = ()

    @property
    def merged(self) -> int:
        return len(self.message_ids)


@dataclass(frozen=True)
class Delivered:
    """The message was posted (alone or merged with others)."""


@dataclass(frozen=True)
class Failed:
    """The message will never be posted; ``reason`` says why."""

    reason: str


@dataclass(frozen=True)
class Wait:
    """Nothing to do yet: step again after ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Send:
    """Post ``outgoing`` now (a slot is reserved), then report with :meth:`RobotQueue.finish`."""

    batch_id: str
    outgoing: Outgoing


Step = Delivered | Failed | Wait | Send


def merge_header(count: int) -> str:
    """The first line of a merged message."""
    return f"({count} messages merged: a WeCom robot may post {MESSAGES_PER_MINUTE} a minute)"


def merged_content(contents: list[str]) -> str:
    """The text of one WeCom message carrying ``contents`` (unchanged when there is one)."""
    if len(contents) == 1:
        return contents[0]
    return "\n\n".join([merge_header(len(contents)), *contents])


class RobotQueue:
    """The shared window and outbox of one robot; see the module docstring."""

    def __init__(
        self,
        state: SharedState,
        *,
        per_minute: int = MESSAGES_PER_MINUTE,
        window_seconds: float = WINDOW_SECONDS,
        rate_limit_block_seconds: float = RATE_LIMIT_BLOCK_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        stale_seconds: float = STALE_SECONDS,
        coalesce_seconds: float = COALESCE_SECONDS,
        clock: Callable[[], float] = time.time,
        label: str = "the robot",
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        for name, value in (
            ("window_seconds", window_seconds),
            ("rate_limit_block_seconds", rate_limit_block_seconds),
            ("max_wait_seconds", max_wait_seconds),
            ("stale_seconds", stale_seconds),
            ("coalesce_seconds", coalesce_seconds),
        ):
            if value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")
        self.state = state
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self.rate_limit_block_seconds = rate_limit_block_seconds
        self.max_wait_seconds = max_wait_seconds
        self.stale_seconds = stale_seconds
        self.coalesce_seconds = coalesce_seconds
        self.clock = clock
        self.label = label

    def __repr__(self) -> str:
        return f"RobotQueue({self.label}, {self.per_minute}/min, state={self.state!r})"

    # ------------------------------------------------------------------ the shared document

    def enqueue(self, msgtype: str, content: str, mentioned_list: list[str] | None = None) -> str:
        """Put one message in the outbox; return its id."""
        if msgtype not in ROBOT_LIMITS:
            raise ValueError(f"msgtype must be one of {', '.join(ROBOT_LIMITS)}, got {msgtype!r}")
        if utf8_size(content) > ROBOT_LIMITS[msgtype]:
            raise ValueError(
                f"{msgtype} content is {utf8_size(content)} bytes; a robot takes {ROBOT_LIMITS[msgtype]}"
            )
        message_id = secrets.token_hex(8)
        with self.state.transaction() as doc:
            now = self.clock()
            self._tidy(doc, now)
            doc["outbox"].append(
                {
                    "id": message_id,
                    "msgtype": msgtype,
                    "content": content,
                    "mentioned": list(mentioned_list or []),
                    "queued_at": now,
                    "attempts": 0,
                }
            )
        return message_id

    def step(self, message_id: str) -> Step:
        """What the sender of ``message_id`` should do now."""
        with self.state.transaction() as doc:
            now = self.clock()
            self._tidy(doc, now)
            outcome = doc["done"].pop(message_id, None)
            if outcome is not None:
                return Failed(outcome["error"]) if outcome.get("error") else Delivered()
            if any(message_id in batch["ids"] for batch in doc["inflight"].values()):
                return Wait(POLL_SECONDS)
            if not any(entry["id"] == message_id for entry in doc["outbox"]):
                return Failed(f"the message to {self.label} is no longer queued (its queue was reset)")
            slot_at = self._next_slot(doc, now)
            if slot_at > now:
                return Wait(min(slot_at - now, 1.0))
            oldest = doc["outbox"][0]["queued_at"]
            if self.per_minute - len(doc["sent"]) <= 1 and now - oldest < self.coalesce_seconds:
                return Wait(self.coalesce_seconds - (now - oldest))
            entries = self._take_batch(doc["outbox"])
            batch_id = secrets.token_hex(8)
            doc["inflight"][batch_id] = {
                "ids": [e["id"] for e in entries],
                "taken_at": now,
                "entries": entries,
            }
            doc["sent"].append(now)
            return Send(batch_id, _outgoing(entries))

    def finish(self, batch_id: str, error: BaseException | None = None) -> None:
        """Record how posting a batch went: ``error`` None for success."""
        with self.state.transaction() as doc:
            now = self.clock()
            self._tidy(doc, now)
            batch = doc["inflight"].pop(batch_id, None)
            if batch is None:  # declared stale and put back in the outbox meanwhile
                entries = [e for e in doc["outbox"] if e["id"] in set(_ids_of(doc, batch_id))]
                batch = {"ids": [e["id"] for e in entries], "entries": entries}
            ids = set(batch["ids"])
            doc["outbox"] = [e for e in doc["outbox"] if e["id"] not in ids]
            if error is None:
                for message_id in ids:
                    doc["done"][message_id] = {"at": now, "error": None}
                return
            if isinstance(error, WeComRateLimited):
                doc["blocked_until"] = max(
                    float(doc.get("blocked_until") or 0), now + self.rate_limit_block_seconds
                )
                retry = []
                for entry in batch["entries"]:
                    entry["attempts"] = int(entry.get("attempts", 0)) + 1
                    if entry["attempts"] >= MAX_RATE_LIMITED_ATTEMPTS:
                        doc["done"][entry["id"]] = {
                            "at": now,
                            "error": f"{self.label} stayed rate-limited (45009) for {entry['attempts']} tries",
                        }
                    else:
                        retry.append(entry)
                doc["outbox"] = retry + doc["outbox"]
                return
            reason = f"{self.label} refused the message: {error}"
            for message_id in ids:
                doc["done"][message_id] = {"at": now, "error": reason}

    def withdraw(self, message_id: str) -> bool:
        """Take a message out of the outbox (its sender gave up); False when it is being posted."""
        with self.state.transaction() as doc:
            self._tidy(doc, self.clock())
            before = len(doc["outbox"])
            doc["outbox"] = [e for e in doc["outbox"] if e["id"] != message_id]
            doc["done"].pop(message_id, None)
            return len(doc["outbox"]) < before

    def pending(self) -> int:
        """How many messages wait in the outbox."""
        with self.state.transaction() as doc:
            self._tidy(doc, self.clock())
            return len(doc["outbox"])

    # ------------------------------------------------------------------ drivers

    def deliver(
        self,
        msgtype: str,
        content: str,
        send: Callable[[Outgoing], None],
        mentioned_list: list[str] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Queue one message and step until it is posted; raises :class:`RobotQueueError` otherwise."""
        message_id = self.enqueue(msgtype, content, mentioned_list)
        give_up_at = self.clock() + self.max_wait_seconds
        while True:
            action = self.step(message_id)
            if isinstance(action, Delivered):
                return
            if isinstance(action, Failed):
                raise RobotQueueError(action.reason)
            if isinstance(action, Send):
                self.finish(action.batch_id, _attempt(send, action.outgoing))
                continue
            if self.clock() + action.seconds > give_up_at:
                self._give_up(message_id)
            sleep(action.seconds)

    async def adeliver(
        self,
        msgtype: str,
        content: str,
        send: Callable[[Outgoing], Awaitable[None]],
        mentioned_list: list[str] | None = None,
    ) -> None:
        """:meth:`deliver` for the triggerer: waits with ``asyncio.sleep``, file locks in a thread."""
        message_id = await asyncio.to_thread(self.enqueue, msgtype, content, mentioned_list)
        give_up_at = self.clock() + self.max_wait_seconds
        while True:
            action = await asyncio.to_thread(self.step, message_id)
            if isinstance(action, Delivered):
                return
            if isinstance(action, Failed):
                raise RobotQueueError(action.reason)
            if isinstance(action, Send):
                error: BaseException | None = None
                try:
                    await send(action.outgoing)
                except Exception as exc:
                    error = exc
                await asyncio.to_thread(self.finish, action.batch_id, error)
                continue
            if self.clock() + action.seconds > give_up_at:
                await asyncio.to_thread(self._give_up, message_id)
            await asyncio.sleep(action.seconds)

    def _give_up(self, message_id: str) -> None:
        if self.withdraw(message_id):
            raise RobotQueueTimeout(
                f"the message to {self.label} waited {self.max_wait_seconds:g}s for a free slot "
                f"({self.per_minute} messages a minute) and was NOT sent"
            )

    # ------------------------------------------------------------------ internals

    def _tidy(self, doc: dict[str, Any], now: float) -> None:
        """Default missing keys, forget what is out of the window, put stale batches back."""
        doc["sent"] = [t for t in doc.get("sent", []) if t > now - self.window_seconds]
        doc.setdefault("outbox", [])
        doc["done"] = {
            k: v for k, v in doc.get("done", {}).items() if v.get("at", now) > now - DONE_KEEP_SECONDS
        }
        inflight = doc.setdefault("inflight", {})
        for batch_id in [b for b, batch in inflight.items() if batch["taken_at"] < now - self.stale_seconds]:
            batch = inflight.pop(batch_id)
            log.warning(
                "%s: a batch of %d message(s) was never confirmed; queued again",
                self.label,
                len(batch["ids"]),
            )
            doc["outbox"] = batch["entries"] + doc["outbox"]
            doc.setdefault("requeued", {})[batch_id] = batch["ids"]
        doc["requeued"] = dict(list(doc.get("requeued", {}).items())[-50:])

    def _next_slot(self, doc: dict[str, Any], now: float) -> float:
        slot = max(now, float(doc.get("blocked_until") or 0))
        sent = doc["sent"]
        if len(sent) >= self.per_minute:
            slot = max(slot, sent[-self.per_minute] + self.window_seconds)
        return slot

    @staticmethod
    def _take_batch(outbox: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The oldest message and every following one of its type that still fits in one message."""
        head = outbox[0]
        limit = ROBOT_LIMITS[head["msgtype"]]
        chosen = [head]
        for entry in outbox[1:]:
            if entry["msgtype"] != head["msgtype"]:
                continue
            if utf8_size(merged_content([e["content"] for e in [*chosen, entry]])) > limit:
                break
            chosen.append(entry)
        taken = {e["id"] for e in chosen}
        outbox[:] = [e for e in outbox if e["id"] not in taken]
        return chosen


def _ids_of(doc: dict[str, Any], batch_id: str) -> list[str]:
    return list(doc.get("requeued", {}).get(batch_id, []))


def _outgoing(entries: list[dict[str, Any]]) -> Outgoing:
    mentioned: list[str] = []
    for entry in entries:
        mentioned.extend(m for m in entry.get("mentioned", []) if m not in mentioned)
    return Outgoing(
        msgtype=entries[0]["msgtype"],
        content=merged_content([e["content"] for e in entries]),
        mentioned_list=mentioned,
        message_ids=tuple(e["id"] for e in entries),
    )


def _attempt(send: Callable[[Outgoing], None], outgoing: Outgoing) -> BaseException | None:
    try:
        send(outgoing)
    except Exception as exc:
        return exc
    return None
