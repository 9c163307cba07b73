"""Encryption at rest for backup files: AES-256-GCM in 1 MiB segments, streamed.

Stored layout of an encrypted file::

    header  = MAGIC (8 bytes) | salt (16 random bytes) | nonce prefix (7 random bytes)
    segment = AES-256-GCM(plaintext of at most 1 MiB) + 16-byte tag, one after another

Each file gets its own key, derived from the store's key and the file's random salt with HKDF-SHA256,
so no nonce is ever reused across files. Segment ``i`` is sealed with the nonce
``prefix | i (4 bytes, big endian) | final flag (1 byte)`` and the header as associated data
(the STREAM construction): a changed byte, a dropped, repeated or reordered segment, a truncated or
extended file all fail authentication. Every segment but the last holds exactly 1 MiB of plaintext;
the last one is flagged final and may be shorter (an empty file has one empty final segment).

The key is 32 random bytes, kept as base64 text in an Airflow Connection password
(:func:`generate_key`, :func:`key_from_text`). No message or repr in this module contains it.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from offboarding.backup.errors import DecryptionError

KEY_SIZE = 32
MAGIC = b"OFBKENC1"
SALT_SIZE = 16
NONCE_PREFIX_SIZE = 7
HEADER_SIZE = len(MAGIC) + SALT_SIZE + NONCE_PREFIX_SIZE
SEGMENT_SIZE = 1024 * 1024
TAG_SIZE = 16
STORED_SEGMENT_SIZE = SEGMENT_SIZE + TAG_SIZE
MAX_SEGMENTS = 2**32
_HKDF_INFO = b"offboarding backup file v1"


def generate_key() -> str:
    """Return a new random AES-256 key as base64 text, to store in an Airflow Connection password."""
    return base64.b64encode(os.urandom(KEY_SIZE)).decode("ascii")


def key_from_text(text: str) -> bytes:
    """Turn the base64 text made by :func:`generate_key` back into the 32-byte key.

    Accepts standard or URL-safe base64, with or without padding and surrounding whitespace.
    Raises ValueError (never quoting the text) when it is not base64 of exactly 32 bytes.
    """
    if not isinstance(text, str):
        raise TypeError(f"encryption key text must be a str, got {type(text).__name__}")
    cleaned = "".join(text.split()).replace("-", "+").replace("_", "/")
    if not cleaned:
        raise ValueError("encryption key is empty: expected the base64 text made by generate_key()")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        raw = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(
            "encryption key is not valid base64: expected the 44-character text made by generate_key()"
        ) from None
    if len(raw) != KEY_SIZE:
        raise ValueError(f"encryption key must decode to {KEY_SIZE} bytes (AES-256), got {len(raw)} bytes")
    return raw


def check_key(key: object) -> bytes:
    """Return ``key`` if it is a 32-byte AES-256 key, else raise naming ``encryption_key``."""
    if isinstance(key, str):
        raise TypeError(
            "encryption_key must be bytes; turn the stored base64 text into bytes with key_from_text()"
        )
    if not isinstance(key, bytes | bytearray):
        raise TypeError(f"encryption_key must be bytes, got {type(key).__name__}")
    if len(key) != KEY_SIZE:
        raise ValueError(f"encryption_key must be {KEY_SIZE} bytes (AES-256), got {len(key)} bytes")
    return bytes(key)


def is_encrypted_header(first_bytes: bytes) -> bool:
    """Tell whether a stored file starts like a file written by :class:`StreamEncryptor`."""
    return first_bytes[: len(MAGIC)] == MAGIC


def _file_cipher(key: bytes, salt: bytes) -> AESGCM:
    file_key = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_HKDF_INFO).derive(key)
    return AESGCM(file_key)


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class StreamEncryptor:
    """Encrypts one file as a stream: feed plaintext chunks, collect the stored pieces."""

    def __init__(self, key: bytes) -> None:
        salt = os.urandom(SALT_SIZE)
        self._prefix = os.urandom(NONCE_PREFIX_SIZE)
        self._header = MAGIC + salt + self._prefix
        self._cipher = _file_cipher(check_key(key), salt)
        self._index = 0
        self._buffer = bytearray()
        self._finished = False

    def __repr__(self) -> str:
        return f"StreamEncryptor(segments_sealed={self._index})"

    @property
    def header(self) -> bytes:
        """The bytes that start the stored file (magic, salt, nonce prefix; nothing secret)."""
        return self._header

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """Take plaintext and yield every full segment it completes (sealed, not final)."""
        if self._finished:
            raise RuntimeError("StreamEncryptor.feed() called after finish()")
        view = memoryview(data).cast("B")
        for offset in range(0, len(view), SEGMENT_SIZE):
            self._buffer += view[offset : offset + SEGMENT_SIZE]
            # Seal a segment only once more plaintext is known to follow: the last one is flagged final.
            while len(self._buffer) > SEGMENT_SIZE:
                yield self._seal(bytes(self._buffer[:SEGMENT_SIZE]), final=False)
                del self._buffer[:SEGMENT_SIZE]

    def finish(self) -> bytes:
        """Seal and return the final segment (possibly empty plaintext)."""
        if self._finished:
            raise RuntimeError("StreamEncryptor.finish() called twice")
        self._finished = True
        sealed = self._seal(bytes(self._buffer), final=True)
        self._buffer = bytearray()
        return sealed

    def _seal(self, plaintext: bytes, *, final: bool) -> bytes:
        if self._index >= MAX_SEGMENTS:
            raise ValueError("file too large to encrypt: more than 2**32 segments of 1 MiB")
        sealed = self._cipher.encrypt(_nonce(self._prefix, self._index, final), plaintext, self._header)
        self._index += 1
        return sealed


class StreamDecryptor:
    """Decrypts one stored file as a stream: feed stored chunks, collect plaintext pieces.

    ``where`` names the file in error messages (e.g. ``offboard-zhangsan/wedrive/a.pdf``).
    """

    def __init__(self, key: bytes, where: str) -> None:
        self._key = check_key(key)
        self._where = where
        self._buffer = bytearray()
        self._header: bytes | None = None
        self._prefix = b""
        self._cipher: AESGCM | None = None
        self._index = 0
        self._finished = False

    def __repr__(self) -> str:
        return f"StreamDecryptor(where={self._where!r}, segments_opened={self._index})"

    def feed(self, data: bytes | bytearray | memoryview) -> Iterator[bytes]:
        """Take stored bytes and yield the plaintext of every segment known not to be the last."""
        if self._finished:
            raise RuntimeError("StreamDecryptor.feed() called after finish()")
        view = memoryview(data).cast("B")
        for offset in range(0, len(view), STORED_SEGMENT_SIZE):
            self._buffer += view[offset : offset + STORED_SEGMENT_SIZE]
            if self._header is None and len(self._buffer) >= HEADER_SIZE:
                self._read_header()
            while self._header is not None and len(self._buffer) > STORED_SEGMENT_SIZE:
                yield self._open(bytes(self._buffer[:STORED_SEGMENT_SIZE]), final=False)
                del self._buffer[:STORED_SEGMENT_SIZE]

    def finish(self) -> bytes:
        """Open the final segment; raises DecryptionError if the file ends anywhere but a final segment."""
        if self._finished:
            raise RuntimeError("StreamDecryptor.finish() called twice")
        self._finished = True
        if self._header is None:
            if len(self._buffer) >= HEADER_SIZE:
                self._read_header()
            else:
                raise DecryptionError(
                    f"{self._where}: too short to be an encrypted backup file (header cut off)"
                )
        if len(self._buffer) < TAG_SIZE:
            raise DecryptionError(
                f"{self._where}: encrypted backup file ends inside segment {self._index} (truncated)"
            )
        plaintext = self._open(bytes(self._buffer), final=True)
        self._buffer = bytearray()
        return plaintext

    def _read_header(self) -> None:
        header = bytes(self._buffer[:HEADER_SIZE])
        if not is_encrypted_header(header):
            raise DecryptionError(f"{self._where}: not an encrypted backup file (its header is missing)")
        salt = header[len(MAGIC) : len(MAGIC) + SALT_SIZE]
        self._prefix = header[len(MAGIC) + SALT_SIZE :]
        self._cipher = _file_cipher(self._key, salt)
        self._header = header
        del self._buffer[:HEADER_SIZE]

    def _open(self, sealed: bytes, *, final: bool) -> bytes:
        assert self._cipher is not None and self._header is not None
        if self._index >= MAX_SEGMENTS:
            raise DecryptionError(
                f"{self._where}: more than 2**32 segments; not a valid encrypted backup file"
            )
        try:
            plaintext = self._cipher.decrypt(_nonce(self._prefix, self._index, final), sealed, self._header)
        except InvalidTag:
            raise DecryptionError(
                f"{self._where}: encrypted backup file failed authentication at segment {self._index} "
                "(the file was changed, truncated, extended or reordered, or the key is not the one it was "
                "written with)"
            ) from None
        self._index += 1
        return plaintext
