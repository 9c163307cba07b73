"""The fewest WeCom calls a person case needs, derived from what it must read and write.

Rules (the bench's notes repeat them):

* each task runs in its own process and must be safe to re-run, so it reads the WeCom state it acts on
  once before acting (the member's state, the transfers already started, the tags and chats holding them);
* writes go at WeCom's batch limits (100 customers or groups a call) and reads at the largest page;
* WeCom has no "tags of a member" and no batch read of customer groups: every tag, and every group of
  the member, is read one by one;
* a read-back after WeCom confirmed a write (errcode 0) is not needed, nor a read of resigned transfers
  while the member is still active (none can exist yet);
* one access token per secret for the whole deployment (a token lives 2 h; a bench run is shorter).

The facts come from the sandbox through WeCom's own API (a separate client, before the counted run);
what only the run can tell (which customers WeCom refused on-job, so they go to the resigned transfer)
comes from the handover tasks' results.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

CGI = "/cgi-bin/"
DOWNLOAD = "/wedrive/download"

SECRET_OF_PREFIX = (("user/", "contacts"), ("department/", "contacts"), ("externalcontact/", "customers"))
"""Which secret an endpoint needs: contacts-sync for members, customer-contact for customers, else the app's."""


def secret_kind(path: str) -> str:
    """``contacts``, ``customers`` or ``app``: the secret whose token calls ``path``."""
    name = path.removeprefix(CGI)
    for prefix, kind in SECRET_OF_PREFIX:
        if name.startswith(prefix):
            return kind
    return "app"


def pages(items: int, per_call: int) -> int:
    """Calls to read ``items`` at ``per_call`` a call (at least one: an empty answer is still an answer)."""
    return max(1, math.ceil(items / per_call))


def batches(items: int, per_call: int) -> int:
    """Calls to write ``items`` at ``per_call`` a call (none when there is nothing to write)."""
    return math.ceil(items / per_call)


@dataclass(frozen=True)
class PersonFacts:
    """What WeCom holds for one departing member before the case starts."""

    member: str
    customers: int
    groups: int
    corp_tags: int
    member_tags: int
    app_chats: int
    app_chats_holding_member: int
    wedrive_folders: int
    wedrive_files: int
    unassigned_customers: int


@dataclass(frozen=True)
class HandoverOutcome:
    """What only the run tells: customers and groups left for the resigned transfer after deletion."""

    customers_left: int
    groups_left: int


@dataclass(frozen=True)
class Need:
    """``count`` calls of ``path`` that ``task`` needs, and why."""

    task: str
    path: str
    count: int
    why: str


def person_minimum(facts: PersonFacts, outcome: HandoverOutcome, *, deregister: bool) -> list[Need]:
    """The calls each task of the person case needs at least (gettoken excluded: see ``token_minimum``)."""
    f = facts
    needs = [
        Need("preflight.check_member_and_successor", "user/get", 2, "the member's and the successor's state"),
        Need("backup.snapshot_profile_and_memberships", "user/get", 1, "the profile"),
        Need("backup.snapshot_profile_and_memberships", "department/list", 1, "department names"),
        Need("backup.snapshot_profile_and_memberships", "tag/list", 1, "the corp's tags"),
        Need(
            "backup.snapshot_profile_and_memberships", "tag/get", f.corp_tags, "every tag (no per-member API)"
        ),
        Need(
            "backup.snapshot_profile_and_memberships", "appchat/get", f.app_chats, "every configured app chat"
        ),
        Need(
            "backup.export_customers_and_groups", "user/get", 1, "member still there: customers or unassigned"
        ),
        Need(
            "backup.export_customers_and_groups",
            "externalcontact/batch/get_by_user",
            pages(f.customers, 100),
            "customer details, 100 a page",
        ),
        Need(
            "backup.export_customers_and_groups",
            "externalcontact/groupchat/list",
            pages(f.groups, 1000),
            "groups owned, 1000 a page",
        ),
        Need(
            "backup.export_customers_and_groups",
            "externalcontact/groupchat/get",
            f.groups,
            "each group's details (no batch read)",
        ),
        Need(
            "backup.export_wedrive_files", "wedrive/file_list", f.wedrive_folders, "each folder, 1000 a page"
        ),
        Need("backup.export_wedrive_files", "wedrive/file_download", f.wedrive_files, "a ticket per file"),
        Need("backup.export_wedrive_files", DOWNLOAD, f.wedrive_files, "each file's bytes"),
        Need("handover.hand_over_customers", "user/get", 1, "member still there"),
        Need("handover.hand_over_customers", "externalcontact/list", 1, "customers now"),
        Need(
            "handover.hand_over_customers",
            "externalcontact/transfer_result",
            1,
            "on-job transfers already started",
        ),
        Need(
            "handover.hand_over_customers",
            "externalcontact/transfer_customer",
            batches(f.customers, 100),
            "100 customers a call",
        ),
        Need("handover.hand_over_customer_groups", "user/get", 1, "member still there"),
        Need(
            "handover.hand_over_customer_groups",
            "externalcontact/groupchat/list",
            pages(f.groups, 1000),
            "groups still owned",
        ),
        Need(
            "handover.hand_over_customer_groups",
            "externalcontact/groupchat/onjob_transfer",
            batches(f.groups, 100),
            "100 groups a call",
        ),
        Need("handover.leave_tags_and_group_chats", "user/get", 1, "member still there"),
        Need("handover.leave_tags_and_group_chats", "tag/get", f.corp_tags, "which tags hold the member now"),
        Need(
            "handover.leave_tags_and_group_chats",
            "tag/deltagusers",
            f.member_tags,
            "one per tag holding the member",
        ),
        Need(
            "handover.leave_tags_and_group_chats",
            "appchat/get",
            f.app_chats,
            "which app chats hold the member now",
        ),
        Need(
            "handover.leave_tags_and_group_chats",
            "appchat/update",
            f.app_chats_holding_member,
            "one per app chat holding the member",
        ),
        Need("handover.disable_member", "user/get", 1, "state before the write"),
        Need("handover.disable_member", "user/update", 1, "disable"),
        Need("deletion.delete_member", "user/get", 1, "state before the write"),
        Need("deletion.delete_member", "user/delete", 1, "delete"),
        Need("deletion.transfer_resigned_customers", "user/get", 1, "the member is gone"),
        Need(
            "deletion.transfer_resigned_customers",
            "externalcontact/transfer_result",
            1,
            "on-job transfers (not sent again)",
        ),
        Need(
            "deletion.transfer_resigned_customers",
            "externalcontact/resigned/transfer_result",
            1,
            "resigned transfers already started",
        ),
        Need(
            "deletion.transfer_resigned_customers",
            "externalcontact/get_unassigned_list",
            pages(f.unassigned_customers + outcome.customers_left, 1000),
            "customers left unassigned",
        ),
        Need(
            "deletion.transfer_resigned_customers",
            "externalcontact/groupchat/list",
            1,
            "groups still owned by the member",
        ),
        Need(
            "deletion.transfer_resigned_customers",
            "externalcontact/resigned/transfer_customer",
            batches(outcome.customers_left, 100),
            "customers refused on-job, 100 a call",
        ),
        Need(
            "deletion.transfer_resigned_customers",
            "externalcontact/groupchat/transfer",
            batches(outcome.groups_left, 100),
            "groups not handed on-job",
        ),
        Need(
            "deletion.wait_for_customer_takeover",
            "externalcontact/transfer_result",
            1,
            "first read before deferring (on-job)",
        ),
        Need(
            "deletion.wait_for_customer_takeover",
            "externalcontact/resigned/transfer_result",
            1,
            "first read before deferring (resigned)",
        ),
    ]
    if deregister:
        needs += [
            Need("account_deregistration.send_deregistration_guide", "message/send", 1, "the guide"),
            Need(
                "account_deregistration.verify_account_gone", "user/get", 1, "the account no longer resolves"
            ),
        ]
    return [
        Need(n.task, n.path if n.path.startswith("/") else CGI + n.path, n.count, n.why)
        for n in needs
        if n.count
    ]


def by_task(needs: list[Need]) -> dict[str, Counter[str]]:
    """``{task: {path: calls}}``."""
    table: dict[str, Counter[str]] = {}
    for need in needs:
        table.setdefault(need.task, Counter())[need.path] += need.count
    return table


def token_minimum(paths: list[str]) -> int:
    """One gettoken per distinct secret the calls need, for the whole deployment."""
    return len({secret_kind(p) for p in paths if p.startswith(CGI) and p != CGI + "gettoken"})


def compare(measured: dict[str, Counter[str]], minimum: dict[str, Counter[str]]) -> list[str]:
    """Per task and endpoint, where the measured calls differ from the minimum (``task path +n (why)``)."""
    lines = []
    for task in sorted(set(measured) | set(minimum)):
        seen, least = measured.get(task, Counter()), minimum.get(task, Counter())
        for path in sorted(set(seen) | set(least)):
            if path == CGI + "gettoken":
                continue
            delta = seen.get(path, 0) - least.get(path, 0)
            if delta:
                lines.append(f"{task} {path.removeprefix(CGI)} {delta:+d}")
    return lines


def explain(line: str) -> str:
    """What an excess of calls usually means, for the notes."""
    reasons: dict[str, str] = {
        "disable_member user/get": "reads the member back after WeCom confirmed the update",
        "delete_member user/get": "reads the member back after WeCom confirmed the deletion",
        "hand_over_customers externalcontact/resigned/transfer_result": "reads resigned transfers while "
        "the member is still active (none can exist yet)",
    }
    for key, reason in reasons.items():
        task, path = key.split(" ", 1)
        if task in line and path in line:
            return f"{line}: {reason}"
    return line


def total(table: dict[str, Counter[str]] | Any) -> int:
    return sum(sum(c.values()) for c in table.values())
