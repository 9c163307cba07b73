"""The sandbox corp's state: departments, members, tags, chats, customers, transfers, WeDrive, messages.

Plain data plus the few operations several endpoints share (deleting a member, starting and settling
transfers). All access happens under ``World.lock``; the HTTP layer takes it once per request.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

from offboarding_dev.sandbox.accounts import Account
from offboarding_dev.sandbox.ratelimit import WEBHOOK_MESSAGES_PER_MINUTE, MinuteLimiter
from offboarding_dev.sandbox.seqindex import SeqIndex

TransferKind = Literal["onjob", "resigned"]

# Member status as user/get reports it.
STATUS_ACTIVE = 1
STATUS_DISABLED = 2
STATUS_NOT_ACTIVATED = 4
STATUS_QUIT = 5

# Customer transfer status as transfer_result reports it.
TAKEOVER_DONE = 1
TAKEOVER_WAITING = 2
TAKEOVER_REFUSED = 3
TAKEOVER_LIMIT_REACHED = 4

# Customer group chat status as groupchat/list reports it.
GROUP_NORMAL = 0
GROUP_OWNER_RESIGNED = 1
GROUP_INHERITING = 2
GROUP_INHERITED = 3

DEFAULT_CUSTOMER_LIMIT = 50000


@dataclass(slots=True)
class Department:
    id: int
    name: str
    parentid: int
    order: int = 0

    def as_wecom(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "parentid": self.parentid, "order": self.order}


@dataclass(slots=True)
class Member:
    userid: str
    name: str
    department: list[int]
    main_department: int
    order: list[int] = field(default_factory=list)
    is_leader_in_dept: list[int] = field(default_factory=list)
    position: str = ""
    gender: str = "0"
    email: str = ""
    mobile: str = ""
    alias: str = ""
    direct_leader: list[str] = field(default_factory=list)
    status: int = STATUS_ACTIVE
    deleted: bool = False
    deleted_at: float | None = None
    is_creator: bool = False
    is_admin: bool = False
    roles: list[str] = field(default_factory=list)
    customer_limit: int = DEFAULT_CUSTOMER_LIMIT
    customers: SeqIndex[str] = field(default_factory=SeqIndex)
    group_chats: SeqIndex[str] = field(default_factory=SeqIndex)
    tags: set[int] = field(default_factory=set)
    app_chats: set[str] = field(default_factory=set)

    def as_wecom(self) -> dict[str, Any]:
        """The member as user/get answers (without errcode/errmsg)."""
        return {
            "userid": self.userid,
            "name": self.name,
            "department": list(self.department),
            "order": list(self.order),
            "main_department": self.main_department,
            "position": self.position,
            "gender": self.gender,
            "email": self.email,
            "mobile": self.mobile,
            "is_leader_in_dept": list(self.is_leader_in_dept),
            "direct_leader": list(self.direct_leader),
            "alias": self.alias,
            "status": self.status,
            "extattr": {"attrs": []},
        }


@dataclass(slots=True)
class FollowInfo:
    """One member following one customer."""

    userid: str
    createtime: int
    remark: str = ""
    add_way: int = 1


@dataclass(slots=True)
class Customer:
    """An external contact (客户) and who follows it."""

    external_userid: str
    name: str
    type: int = 1
    gender: int = 0
    corp_name: str = ""
    refuses_takeover: bool = False
    follow: dict[str, FollowInfo] = field(default_factory=dict)
    onjob_transfer_times: list[float] = field(default_factory=list)


@dataclass(slots=True)
class GroupMember:
    userid: str
    type: int  # 1 member, 2 external contact
    join_time: int
    join_scene: int = 1


@dataclass(slots=True)
class GroupChat:
    """A customer group chat (客户群)."""

    chat_id: str
    name: str
    owner: str
    create_time: int
    members: list[GroupMember] = field(default_factory=list)
    notice: str = ""
    status: int = GROUP_NORMAL
    pending_owner: str | None = None
    inherit_at: float | None = None
    onjob_transfer_times: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Tag:
    tagid: int
    name: str
    created_by_app: bool
    users: dict[str, None] = field(default_factory=dict)
    parties: list[int] = field(default_factory=list)


@dataclass(slots=True)
class AppChat:
    """An internal group chat created through appchat/create (by this app or another one)."""

    chatid: str
    name: str
    owner: str
    users: list[str]
    created_by_app: bool = True


@dataclass(slots=True)
class TransferRecord:
    """One customer handed from one member to another, settled lazily at ``takeover_at``."""

    kind: TransferKind
    handover: str
    takeover: str
    external_userid: str
    submitted_at: float
    takeover_at: float
    status: int = TAKEOVER_WAITING


@dataclass(slots=True)
class TransferBook:
    """The transfers between one (handover, takeover) pair of one kind, in submission order."""

    order: SeqIndex[str] = field(default_factory=SeqIndex)
    records: dict[str, TransferRecord] = field(default_factory=dict)


@dataclass(slots=True)
class WeDriveSpace:
    spaceid: str
    name: str
    owner: str | None = None


@dataclass(slots=True)
class WeDriveFile:
    fileid: str
    spaceid: str
    fatherid: str
    file_name: str
    file_type: int  # 1 folder, 2 file
    file_size: int
    ctime: int
    mtime: int
    md5: str = ""
    sha: str = ""
    content: bytes | None = None  # real bytes for small seeded files; None = generated on the fly

    def as_wecom(self) -> dict[str, Any]:
        return {
            "fileid": self.fileid,
            "file_name": self.file_name,
            "spaceid": self.spaceid,
            "fatherid": self.fatherid,
            "file_size": self.file_size,
            "ctime": self.ctime,
            "mtime": self.mtime,
            "file_type": self.file_type,
            "file_status": 1,
            "sha": self.sha,
            "md5": self.md5,
        }


@dataclass(slots=True)
class DownloadTicket:
    fileid: str
    cookie_name: str
    cookie_value: str
    expires_at: float


class World:
    """Everything one seeded corp holds. Callers hold ``lock`` while reading or changing it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.departments: dict[int, Department] = {}
        self.members: dict[str, Member] = {}
        self.member_order: SeqIndex[str] = SeqIndex()
        self.tags: dict[int, Tag] = {}
        self.app_chats: dict[str, AppChat] = {}
        self.customers: dict[str, Customer] = {}
        self.group_chats: dict[str, GroupChat] = {}
        self.group_order: SeqIndex[str] = SeqIndex()
        self.unassigned: SeqIndex[tuple[str, str]] = SeqIndex()  # (handover userid, external_userid)
        self.transfer_books: dict[tuple[TransferKind, str, str], TransferBook] = {}
        self.waiting_transfer: dict[str, TransferRecord] = {}  # external_userid -> its status-2 transfer
        self.group_transfers_per_day: dict[tuple[str, str, str], int] = {}
        self.spaces: dict[str, WeDriveSpace] = {}
        self.files: dict[str, WeDriveFile] = {}
        self.children: dict[str, SeqIndex[str]] = {}
        self.download_tickets: dict[str, DownloadTicket] = {}
        self.app_messages: list[tuple[float, dict[str, Any]]] = []  # (epoch, record)
        self.robot_messages: list[tuple[float, dict[str, Any]]] = []
        self.accounts: dict[str, Account] = {}
        self.robot_limiter = MinuteLimiter(WEBHOOK_MESSAGES_PER_MINUTE)  # per webhook key
        self._due: list[tuple[float, int, str, Any]] = []
        self._due_counter = itertools.count()
        self._ids = itertools.count(1)

    # ----- building (seeds) -------------------------------------------------------------------------
    def add_department(self, dept: Department) -> None:
        self.departments[dept.id] = dept

    def add_member(self, member: Member) -> Member:
        if not member.order:
            member.order = [0] * len(member.department)
        if not member.is_leader_in_dept:
            member.is_leader_in_dept = [0] * len(member.department)
        self.members[member.userid] = member
        self.member_order.add(member.userid)
        return member

    def add_customer(self, customer: Customer, followers: list[str], createtime: int) -> Customer:
        self.customers[customer.external_userid] = customer
        for userid in followers:
            customer.follow[userid] = FollowInfo(userid=userid, createtime=createtime)
            self.members[userid].customers.add(customer.external_userid)
        return customer

    def add_group_chat(self, chat: GroupChat) -> GroupChat:
        self.group_chats[chat.chat_id] = chat
        self.group_order.add(chat.chat_id)
        self.members[chat.owner].group_chats.add(chat.chat_id)
        return chat

    def add_tag(self, tag: Tag, userids: list[str]) -> Tag:
        self.tags[tag.tagid] = tag
        for userid in userids:
            tag.users[userid] = None
            self.members[userid].tags.add(tag.tagid)
        return tag

    def add_app_chat(self, chat: AppChat) -> AppChat:
        self.app_chats[chat.chatid] = chat
        for userid in chat.users:
            self.members[userid].app_chats.add(chat.chatid)
        return chat

    def add_space(self, space: WeDriveSpace) -> None:
        self.spaces[space.spaceid] = space
        self.children.setdefault(space.spaceid, SeqIndex())

    def add_file(self, item: WeDriveFile) -> WeDriveFile:
        self.files[item.fileid] = item
        self.children.setdefault(item.fatherid, SeqIndex()).add(item.fileid)
        if item.file_type == 1:
            self.children.setdefault(item.fileid, SeqIndex())
        return item

    def new_id(self, prefix: str) -> str:
        """A fresh identifier such as ``msg_000042``."""
        return f"{prefix}{next(self._ids):06d}"

    # ----- lookups ----------------------------------------------------------------------------------
    def live_member(self, userid: str) -> Member | None:
        """The member if it exists in the contacts now (not deleted)."""
        member = self.members.get(userid)
        return None if member is None or member.deleted else member

    # ----- member deletion --------------------------------------------------------------------------
    def delete_member(self, member: Member, now: float) -> None:
        """Remove a member from the contacts: they become 离职 (resigned).

        Their customers become unassigned (get_unassigned_list), their customer groups wait for
        inheritance (status 1); they leave their tags. App chats and follow relations are kept (what
        WeCom does with them is undocumented; the product removes them before deleting).
        """
        member.deleted = True
        member.deleted_at = now
        for tagid in list(member.tags):
            self.tags[tagid].users.pop(member.userid, None)
        member.tags.clear()
        for external_userid in member.customers:
            self.unassigned.add((member.userid, external_userid))
        for chat_id in member.group_chats:
            chat = self.group_chats[chat_id]
            if chat.status == GROUP_NORMAL:
                chat.status = GROUP_OWNER_RESIGNED

    # ----- customer transfers -----------------------------------------------------------------------
    def transfer_book(self, kind: TransferKind, handover: str, takeover: str) -> TransferBook:
        key = (kind, handover, takeover)
        book = self.transfer_books.get(key)
        if book is None:
            book = self.transfer_books[key] = TransferBook()
        return book

    def start_transfer(
        self, kind: TransferKind, handover: str, takeover: str, external_userid: str, now: float, due: float
    ) -> TransferRecord:
        """Record a customer transfer in status 2 (waiting) that settles at ``due``."""
        record = TransferRecord(kind, handover, takeover, external_userid, submitted_at=now, takeover_at=due)
        book = self.transfer_book(kind, handover, takeover)
        book.order.discard(external_userid)  # a re-transfer moves to the end of the pair's list
        book.order.add(external_userid)
        book.records[external_userid] = record
        self.waiting_transfer[external_userid] = record
        self._schedule(due, "transfer", record)
        return record

    def start_group_inheritance(self, chat: GroupChat, new_owner: str, due: float) -> None:
        chat.status = GROUP_INHERITING
        chat.pending_owner = new_owner
        chat.inherit_at = due
        self._schedule(due, "group", chat)

    def _schedule(self, due: float, kind: str, item: Any) -> None:
        heapq.heappush(self._due, (due, next(self._due_counter), kind, item))

    def settle_due(self, now: float) -> None:
        """Settle every transfer and group inheritance whose time has come (lazy state progression)."""
        due = self._due
        while due and due[0][0] <= now:
            _, _, kind, item = heapq.heappop(due)
            if kind == "transfer":
                self._settle_transfer(item)
            else:
                self._settle_group(item)

    def _settle_transfer(self, record: TransferRecord) -> None:
        if record.status != TAKEOVER_WAITING:
            return
        if self.waiting_transfer.get(record.external_userid) is record:
            del self.waiting_transfer[record.external_userid]
        customer = self.customers[record.external_userid]
        takeover = self.members[record.takeover]
        if customer.refuses_takeover:
            record.status = TAKEOVER_REFUSED
            return
        if len(takeover.customers) >= takeover.customer_limit:
            record.status = TAKEOVER_LIMIT_REACHED
            return
        record.status = TAKEOVER_DONE
        old = customer.follow.pop(record.handover, None)
        createtime = old.createtime if old else int(record.takeover_at)
        customer.follow[record.takeover] = FollowInfo(
            userid=record.takeover, createtime=createtime, add_way=0
        )
        self.members[record.handover].customers.discard(record.external_userid)
        takeover.customers.add(record.external_userid)
        self.unassigned.discard((record.handover, record.external_userid))

    def _settle_group(self, chat: GroupChat) -> None:
        if chat.status != GROUP_INHERITING or chat.pending_owner is None:
            return
        self.change_group_owner(chat, chat.pending_owner)
        chat.status = GROUP_INHERITED
        chat.pending_owner = None

    def change_group_owner(self, chat: GroupChat, new_owner: str) -> None:
        self.members[chat.owner].group_chats.discard(chat.chat_id)
        chat.owner = new_owner
        self.members[new_owner].group_chats.add(chat.chat_id)
        if not any(m.userid == new_owner for m in chat.members):
            chat.members.append(GroupMember(userid=new_owner, type=1, join_time=chat.create_time))

    # ----- state summary ----------------------------------------------------------------------------
    def counts(self) -> dict[str, Any]:
        """Counts for GET /sandbox/state."""
        members = {"active": 0, "disabled": 0, "not_activated": 0, "quit": 0, "deleted": 0}
        names = {STATUS_ACTIVE: "active", STATUS_DISABLED: "disabled", STATUS_NOT_ACTIVATED: "not_activated"}
        for member in self.members.values():
            if member.deleted:
                members["deleted"] += 1
            else:
                members[names.get(member.status, "quit")] += 1
        relations = {"followed_by_member": 0, "followed_by_resigned": 0}
        for customer in self.customers.values():
            for userid in customer.follow:
                key = "followed_by_resigned" if self.members[userid].deleted else "followed_by_member"
                relations[key] += 1
        transfers = {"waiting": 0, "done": 0, "refused": 0, "limit_reached": 0}
        status_names = {1: "done", 2: "waiting", 3: "refused", 4: "limit_reached"}
        for book in self.transfer_books.values():
            for record in book.records.values():
                transfers[status_names[record.status]] += 1
        groups = {"normal": 0, "owner_resigned": 0, "inheriting": 0, "inherited": 0}
        group_names = {0: "normal", 1: "owner_resigned", 2: "inheriting", 3: "inherited"}
        for chat in self.group_chats.values():
            groups[group_names[chat.status]] += 1
        return {
            "members": members,
            "departments": len(self.departments),
            "customers": len(self.customers),
            "customer_relations": relations,
            "unassigned_customers": len(self.unassigned),
            "pending_transfers": len(self.waiting_transfer),
            "transfers": transfers,
            "group_chats": groups,
            "tags": len(self.tags),
            "app_chats": len(self.app_chats),
            "wedrive_files": sum(1 for f in self.files.values() if f.file_type == 2),
            "app_messages": len(self.app_messages),
            "robot_messages": len(self.robot_messages),
        }
