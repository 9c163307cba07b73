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
from offboarding.evidence.verify_command import add_evidence_parser

#: Registrars of the subcommands, in the order ``--help`` lists them.
SUBCOMMANDS: list[Callable[[Any], None]] = [add_bulk_trigger_parser, add_evidence_parser]


def build_parser() -> argparse.ArgumentParser:
    """The ``offboarding`` argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="offboarding",
        description="WeCom (企业微信) offboarding and company wind-up on Apache Airflow.",
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
