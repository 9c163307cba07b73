"""Encryption at rest: key handling, round trips, and detection of every kind of tampering."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from pathlib import Path

import pytest

from offboarding.backup import BackupError, BackupStore, DecryptionError, generate_key, key_from_text
from offboarding.backup.encryption import HEADER_SIZE, SEGMENT_SIZE, STORED_SEGMENT_SIZE, TAG_SIZE

CASE = "offboard-zhangsan"
MiB = 1024 * 1024


@pytest.fixture
def key() -> bytes:
    return key_from_text(generate_key())


@pytest.fixture
def store(tmp_path: Path, key: bytes) -> BackupStore:
    return BackupStore(str(tmp_path), key)


def _stored(tmp_path: Path, relpath: str) -> Path:
    return tmp_path / CASE / relpath


def test_generated_key_is_base64_of_32_bytes() -> None:
    text = generate_key()
    assert len(base64.b64decode(text, validate=True)) == 32
    assert key_from_text(text) == base64.b64decode(text)
    assert generate_key() != text


def test_key_from_text_accepts_urlsafe_unpadded_and_whitespace() -> None:
    raw = os.urandom(32)
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert key_from_text(f"  {urlsafe}\n") == raw


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "encryption key is empty"),
        ("not base64 at all!!", "encryption key is not valid base64"),
        (base64.b64encode(b"k" * 16).decode(), "must decode to 32 bytes .AES-256., got 16 bytes"),
    ],
)
def test_malformed_key_text_gets_a_clear_error_without_echoing_it(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        key_from_text(text)
    if text:
        assert text not in str(caught.value)


def test_store_refuses_a_key_of_the_wrong_size_or_type(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="encryption_key must be 32 bytes"):
        BackupStore(str(tmp_path), b"short")
    with pytest.raises(TypeError, match="key_from_text"):
        BackupStore(str(tmp_path), generate_key())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "size", [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 12345]
)
def test_encrypted_round_trip(store: BackupStore, tmp_path: Path, size: int) -> None:
    body = os.urandom(size)
    # odd chunk sizes so segments do not line up with what the source yields
    chunks = [body[i : i + 700_001] for i in range(0, len(body), 700_001)]

    entry = store.write_stream(CASE, "wedrive/a.bin", chunks)

    stored = _stored(tmp_path, "wedrive/a.bin").read_bytes()
    segments = max(1, -(-size // SEGMENT_SIZE))
    assert len(stored) == HEADER_SIZE + size + segments * TAG_SIZE
    assert entry.encrypted is True
    assert entry.size == size
    assert entry.sha256 == hashlib.sha256(body).hexdigest()
    assert entry.stored_sha256 == hashlib.sha256(stored).hexdigest()
    assert entry.stored_sha256 != entry.sha256
    assert b"".join(store.read_stream(CASE, "wedrive/a.bin")) == body
    digest = store.digest_file(CASE, "wedrive/a.bin", encrypted=True)
    assert (digest.size, digest.sha256, digest.stored_size) == (size, entry.sha256, len(stored))


def test_stored_bytes_do_not_contain_the_plaintext(store: BackupStore, tmp_path: Path) -> None:
    secret_text = "张三 身份证 110101199003071234".encode() * 50
    store.write_bytes(CASE, "profile/user.json", secret_text)
    assert b"110101199003071234" not in _stored(tmp_path, "profile/user.json").read_bytes()


def test_same_plaintext_twice_gives_different_stored_bytes(store: BackupStore, tmp_path: Path) -> None:
    first = store.write_bytes(CASE, "a.bin", b"same")
    second = store.write_bytes(CASE, "b.bin", b"same")
    assert first.sha256 == second.sha256
    assert first.stored_sha256 != second.stored_sha256


def test_encrypted_memory_root_round_trip(key: bytes) -> None:
    store = BackupStore(f"memory://enc-tests/{uuid.uuid4().hex}", key)
    body = os.urandom(2 * MiB + 3)
    store.write_stream(CASE, "x.bin", [body])
    assert b"".join(store.read_stream(CASE, "x.bin")) == body


def _written(store: BackupStore, tmp_path: Path, size: int = 3 * SEGMENT_SIZE + 100) -> tuple[Path, bytes]:
    store.write_stream(CASE, "wedrive/a.bin", [os.urandom(size)])
    path = _stored(tmp_path, "wedrive/a.bin")
    return path, path.read_bytes()


def _segment(index: int) -> slice:
    start = HEADER_SIZE + index * STORED_SEGMENT_SIZE
    return slice(start, start + STORED_SEGMENT_SIZE)


def _read_all(store: BackupStore) -> bytes:
    return b"".join(store.read_stream(CASE, "wedrive/a.bin"))


def test_a_flipped_byte_is_detected_and_named(store: BackupStore, tmp_path: Path) -> None:
    path, data = _written(store, tmp_path)
    tampered = bytearray(data)
    tampered[_segment(1).start + 1000] ^= 0x01
    path.write_bytes(bytes(tampered))
    with pytest.raises(
        DecryptionError, match=r"offboard-zhangsan/wedrive/a\.bin: .*failed authentication at segment 1"
    ):
        _read_all(store)


def test_a_flipped_header_byte_is_detected(store: BackupStore, tmp_path: Path) -> None:
    path, data = _written(store, tmp_path)
    tampered = bytearray(data)
    tampered[HEADER_SIZE - 1] ^= 0x80  # inside the nonce prefix, bound as associated data
    path.write_bytes(bytes(tampered))
    with pytest.raises(DecryptionError, match="segment 0"):
        _read_all(store)


def test_a_truncated_segment_is_detected(store: BackupStore, tmp_path: Path) -> None:
    path, data = _written(store, tmp_path)
    path.write_bytes(data[:-50])  # cut inside the final segment
    with pytest.raises(DecryptionError, match="segment 3"):
        _read_all(store)


def test_dropping_whole_final_segments_is_detected(store: BackupStore, tmp_path: Path) -> None:
    path, data = _written(store, tmp_path)
    path.write_bytes(data[: _segment(2).stop])  # ends cleanly after segment 2, which is not final
    with pytest.raises(DecryptionError, match="segment 2"):
        _read_all(store)


def test_reordered_segments_are_detected(store: BackupStore, tmp_path: Path) -> None:
    path, data = _written(store, tmp_path)
    swapped = data[:HEADER_SIZE] + data[_segment(1)] + data[_segment(0)] + data[_segment(2).start :]
    assert len(swapped) == len(data)
    path.write_bytes(swapped)
    with pytest.raises(DecryptionError, match="segment 0"):
        _read_all(store)


def test_appended_bytes_are_detected(store: BackupStore, tmp_path: Path) -> None:
    path, data = _written(store, tmp_path, size=100)
    path.write_bytes(data + os.urandom(STORED_SEGMENT_SIZE))
    with pytest.raises(DecryptionError, match="segment 0"):
        _read_all(store)


def test_the_wrong_key_is_detected(store: BackupStore, tmp_path: Path) -> None:
    _written(store, tmp_path)
    other = BackupStore(str(tmp_path), key_from_text(generate_key()))
    with pytest.raises(DecryptionError, match="key is not the one it was written with"):
        b"".join(other.read_stream(CASE, "wedrive/a.bin"))


def test_a_store_without_the_key_refuses_encrypted_files(store: BackupStore, tmp_path: Path) -> None:
    _written(store, tmp_path, size=10)
    with pytest.raises(BackupError, match="encrypted at rest but this BackupStore has no encryption key"):
        b"".join(BackupStore(str(tmp_path)).read_stream(CASE, "wedrive/a.bin"))


def test_plaintext_files_in_an_encrypted_store_stay_readable(store: BackupStore, tmp_path: Path) -> None:
    entry = store.write_bytes(CASE, "manifest-like.json", b'{"a": 1}', encrypt=False)
    assert entry.encrypted is False
    assert _stored(tmp_path, "manifest-like.json").read_bytes() == b'{"a": 1}'
    assert store.read_bytes(CASE, "manifest-like.json") == b'{"a": 1}'


def test_the_key_never_appears_in_reprs_or_errors(tmp_path: Path) -> None:
    text = generate_key()
    key = key_from_text(text)
    store = BackupStore(str(tmp_path), key)
    store.write_bytes(CASE, "a.bin", b"x" * 10)
    _stored(tmp_path, "a.bin").write_bytes(b"OFBKENC1" + b"\x00" * 60)
    with pytest.raises(DecryptionError) as caught:
        b"".join(store.read_stream(CASE, "a.bin"))
    for shown in (repr(store), str(caught.value), repr(caught.value)):
        assert text not in shown
        assert key.hex() not in shown
        assert repr(key) not in shown
