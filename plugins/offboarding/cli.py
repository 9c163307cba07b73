"""The ``offboarding`` command line: ``offboarding <subcommand> ...`` (see ``offboarding --help``).

Each subcommand lives in its own module and registers itself through a function that takes the
argparse sub-parsers and sets ``handler`` (a callable taking the parsed args, returning the exit
code). To add one, append its registrar to ``SUBCOMMANDS``. Dev tools (the rehearsal responder) are
not here: they are ``offboarding-dev`` of the dev distribution (``devtools/``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from offboarding import __version__
from offboarding.bulk.command import add_bulk_trigger_parser
from offboarding.case_command import add_case_parser
from offboarding.evidence.verify_command import add_evidence_parser

#: Registrars of the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: list[Callable[[Any], None]] = [add_bulk_trigger_parser, add_case_parser, add_evidence_parser]


def command_line(
    prog: str, description: str, subcommands: Sequence[Callable[[Any], None]]
) -> argparse.ArgumentParser:
    """An argument parser named ``prog`` with ``--version`` and the given subcommand registrars."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for register in subcommands:
        register(subparsers)
    return parser


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Run the subcommand ``argv`` names; returns its exit code (2 for usage errors)."""
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.handler(args))


def build_parser() -> argparse.ArgumentParser:
    """The ``offboarding`` argument parser with every registered subcommand."""
    return command_line(
        "offboarding", "WeCom (企业微信) offboarding and company wind-up on Apache Airflow.", SUBCOMMANDS
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit code (2 for usage errors)."""
    return run_command(build_parser(), argv)


if __name__ == "__main__":
    raise SystemExit(main())
