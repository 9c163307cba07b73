"""The dev command line: ``offboarding-dev <subcommand> ...`` (``python -m offboarding_dev``).

The production ``offboarding`` command has no rehearsal command; the tools that play the people and
WeCom of a rehearsal live here, in the dev distribution.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from offboarding_dev import __version__
from offboarding_dev.rehearsal.command import add_rehearse_responder_parser

#: Registrars of the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: list[Callable[[Any], None]] = [add_rehearse_responder_parser]


def build_parser() -> argparse.ArgumentParser:
    """The ``offboarding-dev`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="offboarding-dev",
        description="Dev tools of WeCom offboarding: rehearsals against the WeCom sandbox.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for register in SUBCOMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit code (2 for usage errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
