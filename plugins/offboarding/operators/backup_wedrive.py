"""``ExportWeDriveFilesOperator``: every file of the WeDrive spaces named in the case, streamed to the backup."""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from offboarding.operators.base import Case, CaseOperator

if TYPE_CHECKING:
    from offboarding.backup.entries import FileEntry

WEDRIVE_DIR = "wedrive"
INDEX_PATH = "wedrive/index.jsonl"
"""One line per saved file: backup path, WeDrive space/file id and path, and its manifest entry."""
FOLDER, ORDINARY_FILE = 1, 2
QUOTA_ERRCODE = 640019
API_DISABLED_ERRCODE = 640017
ONLINE_DOCUMENT_ERRCODE = 640029
UNREACHABLE_SPACE_ERRCODES = frozenset({640004, 640008})
NOT_DOWNLOADABLE = {
    ONLINE_DOCUMENT_ERRCODE: "an online document (微文档) or not an ordinary file: WeDrive's API only "
    "downloads ordinary files; export it by hand in WeDrive",
    640002: "deleted from WeDrive while the backup ran",
    640004: "the app has no access to this file",
}
DOWNLOAD_ATTEMPTS = 2
"""A download that broke off or arrived with the wrong md5 is fetched once more with a new ticket."""
_MD5 = r"^[0-9a-fA-F]{32}$"  # compiled when first used (re caches it), not when the DAG is parsed


class ExportWeDriveFilesOperator(CaseOperator):
    """Stream every file of ``conf["wedrive_space_ids"]`` (recursively) into ``wedrive/<space>/<folders>/<name>``.

    Each download is streamed end to end (memory stays bounded whatever the file size) and checked
    against WeDrive's md5. Names are made safe and unique (see :mod:`.backup_names`). Recorded as not
    exported, with the errcode: online documents (640029), spaces or files the app cannot reach
    (640004/640008), and always the member's personal WeDrive space (no app API reaches it). WeDrive's
    monthly API quota (640019) or a disabled WeDrive API (640017) fail the task with what to do.

    Rerun-safe and quota-saving: a file already in the backup with WeDrive's md5 is not downloaded again.
    Downloads that keep failing fail the task after the other files are saved (rerun to fetch the rest).

    XCom: ``{"files": [the index's FileEntry], "file_lists": [{"path": "wedrive/index.jsonl", "sha256",
    "count"}], "not_exported": [...], "spaces": n, "downloaded": n, "reused": n, "bytes": n}``. The
    index lists every saved file's entry, so the XCom stays small however many files there are.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.operators.adapter import member_userid, record_evidence
        from offboarding.steps.jsonl import Tally, jsonl_chunks
        from offboarding.steps.not_exported import not_exported

        userid = member_userid(case)
        space_ids = wedrive_space_ids(case.conf)
        export = _SpaceExport(self, case)
        with self._quota_fails_the_task(case, userid, export):
            for spaceid in space_ids:
                export.space(spaceid)
        export.skipped.append(
            not_exported(
                f"personal WeDrive space of {userid}",
                "WeCom's app API cannot reach a member's personal WeDrive files (only spaces the app may "
                "open); ask the member to move work files to a shared space before leaving, or use "
                "WeDrive content archive (微盘内容存档)",
                "640008",
            )
        )
        if export.failures:
            record_evidence(
                case,
                self.task_id,
                "backup.wedrive_failed",
                key=userid,
                request={"spaces": space_ids},
                result={"failed": export.failures, "saved": len(export.index)},
            )
            listed = "; ".join(f"{f['wedrive_path']} ({f['error']})" for f in export.failures[:10])
            raise AirflowException(
                f"{len(export.failures)} WeDrive file(s) could not be downloaded after {DOWNLOAD_ATTEMPTS} "
                f"attempts: {listed}. The other files are saved; clear this task to fetch the rest."
            )
        tally = Tally()
        index_entry = case.store.write_stream(
            case.case_id, INDEX_PATH, jsonl_chunks(export.index, tally), source="wedrive:file_list"
        )
        result = {
            "files": [index_entry.to_dict()],
            "file_lists": [{"path": INDEX_PATH, "sha256": index_entry.sha256, "count": tally.records}],
            "not_exported": export.skipped,
            "spaces": len(space_ids),
            "downloaded": export.downloaded,
            "reused": export.reused,
            "bytes": export.bytes,
        }
        record_evidence(
            case,
            self.task_id,
            "backup.wedrive_exported",
            key=userid,
            request={"spaces": space_ids},
            result={k: v for k, v in result.items() if k not in ("files", "not_exported")}
            | {"not_exported": len(export.skipped)},
        )
        self.log.info(
            "Saved %d WeDrive files (%d downloaded, %d already in the backup), %d bytes; %d items not exported",
            len(export.index),
            export.downloaded,
            export.reused,
            export.bytes,
            len(export.skipped),
        )
        return result

    @contextlib.contextmanager
    def _quota_fails_the_task(self, case: Case, userid: str, export: _SpaceExport) -> Iterator[None]:
        from offboarding.operators.adapter import record_evidence
        from offboarding.wecom.errors import WeComError

        try:
            yield
        except WeComError as err:
            if err.errcode == QUOTA_ERRCODE:
                record_evidence(
                    case,
                    self.task_id,
                    "backup.wedrive_quota_exhausted",
                    key=userid,
                    result={"errcode": QUOTA_ERRCODE, "saved_before": len(export.index)},
                )
                raise AirflowFailException(
                    "WeDrive's monthly API quota is used up (640019): free corps have 1,000 WeDrive calls a "
                    "month, paid corps 100,000. Wait for the quota to renew or raise it, then clear this "
                    f"task; the {len(export.index)} files saved so far are not downloaded again."
                ) from None
            if err.errcode == API_DISABLED_ERRCODE:
                raise AirflowFailException(
                    "the WeDrive API is not enabled (640017): in the WeCom admin console open 微盘 › API "
                    "and allow the app of this connection, then clear this task"
                ) from None
            raise


class _SpaceExport:
    """The state of one run of the export: paths handed out, files saved, what was not exported."""

    def __init__(self, operator: ExportWeDriveFilesOperator, case: Case) -> None:
        from offboarding.operators.backup_names import UniquePaths

        self.operator = operator
        self.case = case
        self.paths = UniquePaths()
        self.paths.reserve(INDEX_PATH)
        self.index: list[dict[str, Any]] = []
        self.skipped: list[dict[str, str]] = []
        self.failures: list[dict[str, Any]] = []
        self.downloaded = 0
        self.reused = 0
        self.bytes = 0

    @property
    def wedrive(self) -> Any:
        return self.operator.hook.wedrive

    def space(self, spaceid: str) -> None:
        """List the whole space first (so a refused space is one record), then save file by file."""
        from offboarding.steps.not_exported import not_exported
        from offboarding.wecom.errors import WeComDataError

        try:
            items = list(self.wedrive.iter_files(spaceid))
        except WeComDataError as err:
            if err.errcode not in UNREACHABLE_SPACE_ERRCODES:
                raise
            self.skipped.append(not_exported(f"WeDrive space {spaceid}", err.message, str(err.errcode)))
            self.operator.log.warning(
                "WeDrive space %s is not reachable (%s): recorded", spaceid, err.errcode
            )
            return
        root = self.paths.claim(WEDRIVE_DIR, spaceid, spaceid)
        folders = {spaceid: root}
        for item in items:
            fileid = str(item["fileid"])
            name = str(item.get("file_name") or fileid)
            parent = folders.get(str(item.get("fatherid") or spaceid), root)
            file_type = int(item.get("file_type", ORDINARY_FILE))
            if file_type == FOLDER:
                folders[fileid] = self.paths.claim(parent, name, fileid)
                continue
            wedrive_path = f"{spaceid}/{item.get('path') or name}"
            if file_type != ORDINARY_FILE:
                self._not_downloadable(wedrive_path, ONLINE_DOCUMENT_ERRCODE, f"file_type {file_type}")
                continue
            self._save(spaceid, item, self.paths.claim(parent, name, fileid), wedrive_path)

    def _save(self, spaceid: str, item: Mapping[str, Any], relpath: str, wedrive_path: str) -> None:
        fileid = str(item["fileid"])
        md5 = str(item.get("md5") or "")
        md5 = md5.lower() if re.fullmatch(_MD5, md5) else None
        source = f"wedrive:{spaceid}/{fileid}"
        entry = existing_copy(self.case, relpath, md5, source)
        if entry is not None:
            self.reused += 1
        else:
            entry = self._download(fileid, relpath, md5, source, wedrive_path)
            if entry is None:
                return
            self.downloaded += 1
        self.bytes += entry.size
        self.index.append(
            {
                "path": relpath,
                "spaceid": spaceid,
                "fileid": fileid,
                "wedrive_path": wedrive_path,
                "mtime": item.get("mtime"),
                "entry": entry.to_dict(),
            }
        )

    def _download(
        self, fileid: str, relpath: str, md5: str | None, source: str, wedrive_path: str
    ) -> FileEntry | None:
        from offboarding.backup.errors import ChecksumMismatchError
        from offboarding.wecom.errors import WeComDataError, WeComTransientError

        log = self.operator.log
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                chunks = self.wedrive.stream_file(fileid)
                return self.case.store.write_stream(
                    self.case.case_id, relpath, chunks, expected_md5=md5, source=source
                )
            except WeComDataError as err:
                if err.errcode in (QUOTA_ERRCODE, API_DISABLED_ERRCODE):
                    raise
                if err.errcode in NOT_DOWNLOADABLE:
                    self._not_downloadable(wedrive_path, err.errcode, err.message)
                    return None
                if err.errcode is not None:  # a WeCom answer about this file: asking again will not help
                    self.failures.append(_failure(wedrive_path, fileid, err))
                    return None
                problem: Exception = err  # the download URL refused us (e.g. expired): fetch a new ticket
            except (WeComTransientError, ChecksumMismatchError) as err:
                problem = err
            if attempt < DOWNLOAD_ATTEMPTS:
                log.warning(
                    "Download of %s failed (%s); trying again with a new ticket", wedrive_path, problem
                )
        self.failures.append(_failure(wedrive_path, fileid, problem))
        return None

    def _not_downloadable(self, wedrive_path: str, errcode: int, detail: str) -> None:
        from offboarding.steps.not_exported import not_exported

        reason = NOT_DOWNLOADABLE.get(errcode, "not downloadable")
        self.skipped.append(
            not_exported(f"WeDrive file {wedrive_path}", f"{reason} ({detail})", str(errcode))
        )


def _failure(wedrive_path: str, fileid: str, err: Exception) -> dict[str, Any]:
    return {"wedrive_path": wedrive_path, "fileid": fileid, "error": str(err)}


def existing_copy(case: Case, relpath: str, md5: str | None, source: str) -> FileEntry | None:
    """The entry of a file a previous try already saved at ``relpath`` with WeDrive's ``md5``, else None.

    Reading the local copy back costs no WeDrive quota; without an md5 to compare, nothing is reused.
    """
    from offboarding.backup.entries import FileEntry
    from offboarding.backup.errors import BackupError

    store = case.store
    if md5 is None or not store.exists(case.case_id, relpath):
        return None
    plain_md5, plain_sha, size = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    try:
        for chunk in store.read_stream(case.case_id, relpath):
            plain_md5.update(chunk)
            plain_sha.update(chunk)
            size += len(chunk)
        if plain_md5.hexdigest() != md5:
            return None
        stored = hashlib.sha256()
        for chunk in store.read_stored_stream(case.case_id, relpath):
            stored.update(chunk)
    except (BackupError, FileNotFoundError):
        return None  # unreadable (other key, tampered, gone): download it again
    encrypted = stored.hexdigest() != plain_sha.hexdigest()
    if encrypted != store.encrypted:
        return None  # saved before the encryption setting changed: save it again the current way
    return FileEntry(relpath, size, plain_sha.hexdigest(), stored.hexdigest(), source, md5, encrypted)


def wedrive_space_ids(conf: Mapping[str, Any]) -> list[str]:
    """``conf["wedrive_space_ids"]`` as a list of distinct ids (none given: []), or a failure naming it."""
    raw = conf.get("wedrive_space_ids")
    if raw is None:
        return []
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        raise AirflowFailException(
            f"wedrive_space_ids: must be a list of WeDrive space ids like ['space_sales'], got {raw!r}"
        )
    for n, value in enumerate(raw):
        if not isinstance(value, str) or not value.strip():
            raise AirflowFailException(
                f"wedrive_space_ids[{n}]: must be a non-empty WeDrive space id, got {value!r}"
            )
    return list(dict.fromkeys(raw))
