"""Keys in insertion order with stable cursors, so paging stays O(page) and survives changes.

A cursor is the sequence number of the last key a client saw: adding or removing keys while a client pages
never makes it skip or repeat a key that is still there.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class SeqIndex(Generic[K]):
    """An insertion-ordered set of keys that pages by sequence number."""

    __slots__ = ("_dead", "_key_at", "_next", "_seq_of", "_seqs")

    def __init__(self) -> None:
        self._seq_of: dict[K, int] = {}
        self._key_at: dict[int, K] = {}
        self._seqs: list[int] = []
        self._next = 1
        self._dead = 0

    def add(self, key: K) -> None:
        """Append ``key`` (no-op when already present: it keeps its place)."""
        if key in self._seq_of:
            return
        seq = self._next
        self._next += 1
        self._seq_of[key] = seq
        self._key_at[seq] = key
        self._seqs.append(seq)

    def discard(self, key: K) -> None:
        """Remove ``key`` if present."""
        seq = self._seq_of.pop(key, None)
        if seq is None:
            return
        del self._key_at[seq]
        self._dead += 1
        if self._dead > 256 and self._dead * 2 > len(self._seqs):
            self._seqs = [s for s in self._seqs if s in self._key_at]
            self._dead = 0

    def __contains__(self, key: object) -> bool:
        return key in self._seq_of

    def __len__(self) -> int:
        return len(self._seq_of)

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._seq_of))

    def page(
        self, after: int, limit: int, where: Callable[[K], bool] | None = None
    ) -> tuple[list[K], int | None]:
        """Up to ``limit`` keys after cursor ``after`` (0 = start) that pass ``where``.

        Returns the keys and the cursor for the next page, or None when nothing matching is left.
        """
        seqs, key_at = self._seqs, self._key_at
        i = bisect_right(seqs, after)
        out: list[K] = []
        last = after
        while i < len(seqs):
            seq = seqs[i]
            i += 1
            if seq not in key_at:
                continue
            key = key_at[seq]
            if where is not None and not where(key):
                continue
            if len(out) == limit:
                return out, last
            out.append(key)
            last = seq
        return out, None
