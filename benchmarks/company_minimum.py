"""The batching minimum of WeCom calls to offboard every member of a company.

From what WeCom holds (members, customers and customer groups per member) and its batch limits:
list every member id (10,000 a page) for the plan, and once more for the summary's proof of who is left;
read each member's profile once; read customers 100 members a call
and 100 customers a page; list groups 100 owners a call (1,000 a page) and read each group once; hand
customers over one call per member (≤ 100 customers each), groups 100 a call; delete 200 members a call,
and the leaders' batch (the admins deleted last) in one more call (``user/delete`` when that is one
member); check the successor once; one token per secret used. Customers per member are taken as the corp's average (uniform in the ``members:N`` seed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.person_minimum import CGI, batches, pages

LIST_ID_PAGE = 10_000
MEMBERS_PER_CUSTOMER_READ = 100
CUSTOMERS_PER_PAGE = 100
OWNERS_PER_GROUP_LIST = 100
GROUPS_PER_PAGE = 1000
TRANSFER_MAX = 100
GROUP_TRANSFER_MAX = 100
BATCH_DELETE_MAX = 200


@dataclass(frozen=True)
class CompanyFacts:
    """The corp before the case: members to offboard, leaders (admins deleted last, kept members), holdings."""

    members: int
    admins_deleted_last: int
    kept: int
    customers: int
    groups: int

    @property
    def everyone(self) -> int:
        return self.members + self.admins_deleted_last + self.kept


def member_chunks(members: int, batch_size: int, chunk: int) -> list[int]:
    """Sizes of the ``chunk``-member calls when ``members`` are cut in batches of ``batch_size`` first."""
    sizes = []
    for start in range(0, members, batch_size):
        in_batch = min(batch_size, members - start)
        sizes += [min(chunk, in_batch - k) for k in range(0, in_batch, chunk)]
    return sizes


def company_minimum(facts: CompanyFacts, batch_size: int = BATCH_DELETE_MAX) -> dict[str, int]:
    """``{path: calls}`` at the batching minimum (gettoken excluded)."""
    f = facts
    per_member = f.customers / f.members if f.members else 0.0
    chunks = member_chunks(f.members, batch_size, MEMBERS_PER_CUSTOMER_READ)
    leader_members = f.admins_deleted_last + f.kept
    customer_reads = sum(pages(math.ceil(size * per_member), CUSTOMERS_PER_PAGE) for size in chunks)
    customer_reads += pages(0, CUSTOMERS_PER_PAGE) * math.ceil(leader_members / MEMBERS_PER_CUSTOMER_READ)
    owner_chunks = member_chunks(f.members, batch_size, OWNERS_PER_GROUP_LIST)
    group_lists = sum(pages(size, GROUPS_PER_PAGE) for size in owner_chunks)
    group_lists += math.ceil(leader_members / OWNERS_PER_GROUP_LIST)
    regular_batches = math.ceil(f.members / batch_size)
    calls = {
        "user/list_id": pages(f.everyone, LIST_ID_PAGE) + pages(leader_members, LIST_ID_PAGE),
        "user/get": f.everyone + 1,
        "externalcontact/batch/get_by_user": customer_reads,
        "externalcontact/groupchat/list": group_lists,
        "externalcontact/groupchat/get": f.groups,
        "externalcontact/transfer_customer": f.members,
        "externalcontact/groupchat/onjob_transfer": sum(
            batches(min(batch_size, f.members - s), GROUP_TRANSFER_MAX)
            for s in range(0, f.members, batch_size)
        ),
        "user/batchdelete": regular_batches + (1 if f.admins_deleted_last > 1 else 0),
        "user/delete": 1 if f.admins_deleted_last == 1 else 0,
    }
    return {CGI + path: n for path, n in calls.items() if n}
