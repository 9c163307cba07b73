"""``offboarding bulk-trigger``: start one case per row of an HR export (CSV or XLSX)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from offboarding.airflow_api import AirflowApi, AirflowApiError, NotFound
from offboarding.bulk.columns import HEADER_ALIASES
from offboarding.bulk.plan import case_kind_for, plan_cases
from offboarding.bulk.report import render_report
from offboarding.bulk.sheet import SheetError, read_sheet
from offboarding.bulk.trigger import trigger_plan
from offboarding.cases import PERSON_DAG_ID

EXIT_BAD_INPUT = 2

_EPILOG = (
    "Columns are the trigger form's field names or these Chinese headers: "
    + ", ".join(f"{alias}→{field}" for alias, field in HEADER_ALIASES.items())
    + ". Credentials: --username/--password, or env AIRFLOW_USERNAME/AIRFLOW_PASSWORD, or "
    "AIRFLOW_API_TOKEN. Exit code 0 when nothing failed, 1 when some triggers failed, 2 when the "
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
    parser.add_argument(
        "--api-url",
        default=os.environ.get("AIRFLOW_API_URL"),
        help="Airflow api-server root URL (env AIRFLOW_API_URL)",
    )
    parser.add_argument(
        "--username", default=os.environ.get("AIRFLOW_USERNAME"), help="Airflow user (env AIRFLOW_USERNAME)"
    )
    parser.add_argument(
        "--password", default=os.environ.get("AIRFLOW_PASSWORD"), help="its password (env AIRFLOW_PASSWORD)"
    )
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


def _api_from_args(args: argparse.Namespace) -> AirflowApi:
    if not args.api_url:
        raise ValueError("--api-url: required (or set AIRFLOW_API_URL)")
    token = os.environ.get("AIRFLOW_API_TOKEN")
    if args.username or args.password:
        if not (args.username and args.password):
            raise ValueError(
                "--username/--password: give both (or set AIRFLOW_USERNAME and AIRFLOW_PASSWORD)"
            )
        return AirflowApi(args.api_url, username=args.username, password=args.password)
    if token:
        return AirflowApi(args.api_url, token=token)
    raise ValueError("credentials: pass --username and --password, or set AIRFLOW_API_TOKEN")


def run_bulk_trigger(args: argparse.Namespace) -> int:
    """Validate the sheet, trigger the cases and print the report; returns the exit code."""
    err = sys.stderr
    try:
        kind = case_kind_for(args.dag, args.case_type)
        sheet = read_sheet(args.sheet, args.sheet_name)
        api = None if args.dry_run else _api_from_args(args)
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
