"""``offboarding evidence``: check a case's evidence ledger as an auditor, without Airflow.

``offboarding evidence verify <case folder or URL> [--anchor SEQ:HASH] [--key-file FILE] [--json]``
reads the ledger of one case (``<root>/<case_id>/evidence/``, a local folder or an fsspec URL such as
``s3://bucket/cases/offboard-zhangsan``), checks every entry's sequence, hash, previous-entry link and
HMAC with the deployment's evidence key, and, with ``--anchor`` (the head recorded in Airflow's
metadata, XCom ``evidence_anchor``, or stated in the report), that the ledger was not cut short.

The key comes from ``--key-file``, else the environment variable ``OFFBOARDING_EVIDENCE_KEY``, else a
prompt (without echo) when a terminal is attached. It is never taken as a command-line value (it would
be in the shell history and the process list) and never printed.

Exit status: 0 the ledger is intact; 1 it is broken (the first bad entry and why are printed: bad
HMAC, broken prev link, inserted/removed/reordered entry, torn last line, anchor not held); 2 usage
error (no key, unreadable key file, not a case folder).

``offboarding evidence report <case folder or URL> [--pdf] [-o FILE] [--anchor SEQ:HASH] [--key-file FILE]
[--no-backup-check]`` builds the case's evidence report from the same ledger (verified with the key and the
anchor), the backup manifest and a fresh check of the backed-up files: Markdown on standard output, or
with ``--pdf`` a PDF with the phases picture and an embedded Chinese font (``-o``, default
``<case_id>-evidence-report.pdf``). It writes nothing into the case folder. Exit status: 0 the report
was made and the ledger is intact; 1 made, but the ledger is broken (the report says where); 2 usage
error (no key, not a case folder, no font for the PDF).

``offboarding evidence generate-key`` prints a fresh key for the ``offboarding_evidence_key``
connection.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from offboarding.evidence.keys import KEY_ENV, EvidenceKey, EvidenceKeyError, generate_evidence_key

EXIT_INTACT = 0
EXIT_BROKEN = 1
EXIT_USAGE = 2

_LEDGER_SUFFIXES = ("evidence/ledger.jsonl", "evidence/ledger", "evidence")

_EPILOG = (
    "Example: OFFBOARDING_EVIDENCE_KEY=... offboarding evidence verify /data/cases/offboard-zhangsan "
    "--anchor 14:3f5a...  (exit 0 intact, 1 broken, 2 usage error)"
)


def add_evidence_parser(subparsers: Any) -> None:
    """Register ``evidence`` (``verify``, ``report`` and ``generate-key``) on the ``offboarding`` command."""
    parser = subparsers.add_parser(
        "evidence",
        help="check a case's evidence ledger, make its report (auditors; no Airflow needed)",
        description=(
            "The evidence of a case: verify its ledger, make its report (Markdown or PDF), or generate "
            "the deployment's evidence key."
        ),
    )
    actions = parser.add_subparsers(dest="evidence_command", metavar="ACTION", title="actions")
    parser.set_defaults(handler=lambda args: _missing_action(parser))

    verify = actions.add_parser(
        "verify",
        help="verify a case's ledger: chain, HMACs with the key, and the anchor",
        description=(
            "Verify the evidence ledger of one case: every entry's sequence, hash, link to the previous "
            "entry and HMAC-SHA256 under the deployment's evidence key; with --anchor, that the ledger "
            "still holds the head recorded in Airflow's metadata (so it was not cut short). The key is "
            f"read from --key-file, else ${KEY_ENV}, else prompted for."
        ),
        epilog=_EPILOG,
        allow_abbrev=False,  # "--key VALUE" must not be taken for --key-file: the key is never an argument
    )
    verify.add_argument("case", help="the case folder or URL, e.g. /data/cases/offboard-zhangsan")
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="the head recorded outside the case folder (XCom evidence_anchor of the run's last task)",
    )
    verify.add_argument("--key-file", metavar="FILE", help="a file holding only the evidence key")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(handler=run_verify)

    report = actions.add_parser(
        "report",
        help="make a case's evidence report (Markdown, or PDF with --pdf) from its folder",
        description=(
            "Build the evidence report of one case from its folder: the ledger verified with the key "
            "(and --anchor), the backup manifest and a fresh check of the backed-up files. Markdown on "
            "standard output, or a PDF with --pdf. Nothing is written into the case folder."
        ),
        epilog=(
            "Example: OFFBOARDING_EVIDENCE_KEY=... offboarding evidence report /data/cases/offboard-zhangsan "
            "--pdf -o zhangsan.pdf  (exit 0 intact, 1 ledger broken, 2 usage error)"
        ),
        allow_abbrev=False,
    )
    report.add_argument("case", help="the case folder or URL, e.g. /data/cases/offboard-zhangsan")
    report.add_argument("--pdf", action="store_true", help="write a PDF (with the phases picture)")
    report.add_argument(
        "-o", "--output", metavar="FILE", help="where the PDF goes (default <case_id>-evidence-report.pdf)"
    )
    report.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        help="the head recorded outside the case folder (XCom evidence_anchor of the run's last task)",
    )
    report.add_argument("--key-file", metavar="FILE", help="a file holding only the evidence key")
    report.add_argument(
        "--no-backup-check",
        action="store_true",
        help="do not read every backed-up file again (large backups; the last recorded check is shown)",
    )
    report.set_defaults(handler=run_report)

    generate = actions.add_parser(
        "generate-key",
        help="print a fresh evidence key (for the offboarding_evidence_key connection)",
        description="Print a fresh random evidence key (256 bits) on standard output.",
    )
    generate.set_defaults(handler=lambda args: _print_key())


def run_verify(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``offboarding evidence verify``; returns the exit status."""
    from offboarding.backup.storage import BackupStore
    from offboarding.evidence.ledger import Anchor, EvidenceLedger, LedgerError

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        root, case_id = split_case_location(args.case)
        anchor = Anchor.parse(args.anchor) if args.anchor is not None else None
    except ValueError as exc:
        print(f"offboarding evidence verify: {exc}", file=err)
        return EXIT_USAGE
    try:
        key = read_key(args.key_file)
    except EvidenceKeyError as exc:
        print(f"offboarding evidence verify: {exc}", file=err)
        return EXIT_USAGE
    try:
        ledger = EvidenceLedger(BackupStore(root), case_id, key=key)
        report = ledger.verify_chain(anchor=anchor)
        location = ledger.location
    except (LedgerError, OSError, ValueError) as exc:
        print(f"offboarding evidence verify: cannot read the ledger of {args.case}: {exc}", file=err)
        return EXIT_USAGE
    if report.entries == 0 and anchor is None:
        print(
            f"offboarding evidence verify: no evidence ledger in {args.case} ({location}): give the case "
            "folder, e.g. /data/cases/offboard-zhangsan",
            file=err,
        )
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"ledger": location, **report.to_dict()}, ensure_ascii=False), file=out)
    else:
        print(f"ledger:  {location}", file=out)
        print(f"key id:  {key.key_id}", file=out)
        print(
            f"anchor:  {anchor.text if anchor is not None else 'none given (a cut-short ledger is not detectable)'}",
            file=out,
        )
        if report.ok:
            head = report.head.text if report.head is not None else "empty"
            print(f"result:  INTACT: {report.entries} entries, head {head}", file=out)
        else:
            print(f"result:  BROKEN at seq {report.first_bad_seq}: {report.problem}", file=out)
            print(f"         {report.verified} entries verified before the break", file=out)
    return EXIT_INTACT if report.ok else EXIT_BROKEN


def run_report(args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``offboarding evidence report``; returns the exit status."""
    from offboarding.backup.storage import BackupStore
    from offboarding.evidence.ledger import Anchor, LedgerError
    from offboarding.evidence.report import build_report, read_report_inputs, render_report_pdf
    from offboarding.evidence.report_markdown import render_markdown
    from offboarding.evidence.report_pdf import ReportFont, ReportFontError

    out = out or sys.stdout
    err = err or sys.stderr
    if args.output is not None and not args.pdf:
        print("offboarding evidence report: --output is for the PDF: add --pdf", file=err)
        return EXIT_USAGE
    try:
        root, case_id = split_case_location(args.case)
        anchor = Anchor.parse(args.anchor) if args.anchor is not None else None
        key = read_key(args.key_file)
        font = ReportFont.from_settings() if args.pdf else None
    except (ValueError, EvidenceKeyError, ReportFontError) as exc:
        print(f"offboarding evidence report: {exc}", file=err)
        return EXIT_USAGE
    try:
        inputs = read_report_inputs(
            BackupStore(root), case_id, key=key, anchor=anchor, verify_backup=not args.no_backup_check
        )
    except (LedgerError, OSError, ValueError) as exc:
        print(f"offboarding evidence report: cannot read the case {args.case}: {exc}", file=err)
        return EXIT_USAGE
    if not inputs.entries and inputs.manifest is None:
        print(
            f"offboarding evidence report: no evidence ledger and no backup manifest in {args.case}: give "
            "the case folder, e.g. /data/cases/offboard-zhangsan",
            file=err,
        )
        return EXIT_USAGE
    if args.pdf:
        target = Path(args.output or f"{case_id}-evidence-report.pdf")
        try:
            target.write_bytes(render_report_pdf(inputs, font))
        except (ReportFontError, OSError) as exc:
            print(f"offboarding evidence report: {exc}", file=err)
            return EXIT_USAGE
        print(f"report:  {target}", file=out)
        print(f"ledger:  {inputs.chain.summary_text()}", file=out)
    else:
        out.write(render_markdown(build_report(inputs)))
    return EXIT_INTACT if inputs.chain.ok else EXIT_BROKEN


def split_case_location(location: str) -> tuple[str, str]:
    """``(root, case_id)`` of a case folder or URL (the ledger file or ``evidence`` folder is accepted too)."""
    from offboarding.backup.names import check_case_id

    if not isinstance(location, str) or not location.strip():
        raise ValueError("give the case folder or URL")
    text = location.strip().rstrip("/")
    for suffix in _LEDGER_SUFFIXES:
        if text.endswith("/" + suffix):
            text = text[: -len(suffix) - 1]
            break
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        root, case_id = str(path.parent), path.name
    else:
        root, _, case_id = text.rpartition("/")
        if root.endswith(":/") or not case_id:
            raise ValueError(f"{location!r} is not a case folder URL (<root>/<case_id>)")
    try:
        check_case_id(case_id)
    except ValueError as exc:
        raise ValueError(f"{location!r} does not end with a case folder: {exc}") from None
    return root, case_id


def read_key(key_file: str | None) -> EvidenceKey:
    """The evidence key: ``--key-file``, else ``$OFFBOARDING_EVIDENCE_KEY``, else a prompt on a terminal."""
    if key_file is not None:
        return EvidenceKey.from_file(key_file)
    text = os.environ.get(KEY_ENV)
    if text is not None and text.strip():
        return EvidenceKey.from_text(text, source=f"the environment variable {KEY_ENV}")
    if sys.stdin is not None and sys.stdin.isatty():
        return EvidenceKey.from_text(getpass.getpass("evidence key: "), source="the key typed")
    raise EvidenceKeyError(
        f"no evidence key: give --key-file FILE or set {KEY_ENV} (the key is never taken as an argument)"
    )


def _print_key() -> int:
    print(generate_evidence_key())
    return EXIT_INTACT


def _missing_action(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


__all__ = [
    "EXIT_BROKEN",
    "EXIT_INTACT",
    "EXIT_USAGE",
    "add_evidence_parser",
    "read_key",
    "run_report",
    "run_verify",
]
