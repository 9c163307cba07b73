"""The evidence key: never shown, never serialised, too short refused with what to do."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from offboarding.evidence.keys import (
    EvidenceKey,
    EvidenceKeyError,
    generate_evidence_key,
    key_from_environment,
)

SECRET = "a-secret-evidence-key-0123456789-abcdefghij"


def test_the_key_is_never_shown() -> None:
    key = EvidenceKey.from_text(SECRET)
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert SECRET not in shown and key.key_id in shown


def test_the_key_is_not_serialisable_but_copies_share_it() -> None:
    key = EvidenceKey.from_text(SECRET)
    with pytest.raises(TypeError, match="not serialisable"):
        pickle.dumps(key)
    assert copy.deepcopy(key) is key and copy.copy(key) is key


def test_the_key_id_depends_on_the_key_and_whitespace_around_it_does_not_count() -> None:
    assert EvidenceKey.from_text(f"  {SECRET}\n").key_id == EvidenceKey.from_text(SECRET).key_id
    assert EvidenceKey.from_text(generate_evidence_key()).key_id != EvidenceKey.from_text(SECRET).key_id


@pytest.mark.parametrize("text", ["", "   ", "short-key"])
def test_an_empty_or_short_key_is_refused_without_showing_it(text: str) -> None:
    with pytest.raises(EvidenceKeyError) as refused:
        EvidenceKey.from_text(text, source="the password of connection 'offboarding_evidence_key'")
    assert "offboarding_evidence_key" in str(refused.value)
    assert not text.strip() or text not in str(refused.value)


def test_a_key_file_and_the_environment(tmp_path: Path) -> None:
    key_file = tmp_path / "evidence.key"
    key_file.write_text(SECRET + "\n", encoding="utf-8")
    assert EvidenceKey.from_file(key_file).key_id == EvidenceKey.from_text(SECRET).key_id
    with pytest.raises(EvidenceKeyError, match="cannot read the key file"):
        EvidenceKey.from_file(tmp_path / "missing.key")
    assert key_from_environment({}) is None
    found = key_from_environment({"OFFBOARDING_EVIDENCE_KEY": SECRET})
    assert found is not None and found.key_id == EvidenceKey.from_text(SECRET).key_id
