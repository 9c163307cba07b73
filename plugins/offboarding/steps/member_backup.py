"""Back up a batch of members before anything is handed over or deleted, and verify the backup.

One *backup part* per try that had members left to back up: ``members/<batch>/backup-<n>/`` holds

* ``profiles.jsonl`` — one line per member: ``{"userid", "profile": user/get}``;
* ``customers.jsonl`` — one line per customer relation: ``{"member", "external_contact", "follow_info"}``
  (``externalcontact/batch/get_by_user``, up to 100 members per call, cursor paging);
* ``groups.jsonl`` — one line per customer group a member owns: ``groupchat/get`` plus ``member`` and
  ``status`` (``groupchat/list`` filtered by up to 100 owners per call). A group that an earlier batch
  of the case handed to the successor is already in that batch's verified backup: the leaders' backup
  lists it as ``{"chat_id", "member", "status", "backed_up_in": <that groups.jsonl>}`` without reading
  it again (:class:`ReceivedGroups`);
* ``manifest.json`` — sizes and sha256 of the three files, what could not be exported, read back and
  verified (plaintext, like the case manifest).

Everything is streamed: only the current page is in memory. A member WeCom no longer knows (60111) is
``gone``; a member WeCom refuses to describe is ``failed`` with the errcode and is not deleted. A
configuration error (secret, trusted IP, visible range) is raised: it concerns every member.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offboarding.backup.entries import FileEntry
from offboarding.backup.manifest import BackupManifest
from offboarding.backup.storage import BackupStore
from offboarding.backup.verification import verify
from offboarding.steps.batches import batch_dir
from offboarding.steps.corp import WeComCorp, is_member_gone
from offboarding.steps.errors import StepFailed
from offboarding.steps.jsonl import Tally, jsonl_chunks
from offboarding.steps.not_exported import STANDING_NOT_EXPORTED
from offboarding.wecom.customer_contacts import NO_RELATIONSHIP_ERRCODE
from offboarding.wecom.errors import WeComDataError
from offboarding.wecom.paging import chunked, iter_cursor

PROFILES_FILE = "profiles.jsonl"
CUSTOMERS_FILE = "customers.jsonl"
GROUPS_FILE = "groups.jsonl"
PART_MANIFEST_FILE = "manifest.json"
MEMBERS_PER_CUSTOMER_CALL = 100
"""``batch/get_by_user`` takes up to 100 userids per call."""
CUSTOMERS_PER_PAGE = 100
OWNERS_PER_GROUP_LIST_CALL = 100
"""``groupchat/list`` owner_filter takes up to 100 userids."""
GROUPS_PER_PAGE = 1000


def part_folder(batch_id: str, part: int) -> str:
    """``members/batch-0007/backup-1``."""
    return f"{batch_dir(batch_id)}/backup-{part}"


@dataclass
class BatchBackup:
    """The verified backup of one try: who was backed up, who is gone, who failed, and the manifest."""

    folder: str
    manifest_sha256: str
    summary: str
    backed_up: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    customers: int = 0
    groups: int = 0
    groups_backed_up_earlier: int = 0


@dataclass(frozen=True)
class ReceivedGroups:
    """Customer groups earlier batches handed over to ``recipient`` (the successor), each with the
    ``groups.jsonl`` of the verified backup part that holds it: backed up there, not read again."""

    recipient: str
    backed_up_in: Mapping[str, str] = field(default_factory=dict)

    def where(self, chat_id: str, owners: set[str]) -> str | None:
        """The groups file holding ``chat_id`` when the recipient is among the ``owners`` listed, else None."""
        return self.backed_up_in.get(chat_id) if self.recipient in owners else None


@dataclass
class Holdings:
    """What a member holds that must be handed over, read from the verified backup."""

    customers: dict[str, list[str]] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)

    def customers_of(self, userid: str) -> list[str]:
        return self.customers.get(userid, [])

    def groups_of(self, userid: str) -> list[str]:
        return self.groups.get(userid, [])


class _BatchReader:
    """Reads the members of one batch from WeCom as three streams, sorting members into ok/gone/failed."""

    def __init__(
        self, corp: WeComCorp, userids: Sequence[str], received: ReceivedGroups | None = None
    ) -> None:
        self.corp = corp
        self.userids = list(userids)
        self.received = received
        self.referenced = 0
        self.ok: list[str] = []
        self.gone: list[str] = []
        self.failed: dict[str, dict[str, Any]] = {}
        self.not_exported: list[tuple[str, str, str]] = []

    def _drop(self, userid: str, err: WeComDataError, step: str) -> None:
        if userid in self.ok:
            self.ok.remove(userid)
        if is_member_gone(err):
            self.gone.append(userid)
            self.not_exported.append(
                (f"member {userid}", "no longer in WeCom (deleted before the batch reached them)", "60111")
            )
        else:
            self.failed[userid] = {"step": step, "errcode": err.errcode, "errmsg": err.message}
            self.not_exported.append((f"{step} of {userid}", err.message, str(err.errcode or "")))

    def profiles(self) -> Iterator[dict[str, Any]]:
        for userid in self.userids:
            try:
                profile = self.corp.contacts.get_user(userid)
            except WeComDataError as err:
                self._drop(userid, err, "profile")
                continue
            self.ok.append(userid)
            yield {"userid": userid, "profile": profile}

    def customers(self) -> Iterator[dict[str, Any]]:
        client = self.corp.customer_contacts.client
        for chunk in chunked(list(self.ok), MEMBERS_PER_CUSTOMER_CALL):
            seen: set[tuple[str, str]] = set()
            pages = iter_cursor(
                lambda cursor, chunk=chunk: client.post(
                    "externalcontact/batch/get_by_user",
                    {"userid_list": chunk, "cursor": cursor, "limit": CUSTOMERS_PER_PAGE},
                ),
                "external_contact_list",
                path="/cgi-bin/externalcontact/batch/get_by_user",
            )
            try:
                for item in pages:
                    line = _customer_line(item)
                    if line is not None:
                        seen.add((line["member"], line["external_contact"]["external_userid"]))
                        yield line
            except WeComDataError:
                # One member of the chunk spoils the call (e.g. deleted meanwhile): ask member by member.
                yield from self._customers_one_by_one(chunk, seen)

    def _customers_one_by_one(self, chunk: list[str], seen: set[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        for userid in chunk:
            try:
                for item in self.corp.customer_contacts.iter_customer_details(userid):
                    line = _customer_line(item, userid)
                    if line is not None and (userid, line["external_contact"]["external_userid"]) not in seen:
                        yield line
            except WeComDataError as err:
                if err.errcode != NO_RELATIONSHIP_ERRCODE:
                    self._drop(userid, err, "customers")

    def groups(self) -> Iterator[dict[str, Any]]:
        client = self.corp.customer_contacts.client
        for chunk in chunked(list(self.ok), OWNERS_PER_GROUP_LIST_CALL):
            owners = set(chunk)
            listing = iter_cursor(
                lambda cursor, chunk=chunk: client.post(
                    "externalcontact/groupchat/list",
                    {
                        "status_filter": 0,
                        "owner_filter": {"userid_list": chunk},
                        "cursor": cursor,
                        "limit": GROUPS_PER_PAGE,
                    },
                ),
                "group_chat_list",
                path="/cgi-bin/externalcontact/groupchat/list",
            )
            try:
                chats = [(str(g["chat_id"]), g.get("status")) for g in listing]
            except WeComDataError:
                chats = list(self._chats_one_by_one(chunk))
            for chat_id, status in chats:
                line = self._reference_line(chat_id, status, owners) or self._group_line(
                    chat_id, status, owners
                )
                if line is not None:
                    yield line

    def _chats_one_by_one(self, chunk: list[str]) -> Iterator[tuple[str, Any]]:
        for userid in chunk:
            try:
                found = list(self.corp.customer_contacts.iter_group_chats(owner=userid))
            except WeComDataError as err:
                self._drop(userid, err, "customer groups")
                continue
            yield from ((str(g["chat_id"]), g.get("status")) for g in found)

    def _reference_line(self, chat_id: str, status: Any, owners: set[str]) -> dict[str, Any] | None:
        """A group an earlier batch handed to the recipient: where its backup is, instead of reading it."""
        if self.received is None:
            return None
        where = self.received.where(chat_id, owners)
        if where is None:
            return None
        self.referenced += 1
        return {
            "chat_id": chat_id,
            "member": self.received.recipient,
            "status": status,
            "backed_up_in": where,
        }

    def _group_line(self, chat_id: str, status: Any, owners: set[str]) -> dict[str, Any] | None:
        try:
            detail = self.corp.customer_contacts.get_group_chat(chat_id)
        except WeComDataError as err:
            self.not_exported.append((f"customer group {chat_id}", err.message, str(err.errcode or "")))
            return None
        owner = detail.get("owner")
        if owner not in owners:
            return None
        return {**detail, "member": owner, "status": status}


def _customer_line(item: dict[str, Any], member: str | None = None) -> dict[str, Any] | None:
    contact = item.get("external_contact") or {}
    follower = (item.get("follow_info") or {}).get("userid") or member
    if not contact.get("external_userid") or not follower:
        return None
    return {"member": follower, **item}


def back_up_members(
    corp: WeComCorp,
    store: BackupStore,
    case_id: str,
    folder: str,
    userids: Sequence[str],
    *,
    subject: str,
    retention_days: int,
    received: ReceivedGroups | None = None,
) -> BatchBackup:
    """Back up ``userids`` into ``folder``, write its manifest, read everything back and verify it.

    ``received``: groups earlier batches handed over and backed up, listed here by reference only.
    Raises StepFailed when the backup does not read back as written (nobody is deleted then).
    """
    reader = _BatchReader(corp, userids, received)
    customers, groups = Tally(), Tally()
    entries = [
        store.write_stream(
            case_id,
            f"{folder}/{PROFILES_FILE}",
            jsonl_chunks(reader.profiles(), Tally()),
            source="wecom:user/get",
        ),
        store.write_stream(
            case_id,
            f"{folder}/{CUSTOMERS_FILE}",
            jsonl_chunks(reader.customers(), customers),
            source="wecom:externalcontact/batch/get_by_user",
        ),
        store.write_stream(
            case_id,
            f"{folder}/{GROUPS_FILE}",
            jsonl_chunks(reader.groups(), groups),
            source="wecom:externalcontact/groupchat/list,groupchat/get",
        ),
    ]
    manifest = BackupManifest.start(case_id, subject, retention=retention_days, encrypted=store.encrypted)
    for entry in entries:
        manifest.add(entry)
    for item in STANDING_NOT_EXPORTED:
        manifest.record_not_exported(item.item, item.reason, item.reference)
    for item, reason, reference in reader.not_exported:
        manifest.record_not_exported(item, reason, reference)
    manifest_path = f"{folder}/{PART_MANIFEST_FILE}"
    store.write_bytes(case_id, manifest_path, manifest.to_json_bytes(), source="manifest", encrypt=False)
    on_disk = store.read_bytes(case_id, manifest_path)
    if hashlib.sha256(on_disk).hexdigest() != manifest.sha256:
        raise StepFailed(
            f"the manifest {manifest_path} reads back differently from what was written: the backup storage "
            "does not keep what is written; check it, then clear this task (nobody was deleted)"
        )
    report = verify(store, BackupManifest.from_json(on_disk))
    if not report.ok:
        problems = [i.path for i in (*report.missing, *report.mismatched)]
        raise StepFailed(
            f"the backup in {folder} did not verify ({', '.join(problems)}): {report.summary_text()}. "
            "Clear this task to back the batch up again; nobody was deleted."
        )
    return BatchBackup(
        folder=folder,
        manifest_sha256=manifest.sha256,
        summary=report.summary_text(),
        backed_up=[u for u in reader.ok if u not in reader.failed],
        gone=list(reader.gone),
        failed=dict(reader.failed),
        files=[entry.to_dict() for entry in entries],
        customers=customers.records,
        groups=groups.records,
        groups_backed_up_earlier=reader.referenced,
    )


def read_holdings(store: BackupStore, case_id: str, folders: Iterable[str]) -> Holdings:
    """Who holds which customers and customer groups, from the backup parts (verified before)."""
    holdings = Holdings()
    for folder in folders:
        for record in _jsonl(store, case_id, f"{folder}/{CUSTOMERS_FILE}"):
            external_userid = (record.get("external_contact") or {}).get("external_userid")
            customers = holdings.customers.setdefault(str(record["member"]), [])
            if external_userid and external_userid not in customers:
                customers.append(str(external_userid))
        for record in _jsonl(store, case_id, f"{folder}/{GROUPS_FILE}"):
            groups = holdings.groups.setdefault(str(record["member"]), [])
            if record.get("chat_id") and record["chat_id"] not in groups:
                groups.append(str(record["chat_id"]))
    return holdings


def _jsonl(store: BackupStore, case_id: str, path: str) -> Iterator[dict[str, Any]]:
    pending = b""
    for chunk in store.read_stream(case_id, path):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from (json.loads(line) for line in lines if line.strip())
    if pending.strip():
        yield json.loads(pending)


def part_manifest_entry(store: BackupStore, case_id: str, folder: str) -> FileEntry:
    """The manifest entry of a part's own manifest file (for the case manifest)."""
    path = f"{folder}/{PART_MANIFEST_FILE}"
    digest = store.digest_file(case_id, path, encrypted=False)
    return FileEntry(
        path, digest.size, digest.sha256, digest.stored_sha256, source="manifest", encrypted=False
    )


def load_part_manifest(store: BackupStore, case_id: str, folder: str) -> BackupManifest:
    return BackupManifest.from_json(store.read_bytes(case_id, f"{folder}/{PART_MANIFEST_FILE}"))
