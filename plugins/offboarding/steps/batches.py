"""Offboarding every member of a corp: the plan, the batches, and WeCom's rate limit shared between them.

A dissolving company removes every member, tens of thousands at a time, so the work is cut in batches
of 200 (the most ``user/batchdelete`` takes in one call). The plan lists every member once by cursor
(``user/list_id``) and puts the *leaders* last, in batches of their own that run after every other
batch:

* the admins named in the WeCom connection extra ``admin_userids`` — deleted last, so the corp keeps
  its admins until every other member is gone (list the creator there too: WeCom refuses to delete
  the creator (301005), who goes with the enterprise closure);
* the form's ``successor_userid`` — **kept**: they hold every customer and customer group handed over
  until the enterprise is dissolved;
* the form's ``admin_userid`` — **kept**: they dissolve the enterprise in the admin console, then
  deregister their own account.

The plan is written once per case to ``members/plan.json`` in the backup store; a rerun of the planning
task returns the same plan, so batch numbers never shift under batches already worked on. Each batch
keeps its own per-member progress (``members/<batch>/progress.json``, see
:mod:`offboarding.steps.progress`).

WeCom allows 10,000 calls per minute per corp to each API; batches of one case run in parallel (the
mapped task's ``max_active_tis_per_dagrun``), each in its own process with its own client-side limiter,
so each process gets an equal share (:func:`share_rate_limit`) — unless the deployment shares its rate
limit in Redis (:mod:`offboarding.wecom.ratelimit`), which already counts every process together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from offboarding.backup.storage import BackupStore
from offboarding.cases.fields import WECOM_USERID_PATTERN
from offboarding.wecom.contacts import BATCH_DELETE_MAX
from offboarding.wecom.ratelimit import RateLimiter, configured_concurrency, default_rate_limiter

if TYPE_CHECKING:
    from offboarding.steps.corp import WeComCorp

BATCH_SIZE = BATCH_DELETE_MAX
"""Members per batch: what one ``user/batchdelete`` call takes."""
MEMBERS_DIR = "members"
PLAN_PATH = f"{MEMBERS_DIR}/plan.json"
PLAN_FORMAT = "offboarding-member-plan/1"

WECOM_CALLS_PER_MINUTE_PER_API = 10_000
"""WeCom's base limit: calls per minute per corp to one API (45009 beyond it; reference §1.3)."""
RATE_LIMIT_HEADROOM = 0.9
"""Share of WeCom's limit the product uses, leaving room for the admin console and other apps."""
WECOM_CLIENT_KINDS = ("contacts", "customers")
"""The corp's clients a batch uses (member writes; customer handover)."""

KEPT_SUCCESSOR = "successor: holds the handed-over customers and groups until the enterprise is dissolved"
KEPT_ADMIN = "admin: dissolves the enterprise in the admin console, then deregisters their own account"


def batch_dir(batch_id: str) -> str:
    """The folder of one batch inside the case: ``members/batch-0007``."""
    return f"{MEMBERS_DIR}/{batch_id}"


@dataclass(frozen=True)
class MemberBatch:
    """One batch of the plan, as the mapped task receives it (small: its members are in the plan file).

    ``first``/``last`` are the positions of its members in the whole plan (1-based), so the UI shows
    "batch 7/50 (members 1201–1400)".
    """

    batch_id: str
    number: int
    of: int
    first: int
    last: int
    leaders: bool = False
    successor: str | None = None
    """Who inherits this batch's customers and groups (a layoff list's batches); None: the form's
    ``successor_userid`` (a company's)."""

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    @property
    def label(self) -> str:
        """What the Airflow UI shows for the mapped task instance."""
        kind = "leaders" if self.leaders else "batch"
        heir = f" → {self.successor}" if self.successor else ""
        return f"{kind} {self.number}/{self.of} (members {self.first}–{self.last}){heir}"

    def to_xcom(self) -> dict[str, Any]:
        value = {
            "batch_id": self.batch_id,
            "number": self.number,
            "of": self.of,
            "first": self.first,
            "last": self.last,
            "leaders": self.leaders,
            "label": self.label,
        }
        return value if self.successor is None else {**value, "successor": self.successor}

    @classmethod
    def from_xcom(cls, value: Any) -> MemberBatch:
        """Read a batch handed to the mapped task; a ValueError names the bad field."""
        if not isinstance(value, Mapping):
            raise ValueError(f"batch must be an object from plan_member_batches, got {value!r}")
        batch_id = value.get("batch_id")
        if not isinstance(batch_id, str) or not batch_id.startswith("batch-"):
            raise ValueError(f"batch.batch_id must look like 'batch-0007', got {batch_id!r}")
        numbers = {}
        for name in ("number", "of", "first", "last"):
            number = value.get(name)
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise ValueError(f"batch.{name} must be a whole number >= 1, got {number!r}")
            numbers[name] = number
        if numbers["number"] > numbers["of"] or numbers["first"] > numbers["last"]:
            raise ValueError(f"batch {batch_id}: number/of or first/last are out of order: {dict(value)}")
        successor = value.get("successor")
        if successor is not None and not (
            isinstance(successor, str) and re.match(WECOM_USERID_PATTERN, successor)
        ):
            raise ValueError(f"batch.successor must be a WeCom userid, got {successor!r}")
        return cls(batch_id, leaders=bool(value.get("leaders")), successor=successor, **numbers)


@dataclass(frozen=True)
class MemberPlan:
    """Every member of the corp in the order they are offboarded, cut in batches."""

    created_at: str
    batches: tuple[tuple[MemberBatch, tuple[str, ...]], ...]
    kept: Mapping[str, str]
    admins: tuple[str, ...]
    unknown_admins: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(len(members) for _, members in self.batches)

    @property
    def regular(self) -> list[MemberBatch]:
        """The batches of everyone but the leaders: the mapped task's batches."""
        return [batch for batch, _ in self.batches if not batch.leaders]

    @property
    def leader_batches(self) -> list[MemberBatch]:
        """The leaders' batches, offboarded after every other batch."""
        return [batch for batch, _ in self.batches if batch.leaders]

    def members_of(self, batch_id: str) -> list[str]:
        for batch, members in self.batches:
            if batch.batch_id == batch_id:
                return list(members)
        raise KeyError(f"batch {batch_id} is not in the plan {PLAN_PATH}")

    def summary(self) -> dict[str, Any]:
        """The plan in numbers, for the approval screen and the ledger."""
        return {
            "members": self.total,
            "batches": len(self.regular),
            "batch_size": BATCH_SIZE,
            "leader_batches": len(self.leader_batches),
            "to_delete": self.total - len(self.kept),
            "kept": dict(self.kept),
            "admins_deleted_last": list(self.admins),
            "admins_not_found": list(self.unknown_admins),
            "plan_file": PLAN_PATH,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "created_at": self.created_at,
            "kept": dict(self.kept),
            "admins": list(self.admins),
            "unknown_admins": list(self.unknown_admins),
            "batches": [{**batch.to_xcom(), "members": list(members)} for batch, members in self.batches],
        }

    @classmethod
    def from_json(cls, data: Any) -> MemberPlan:
        if not isinstance(data, Mapping) or data.get("format") != PLAN_FORMAT:
            raise ValueError(f"{PLAN_PATH} is not a member plan ({PLAN_FORMAT})")
        batches = []
        for entry in data.get("batches") or []:
            members = entry.get("members")
            if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
                raise ValueError(f"{PLAN_PATH}: batch {entry.get('batch_id')!r} has no member list")
            batches.append((MemberBatch.from_xcom(entry), tuple(members)))
        return cls(
            created_at=str(data.get("created_at")),
            batches=tuple(batches),
            kept=dict(data.get("kept") or {}),
            admins=tuple(data.get("admins") or ()),
            unknown_admins=tuple(data.get("unknown_admins") or ()),
        )


def make_plan(
    member_ids: Iterable[str],
    *,
    admins: Sequence[str],
    kept: Mapping[str, str],
    batch_size: int = BATCH_SIZE,
) -> MemberPlan:
    """Order every member (regular members first, then admins, then the kept) and cut in batches.

    Regular members fill batches of ``batch_size`` ("batch 7/50"); the leaders (admins and kept
    members that exist) get batches of their own at the end ("leaders 1/1"), offboarded after every
    other batch. Admins that are not members are reported, not planned.
    """
    if not 1 <= batch_size <= BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {BATCH_SIZE}, got {batch_size}")
    members = list(dict.fromkeys(member_ids))
    present = set(members)
    missing_kept = [userid for userid in kept if userid not in present]
    if missing_kept:
        raise ValueError(
            f"{', '.join(missing_kept)} must be members of the corp but user/list_id does not list them"
        )
    leaders = [a for a in dict.fromkeys(admins) if a in present and a not in kept] + list(kept)
    leader_set = set(leaders)
    regular = [m for m in members if m not in leader_set]
    batches = _numbered(
        [
            ([(chunk, None) for chunk in _cut(regular, batch_size)], False),
            ([(chunk, None) for chunk in _cut(leaders, batch_size)], True),
        ]
    )
    return MemberPlan(
        created_at=datetime.now(UTC).isoformat(),
        batches=batches,
        kept=dict(kept),
        admins=tuple(a for a in dict.fromkeys(admins) if a in present and a not in kept),
        unknown_admins=tuple(a for a in dict.fromkeys(admins) if a not in present),
    )


def make_list_plan(successors: Mapping[str, str], *, batch_size: int = BATCH_SIZE) -> MemberPlan:
    """The plan of a layoff list: its persons (userid → successor) in batches of one successor each.

    Persons keep the list's order within their successor's batches; successors come in the order they
    first appear. Nobody is kept and there are no leaders: the successors are not on the list.
    """
    if not 1 <= batch_size <= BATCH_SIZE:
        raise ValueError(f"batch_size must be between 1 and {BATCH_SIZE}, got {batch_size}")
    by_successor: dict[str, list[str]] = {}
    for userid, successor in successors.items():
        by_successor.setdefault(successor, []).append(userid)
    chunks = [
        (chunk, successor)
        for successor, members in by_successor.items()
        for chunk in _cut(members, batch_size)
    ]
    batches = _numbered([(chunks, False)])
    return MemberPlan(created_at=datetime.now(UTC).isoformat(), batches=batches, kept={}, admins=())


def _cut(members: Sequence[str], batch_size: int) -> list[list[str]]:
    return [list(members[i : i + batch_size]) for i in range(0, len(members), batch_size)]


def _numbered(
    groups: Sequence[tuple[Sequence[tuple[list[str], str | None]], bool]],
) -> tuple[tuple[MemberBatch, tuple[str, ...]], ...]:
    """The batches of each group (its chunks with their successor, and whether they are the leaders'),
    numbered "k of n" within the group, with ids and member positions running over the whole plan."""
    batches: list[tuple[MemberBatch, tuple[str, ...]]] = []
    position = 1
    for chunks, leaders in groups:
        for number, (chunk, successor) in enumerate(chunks, start=1):
            batch = MemberBatch(
                batch_id=f"batch-{len(batches) + 1:04d}",
                number=number,
                of=len(chunks),
                first=position,
                last=position + len(chunk) - 1,
                leaders=leaders,
                successor=successor,
            )
            batches.append((batch, tuple(chunk)))
            position += len(chunk)
    return tuple(batches)


def save_plan(store: BackupStore, case_id: str, plan: MemberPlan) -> None:
    """Write ``members/plan.json`` (it names every member: encrypted at rest when the store is)."""
    store.write_bytes(
        case_id, PLAN_PATH, json.dumps(plan.to_json(), ensure_ascii=False).encode(), source="user/list_id"
    )


def load_plan(store: BackupStore, case_id: str) -> MemberPlan | None:
    """The case's member plan, or None when none was made yet."""
    if not store.exists(case_id, PLAN_PATH):
        return None
    return MemberPlan.from_json(json.loads(store.read_bytes(case_id, PLAN_PATH)))


def admins_from_connection(extras: Mapping[str, Any]) -> list[str]:
    """The connection extra ``admin_userids``: a list of userids, or one comma-separated string."""
    value = extras.get("admin_userids") or []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ValueError(f"connection extra admin_userids must be a list of WeCom userids, got {value!r}")
    return [str(v).strip() for v in value if str(v).strip()]


def calls_per_second_share(parallel: int) -> float:
    """This process' share of WeCom's per-API limit when ``parallel`` batches run at once."""
    return WECOM_CALLS_PER_MINUTE_PER_API * RATE_LIMIT_HEADROOM / 60.0 / max(1, parallel)


def share_rate_limit(corp: WeComCorp, parallel: int) -> float:
    """Give the corp's clients one limiter at this process' share of the limit; returns calls/second.

    The limit is per corp and API, whatever the secret: both clients share the limiter. When the
    deployment's limiter is shared in Redis, it already counts every batch: the clients keep it.
    """
    shared = default_rate_limiter()
    if getattr(shared, "shared", False):
        for kind in WECOM_CLIENT_KINDS:
            corp.client(kind).rate_limiter = shared
        return float(getattr(shared, "calls_per_second", calls_per_second_share(1)))
    # Not shared: this process' share among the batches and the deployment's other callers.
    rate = calls_per_second_share(max(parallel, configured_concurrency()))
    limiter = RateLimiter(calls_per_second=rate)
    for kind in WECOM_CLIENT_KINDS:
        corp.client(kind).rate_limiter = limiter
    return rate
