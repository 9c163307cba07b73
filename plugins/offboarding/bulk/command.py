"""``offboarding bulk-trigger``: start one case per row of an HR export (CSV or XLSX), or one case for
the whole export (``--one-case``: an ``offboard_layoff`` list)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from offboarding.airflow_api import AirflowApi, AirflowApiError, NotFound
from offboarding.bulk.columns import HEADER_ALIASES
from offboarding.bulk.layoff_plan import plan_layoff
from offboarding.bulk.layoff_trigger import render_layoff_report, trigger_layoff
from offboarding.bulk.plan import case_kind_for, plan_cases
from offboarding.bulk.report import render_report
from offboarding.bulk.sheet import SheetError, read_sheet
from offboarding.bulk.trigger import trigger_plan
from offboarding.cases import LAYOFF_DAG_ID, PERSON_DAG_ID
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
    parser.add_argument("--dag", help=f"DAG to trigger (default {PERSON_DAG_ID})")
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
    parser.add_argument(
        "--one-case",
        metavar="LIST_ID",
        help=(
            f"trigger the whole sheet as ONE {LAYOFF_DAG_ID} case (批量优化) with run id layoff-LIST_ID: a person "
            "per row; the case-wide columns (last working day, HR owner, approvers, connection, time scale, "
            "backup location, dry run, notify) must agree in every row. Legal representatives, finance "
            "owners and accounts to deregister need their own case. The note column is not used"
        ),
    )
    parser.add_argument("--list-name", help="with --one-case: what HR calls the list (default: LIST_ID)")
    parser.set_defaults(handler=run_bulk_trigger)


def _usage_problem(args: argparse.Namespace) -> str | None:
    """Options that do not go together (checked before the sheet is read)."""
    if args.one_case is None:
        return "--list-name: only with --one-case" if args.list_name is not None else None
    for option, value in (("--dag", args.dag), ("--case-type", args.case_type)):
        if value is not None:
            return f"{option}: not with --one-case (it triggers {LAYOFF_DAG_ID})"
    if args.skip_invalid:
        return "--skip-invalid: not with --one-case (a list is triggered whole)"
    return None


def _checked_dag(api: AirflowApi, dag_id: str, err: TextIO, option: str = "--dag") -> bool:
    """Whether the DAG exists (warning when it is paused); the reason is printed when it does not."""
    try:
        dag = api.get_dag(dag_id)
    except NotFound:
        print(f"offboarding bulk-trigger: {option}: DAG {dag_id!r} not found on {api.api_url}", file=err)
        return False
    except AirflowApiError as exc:
        print(f"offboarding bulk-trigger: {exc}", file=err)
        return False
    if dag.get("is_paused"):
        print(f"warning: DAG {dag_id!r} is paused: its runs stay queued until it is unpaused", file=err)
    return True


def run_bulk_trigger(args: argparse.Namespace) -> int:
    """Validate the sheet, trigger the cases and print the report; returns the exit code."""
    err = sys.stderr
    problem = _usage_problem(args)
    if problem is not None:
        print(f"offboarding bulk-trigger: {problem}", file=err)
        return EXIT_BAD_INPUT
    if args.one_case is not None:
        return run_one_case(args)
    dag_id = args.dag or PERSON_DAG_ID
    try:
        kind = case_kind_for(dag_id, args.case_type)
        sheet = read_sheet(args.sheet, args.sheet_name)
        api = None if args.dry_run else api_from_args(args)
    except (SheetError, ValueError) as exc:
        print(f"offboarding bulk-trigger: {exc}", file=err)
        return EXIT_BAD_INPUT
    plan = plan_cases(sheet, dag_id, kind, tuple(args.ignore_column), triggered_by=args.username)
    if (
        api is not None
        and not plan.file_problems
        and (plan.valid_cases and (args.skip_invalid or not plan.invalid_cases))
        and not _checked_dag(api, dag_id, err)
    ):
        return EXIT_BAD_INPUT
    try:
        report = trigger_plan(plan, api, skip_invalid=args.skip_invalid, dry_run=args.dry_run, progress=err)
    finally:
        if api is not None:
            api.close()
    sys.stdout.write(render_report(report))
    return report.exit_code()


def run_one_case(args: argparse.Namespace) -> int:
    """``--one-case``: the whole sheet as one ``offboard_layoff`` run; returns the exit code."""
    err = sys.stderr
    try:
        sheet = read_sheet(args.sheet, args.sheet_name)
        api = None if args.dry_run else api_from_args(args)
    except (SheetError, ValueError) as exc:
        print(f"offboarding bulk-trigger: {exc}", file=err)
        return EXIT_BAD_INPUT
    plan = plan_layoff(
        sheet, args.one_case, args.list_name, tuple(args.ignore_column), triggered_by=args.username
    )
    try:
        if api is not None and plan.valid and not _checked_dag(api, LAYOFF_DAG_ID, err, "--one-case"):
            return EXIT_BAD_INPUT
        result = trigger_layoff(plan, api, dry_run=args.dry_run)
    finally:
        if api is not None:
            api.close()
    sys.stdout.write(render_layoff_report(plan, result))
    return result.exit_code()
