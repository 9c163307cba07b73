"""Backups only where the deployment allows: named storage roots, and no file outside its case folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from offboarding.backup import BackupStore
from offboarding.backup.errors import BackupConfigError, BackupLocationError
from offboarding.backup.roots import (
    backup_target_problem,
    configured_roots,
    parse_backup_roots,
    resolve_backup_root,
)

CASE = "offboard-zhangsan"


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Data dir and one named local root ``archive`` under tmp_path (and an s3 root ``oss``)."""
    data, archive = tmp_path / "data", tmp_path / "archive"
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(data))
    monkeypatch.setenv("OFFBOARDING_BACKUP_ROOTS", f"archive={archive};oss=s3://corp-offboarding/backups")
    return {"": data / "cases", "archive": archive}


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def test_both_spellings_declare_the_same_roots() -> None:
    pairs = parse_backup_roots("archive=/mnt/a ; oss=s3://bucket/x\nnas=file:///srv/nas")
    as_json = parse_backup_roots(
        json.dumps({"archive": "/mnt/a", "oss": "s3://bucket/x", "nas": "file:///srv/nas"})
    )
    assert pairs == as_json == {"archive": "/mnt/a", "oss": "s3://bucket/x", "nas": "file:///srv/nas"}
    assert parse_backup_roots("") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("archive", "expected name=root"),
        ("Archive=/mnt/a", "root name 'Archive'"),
        ("a=/mnt/a;a=/mnt/b", "declared twice"),
        ("a=relative/folder", "absolute folder"),
        ("a=/mnt/../etc", "'..'"),
        ("a=s3://", "must name a bucket"),
        ("a=simplecache::s3://b/x", "chained"),
        ('{"a": 1}', "absolute folder or a storage URL"),
        ("{not json", "not a valid JSON object"),
    ],
)
def test_a_bad_declaration_names_the_variable(text: str, says: str) -> None:
    with pytest.raises(BackupConfigError, match="OFFBOARDING_BACKUP_ROOTS") as caught:
        parse_backup_roots(text)
    assert says in str(caught.value)


def test_names_resolve_to_declared_roots(roots: dict[str, Path]) -> None:
    assert list(configured_roots()) == ["", "archive", "oss"]
    assert resolve_backup_root("").url == str(roots[""])
    assert resolve_backup_root(None).url == str(roots[""])
    assert (
        resolve_backup_root("archive").url == str(roots["archive"])
        and resolve_backup_root("archive").is_local
    )
    oss = resolve_backup_root("oss")
    assert oss.scheme == "s3" and not oss.is_local


@pytest.mark.parametrize(
    "target",
    [
        "/etc/cron.d",  # an absolute path
        "../../opt/airflow/plugins",  # '..'
        "archive/../../x",
        "file:///opt/airflow/plugins",
        "ftp://anywhere.example/drop",  # another scheme
        "s3://another-bucket/x",  # another bucket
        "unknown",  # a name nobody declared
        "ARCHIVE",
    ],
)
def test_anything_but_a_declared_name_is_refused_naming_the_field_and_the_names(
    roots: dict[str, Path], target: str
) -> None:
    with pytest.raises(BackupLocationError) as caught:
        resolve_backup_root(target)
    message = str(caught.value)
    assert message.startswith("backup_target:") and "'archive'" in message and "'oss'" in message
    assert backup_target_problem(target)


def test_without_declared_roots_only_the_default_is_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARDING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OFFBOARDING_BACKUP_ROOTS", raising=False)
    assert backup_target_problem("") is None
    problem = backup_target_problem("archive")
    assert problem and "none are declared in OFFBOARDING_BACKUP_ROOTS" in problem


def test_a_symlinked_case_folder_leading_out_of_the_root_is_refused_with_nothing_written(
    tmp_path: Path,
) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / CASE).symlink_to(outside, target_is_directory=True)
    store = BackupStore(str(root))
    with pytest.raises(BackupLocationError, match="outside its case folder"):
        store.write_bytes(CASE, "profile/user.json", b"{}")
    with pytest.raises(BackupLocationError):
        store.exists(CASE, "case.json")
    assert _files(outside) == []


def test_a_symlinked_folder_inside_a_case_is_refused(tmp_path: Path) -> None:
    root, plugins = tmp_path / "root", tmp_path / "plugins"
    (root / CASE).mkdir(parents=True)
    plugins.mkdir()
    (root / CASE / "wedrive").symlink_to(plugins, target_is_directory=True)
    store = BackupStore(str(root))
    with pytest.raises(BackupLocationError):
        store.write_bytes(CASE, "wedrive/x.py", b"import os")
    assert _files(plugins) == []


def test_a_symlinked_file_is_neither_read_nor_overwritten(tmp_path: Path) -> None:
    root, secret = tmp_path / "root", tmp_path / "secret.txt"
    (root / CASE).mkdir(parents=True)
    secret.write_text("do not read")
    (root / CASE / "case.json").symlink_to(secret)
    store = BackupStore(str(root))
    with pytest.raises(BackupLocationError):
        store.read_bytes(CASE, "case.json")
    with pytest.raises(BackupLocationError):
        store.write_bytes(CASE, "case.json", b"{}")
    assert secret.read_text() == "do not read"


def test_a_case_folder_linked_to_another_case_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "offboard-lisi").mkdir(parents=True)
    (root / CASE).symlink_to(root / "offboard-lisi", target_is_directory=True)
    with pytest.raises(BackupLocationError):
        BackupStore(str(root)).write_bytes(CASE, "a.txt", b"x")
    assert _files(root / "offboard-lisi") == []


def test_a_root_that_is_itself_a_symlink_is_fine(tmp_path: Path) -> None:
    real, link = tmp_path / "real", tmp_path / "link"
    real.mkdir()
    link.symlink_to(real, target_is_directory=True)
    BackupStore(str(link)).write_bytes(CASE, "a/b.txt", b"x")
    assert (real / CASE / "a" / "b.txt").read_bytes() == b"x"


@pytest.mark.parametrize("name", ["../../x.py", "/opt/airflow/plugins/x.py", "..", "a/../../b.py"])
def test_wedrive_names_never_leave_the_case_folder(tmp_path: Path, name: str) -> None:
    """What the WeDrive backup does with a file name: make it one safe part under wedrive/."""
    from offboarding.operators.backup_names import UniquePaths

    root = tmp_path / "root"
    relpath = UniquePaths().claim("wedrive", name, "fileid")
    BackupStore(str(root)).write_bytes(CASE, relpath, b"x")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 1 and written[0].is_relative_to(root / CASE / "wedrive"), written
    assert not os.path.islink(written[0])


@pytest.mark.parametrize("relpath", ["s3://other-bucket/x", "ftp://host/x", "file:///etc/x", "/etc/cron.d/x"])
def test_a_file_path_cannot_name_another_scheme_or_bucket(relpath: str) -> None:
    import uuid

    root = f"memory://roots-tests/{uuid.uuid4().hex}"
    store = BackupStore(root)
    with pytest.raises(ValueError, match="relpath"):
        store.write_bytes(CASE, relpath, b"x")
    assert store.files(CASE) == []
