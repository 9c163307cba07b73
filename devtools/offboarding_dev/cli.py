"""The dev command line: ``offboarding-dev <subcommand> ...`` (``python -m offboarding_dev``).

The production ``offboarding`` command has no rehearsal command; the tools that play the people and
WeCom of a rehearsal live here, in the dev distribution.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from offboarding.cli import command_line, run_command
from offboarding_dev.rehearsal.command import add_rehearse_responder_parser

#: Registrars of the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: list[Callable[[Any], None]] = [add_rehearse_responder_parser]


def build_parser() -> argparse.ArgumentParser:
    """The ``offboarding-dev`` argument parser with every registered subcommand."""
    return command_line(
        "offboarding-dev",
        "Dev tools of WeCom offboarding: rehearsals against the WeCom sandbox.",
        SUBCOMMANDS,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit code (2 for usage errors)."""
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
