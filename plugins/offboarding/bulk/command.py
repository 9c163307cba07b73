"""``offboarding bulk-trigger``: start one case per row of an HR export (CSV or XLSX)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from offboarding.airflow_api import AirflowApiError, NotFound
from offboarding.bulk.columns import HEADER_ALIASES
from offboarding.bulk.plan import case_kind_for, plan_cases
from offboarding.bulk.report import render_report
from offboarding.bulk.sheet import SheetError, read_sheet
from offboarding.bulk.trigger import trigger_plan
from offboarding.cases import PERSON_DAG_ID
from offboarding.cli_credentials import CREDENTIALS_HELP, add_credentials_arguments, api_from_args

EXIT_BAD_INPUT = 2

_EPILOG = (
    "Columns are the trigger form's field names or these Chinese headers: "
    + ", ".join(f"{alias}→{field}" for alias, field in HEADER_ALIASES.items())
    + ". "
    + CREDENTIALS_HELP
    + " Exit code 0 when nothing failed, 1 when some triggers failed, 2 when the "
    "input was refused (nothing triggered)."
)


def add_bulk_trigger_parser(subparsers: Any) -> None:
    """Register ``bulk-trigger`` on the ``offboarding`` command."""
    parser = subparsers.add_parser(
        "bulk-trigger",
        help="trigger one case per row of a CSV/XLSX HR export",
        description=(
            "Validate every row of the sheet with the trigger form's schema, then trigger one DAG run "
            "per row with the case id as run id. Already-triggered cases are reported, not duplicated, "
            "so re-running after an interruption is safe."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument("sheet", help="the CSV (UTF-8 or GBK) or XLSX file; row 1 is the header")
    add_credentials_arguments(parser)
    parser.add_argument("--dag", default=PERSON_DAG_ID, help=f"DAG to trigger (default {PERSON_DAG_ID})")
    parser.add_argument(
        "--case-type",
        choices=("person", "company"),
        help="case form of --dag when it is not a known case DAG",
    )
    parser.add_argument(
        "--sheet", dest="sheet_name", help="worksheet name in an XLSX workbook (default: the first)"
    )
    parser.add_argument(
        "--ignore-column",
        action="append",
        default=[],
        metavar="HEADER",
        help="a column to ignore (repeatable)",
    )
    parser.add_argument(
        "--skip-invalid", action="store_true", help="trigger the valid rows even when some rows are invalid"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and show what would be triggered; send nothing"
    )
    parser.set_defaults(handler=run_bulk_trigger)


def run_bulk_trigger(args: argparse.Namespace) -> int:
    """Validate the sheet, trigger the cases and print the report; returns the exit code."""
    err = sys.stderr
    try:
        kind = case_kind_for(args.dag, args.case_type)
        sheet = read_sheet(args.sheet, args.sheet_name)
        api = None if args.dry_run else api_from_args(args)
    except (SheetError, ValueError) as exc:
        print(f"offboarding bulk-trigger: {exc}", file=err)
        return EXIT_BAD_INPUT
    plan = plan_cases(sheet, args.dag, kind, tuple(args.ignore_column), triggered_by=args.username)
    if (
        api is not None
        and not plan.file_problems
        and (plan.valid_cases and (args.skip_invalid or not plan.invalid_cases))
    ):
        try:
            dag = api.get_dag(args.dag)
        except NotFound:
            print(f"offboarding bulk-trigger: --dag: DAG {args.dag!r} not found on {api.api_url}", file=err)
            return EXIT_BAD_INPUT
        except AirflowApiError as exc:
            print(f"offboarding bulk-trigger: {exc}", file=err)
            return EXIT_BAD_INPUT
        if dag.get("is_paused"):
            print(f"warning: DAG {args.dag!r} is paused: its runs stay queued until it is unpaused", file=err)
    try:
        report = trigger_plan(plan, api, skip_invalid=args.skip_invalid, dry_run=args.dry_run, progress=err)
    finally:
        if api is not None:
            api.close()
    sys.stdout.write(render_report(report))
    return report.exit_code()
