"""A plain-text progress bar on stderr (redrawn in place on a terminal, a line per 10% otherwise)."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressBar:
    """``[########------------]  12/30  triggered 10, already 2, failed 0``."""

    def __init__(self, total: int, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_decile = -1

    def line(self, counts: str) -> str:
        filled = self.width if self.total == 0 else self.width * self.done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        digits = len(str(self.total))
        return f"[{bar}] {self.done:>{digits}}/{self.total}  {counts}"

    def advance(self, counts: str) -> None:
        """One more case handled; ``counts`` is the running tally shown after the bar."""
        self.done += 1
        if self._interactive:
            self.stream.write("\r" + self.line(counts))
        else:
            decile = 10 * self.done // self.total if self.total else 10
            if decile == self._last_decile and self.done != self.total:
                return
            self._last_decile = decile
            self.stream.write(self.line(counts) + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._interactive and self.done:
            self.stream.write("\n")
            self.stream.flush()
