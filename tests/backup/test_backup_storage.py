"""BackupStore: round trips on a local folder and memory://, permissions, atomic writes, md5 checks."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboarding.backup import BackupStore, ChecksumMismatchError

CASE = "offboard-zhangsan"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def memory_root() -> str:
    # memory:// is one process-wide file system: give every test its own folder in it.
    return f"memory://backup-tests/{uuid.uuid4().hex}"


@pytest.mark.parametrize("kind", ["local", "file-url", "memory"])
def test_write_stream_round_trip(kind: str, tmp_path: Path, memory_root: str) -> None:
    root = {"local": str(tmp_path), "file-url": f"file://{tmp_path}", "memory": memory_root}[kind]
    store = BackupStore(root)
    chunks = [b"alpha-" * 1000, b"", "张三的文件".encode(), os.urandom(3 * 1024 * 1024 + 7)]
    body = b"".join(chunks)

    entry = store.write_stream(CASE, "wedrive/合同/a.bin", iter(chunks), source="wedrive:FILEID1")

    assert entry.path == "wedrive/合同/a.bin"
    assert entry.size == len(body)
    assert entry.sha256 == hashlib.sha256(body).hexdigest()
    assert entry.stored_sha256 == entry.sha256
    assert entry.source == "wedrive:FILEID1"
    assert entry.encrypted is False and entry.md5 is None
    assert store.exists(CASE, "wedrive/合同/a.bin")
    assert not store.exists(CASE, "wedrive/合同/b.bin")
    pieces = list(store.read_stream(CASE, "wedrive/合同/a.bin"))
    assert b"".join(pieces) == body
    assert max(len(p) for p in pieces) <= 1024 * 1024
    if kind != "memory":
        assert (tmp_path / CASE / "wedrive" / "合同" / "a.bin").read_bytes() == body


def test_local_files_are_0600_and_folders_0700(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    store = BackupStore(str(root))
    store.write_bytes(CASE, "profile/user.json", b"{}")

    assert _mode(root) == 0o700
    assert _mode(root / CASE) == 0o700
    assert _mode(root / CASE / "profile") == 0o700
    assert _mode(root / CASE / "profile" / "user.json") == 0o600


def test_permissions_do_not_depend_on_a_loose_umask(tmp_path: Path) -> None:
    old = os.umask(0o000)
    try:
        BackupStore(str(tmp_path)).write_bytes(CASE, "a/b.txt", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / CASE / "a") == 0o700
    assert _mode(tmp_path / CASE / "a" / "b.txt") == 0o600


def test_write_json_is_utf8_sorted_and_readable(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    entry = store.write_json(
        CASE, "profile/user.json", {"userid": "zhangsan", "name": "张三"}, source="api:user/get"
    )

    text = (tmp_path / CASE / "profile" / "user.json").read_text(encoding="utf-8")
    assert "张三" in text  # ensure_ascii=False
    assert text.index('"name"') < text.index('"userid"')  # sorted keys
    assert json.loads(text) == {"userid": "zhangsan", "name": "张三"}
    assert entry.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert entry.source == "api:user/get"


def test_write_json_refuses_objects_json_cannot_hold(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(TypeError, match=r"offboard-zhangsan/x\.json"):
        store.write_json(CASE, "x.json", {"raw": b"bytes"})
    assert _leftovers(tmp_path) == []


def test_md5_checked_when_the_source_announces_one(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    body = b"wedrive file body" * 100
    entry = store.write_stream(
        CASE, "wedrive/f.txt", [body], expected_md5=hashlib.md5(body).hexdigest().upper()
    )
    assert entry.md5 == hashlib.md5(body).hexdigest()


def test_md5_mismatch_removes_the_partial_file(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(ChecksumMismatchError, match=r"md5 mismatch for offboard-zhangsan/wedrive/f\.txt"):
        store.write_stream(CASE, "wedrive/f.txt", [b"truncated download"], expected_md5="0" * 32)
    assert not store.exists(CASE, "wedrive/f.txt")
    assert _leftovers(tmp_path) == []  # no temporary file either


def test_md5_mismatch_on_retry_keeps_the_good_copy(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    store.write_bytes(CASE, "wedrive/f.txt", b"good copy")
    with pytest.raises(ChecksumMismatchError):
        store.write_stream(CASE, "wedrive/f.txt", [b"bad copy"], expected_md5="0" * 32)
    assert store.read_bytes(CASE, "wedrive/f.txt") == b"good copy"
    assert _leftovers(tmp_path / CASE) == ["f.txt"]


def test_md5_mismatch_on_memory_root_removes_the_file(memory_root: str) -> None:
    store = BackupStore(memory_root)
    with pytest.raises(ChecksumMismatchError):
        store.write_stream(CASE, "wedrive/f.txt", [b"bytes"], expected_md5="f" * 32)
    assert not store.exists(CASE, "wedrive/f.txt")


def test_a_source_failing_mid_stream_leaves_no_file_under_the_final_name(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))

    def broken_download() -> Iterator[bytes]:
        yield b"first megabyte" * 1000
        raise ConnectionError("download interrupted")

    with pytest.raises(ConnectionError):
        store.write_stream(CASE, "wedrive/big.bin", broken_download())
    assert not store.exists(CASE, "wedrive/big.bin")
    assert _leftovers(tmp_path) == []


def test_bad_md5_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(ValueError, match="expected_md5 must be 32 hex characters"):
        store.write_stream(CASE, "a.txt", [b"x"], expected_md5="not-an-md5")
    assert not (tmp_path / CASE).exists()


@pytest.mark.parametrize(
    "case_id",
    ["", "-leading-dash", "../escape", "a/b", "有中文", "x" * 201, "a..b", "~home", ".hidden", None],
)
def test_bad_case_id_is_refused_naming_the_field(tmp_path: Path, case_id: object) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(ValueError, match="case_id must be"):
        store.write_bytes(case_id, "a.txt", b"x")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("userid", ["zhang.san@corp", "a..b", "A...B@x.cn", "x" * 64, "." * 64])
def test_every_valid_userid_gives_a_case_folder(tmp_path: Path, userid: str) -> None:
    """Regression: ``offboard-a~b`` (userid ``a@b``) and ``offboard-a.+.b`` (``a..b``) were refused."""
    from offboarding.cases import person_case_id

    case_id = person_case_id({"userid": userid})
    store = BackupStore(str(tmp_path))
    store.write_bytes(case_id, "case.json", b"{}")
    assert (tmp_path / case_id / "case.json").read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == [case_id]


@pytest.mark.parametrize(
    "relpath", ["", "/etc/passwd", "../other-case/a", "a/../../b", "a//b", "a/./b", "a\\b", "a\nb"]
)
def test_bad_relpath_is_refused_naming_the_field(tmp_path: Path, relpath: str) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(ValueError, match="relpath"):
        store.write_bytes(CASE, relpath, b"x")
    assert list(tmp_path.iterdir()) == []


def test_a_chunk_that_is_not_bytes_is_refused(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(TypeError, match="must be bytes, got str"):
        store.write_stream(CASE, "a.txt", iter([b"ok", "text"]))  # type: ignore[list-item]
    assert _leftovers(tmp_path) == []


def test_reading_a_missing_file_names_it(tmp_path: Path) -> None:
    store = BackupStore(str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"offboard-zhangsan/nothing\.bin does not exist"):
        store.read_stream(CASE, "nothing.bin")


def test_repr_and_location_hide_url_secrets() -> None:
    store = BackupStore("memory://user:hunter2@bucket/backups?token=abc123")
    assert "hunter2" not in repr(store) and "abc123" not in repr(store)
    assert "hunter2" not in store.case_location(CASE)
    assert store.case_location(CASE).endswith(f"/{CASE}/")
