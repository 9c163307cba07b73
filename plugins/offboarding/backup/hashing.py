"""Hash a stream beside the thread that downloads and writes it.

A big file is hashed twice or three times (sha256 for the manifest, md5 against what the source announced,
sha256 of the encrypted bytes), each hash slower than reading the network and writing the disk. hashlib
releases the GIL for buffers over 2 KiB, so once a stream is big each hash gets its own thread and the
hashes run beside each other and beside the download. Each thread takes chunks from a bounded queue, so
memory stays at a few chunks whatever the file size; small files are hashed in the caller's thread.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Protocol

from offboarding.backup.errors import BackupError

PARALLEL_AFTER = 4 * 1024 * 1024
"""Bytes hashed in the caller's thread before the hashes move to threads of their own."""
QUEUE_DEPTH = 4
"""Chunks waiting per hash; the caller waits when the slowest hash is that far behind."""

Chunk = bytes | bytearray | memoryview


class Hash(Protocol):
    def update(self, data: Any, /) -> None: ...


class _Worker:
    """One hash fed from a bounded queue by its own thread; ``None`` in the queue ends it."""

    def __init__(self, digest: Hash) -> None:
        self.digest = digest
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="backup-hash", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.digest.update(chunk)
                except BaseException as err:  # kept for close(); the queue is still drained
                    self.error = err

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()


class StreamHashes:
    """Feed every chunk to each of ``digests``; read the digests only after :meth:`close`.

    Usable as a context manager (closed on leaving, also after an error).
    """

    def __init__(self, *digests: Hash) -> None:
        self.digests = digests
        self.hashed_inline = 0
        self.workers: list[_Worker] = []
        self.closed = False

    def update(self, chunk: Chunk) -> None:
        if self.closed:
            raise BackupError("StreamHashes.update after close()")
        if not self.digests:
            return
        if not self.workers and self.hashed_inline < PARALLEL_AFTER:
            self.hashed_inline += len(chunk)
            for digest in self.digests:
                digest.update(chunk)
            return
        if not self.workers:
            self.workers = [_Worker(digest) for digest in self.digests]
        frozen = chunk if isinstance(chunk, bytes) else bytes(chunk)  # the caller may reuse its buffer
        for worker in self.workers:
            worker.queue.put(frozen)

    def close(self) -> None:
        """Wait until every chunk is hashed; re-raises what a hash raised."""
        if self.closed:
            return
        self.closed = True
        for worker in self.workers:
            worker.stop()
        for worker in self.workers:
            if worker.error is not None:
                raise worker.error

    def __enter__(self) -> StreamHashes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
