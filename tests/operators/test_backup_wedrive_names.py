"""Safe, unique and stable backup names for WeDrive files."""

from __future__ import annotations

import pytest

from offboarding.backup.names import check_relpath
from offboarding.operators.backup_names import MAX_NAME_BYTES, UniquePaths, safe_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("报价单-2025Q3.csv", "报价单-2025Q3.csv"),
        ("a/b\\c", "a_b_c"),
        ("..", "_"),
        (".", "_"),
        ("", "_"),
        ("tab\there\x7f", "tab_here_"),
        ("report. ", "report"),
        (".hidden", ".hidden"),
        ("e\u0301t\u00e9.txt", "\u00e9t\u00e9.txt"),  # NFC: one form for the same name
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected
    check_relpath(f"wedrive/{safe_name(name)}")


def test_long_names_are_cut_keeping_the_extension() -> None:
    name = "很长的文件名" * 40 + ".xlsx"
    safe = safe_name(name)
    assert len(safe.encode()) <= MAX_NAME_BYTES and safe.endswith(".xlsx")
    assert safe.startswith("很长的文件名")
    check_relpath(f"wedrive/space/{safe}")


def test_taken_names_get_a_suffix_from_the_fileid() -> None:
    paths = UniquePaths()
    paths.reserve("wedrive/index.jsonl")
    first = paths.claim("wedrive/s", "a.txt", "file1")
    second = paths.claim("wedrive/s", "a.txt", "file2")
    third = paths.claim("wedrive/s", "A.TXT", "file3")  # differs only in case: would clash on macOS
    index = paths.claim("wedrive", "index.jsonl", "space")

    assert first == "wedrive/s/a.txt"
    assert second.startswith("wedrive/s/a~") and second.endswith(".txt")
    assert third.startswith("wedrive/s/A~") and third.endswith(".TXT")
    assert index != "wedrive/index.jsonl"
    assert len({first, second, third, index}) == 4
    # The same listing gives the same paths on a rerun.
    again = UniquePaths()
    again.reserve("wedrive/index.jsonl")
    assert [again.claim("wedrive/s", "a.txt", f) for f in ("file1", "file2")] == [first, second]


def test_long_taken_names_stay_within_the_limit() -> None:
    paths = UniquePaths()
    name = "长" * 100 + ".pdf"
    paths.claim("wedrive/s", name, "one")
    second = paths.claim("wedrive/s", name, "two")
    check_relpath(second)
    assert len(second.rsplit("/", 1)[1].encode()) <= MAX_NAME_BYTES
