"""``offboarding case list|show|rescind|reschedule|hold|release|correct``: operate cases over the plugin's REST API.

The same rules as the cases page's buttons and ``POST /offboarding/api/cases/{case_id}/<action>`` (one
implementation, in the api-server). Exit codes: 0 done, 1 refused (the action does not apply now: the
reason and since when are printed), 2 bad input (names the option), 3 not found, 4 not allowed or
Airflow unreachable.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from offboarding.airflow_api import (
    AirflowApiError,
    AirflowAuthError,
    CaseActionInvalid,
    CaseActionRefused,
    NotFound,
)
from offboarding.cli_credentials import CREDENTIALS_HELP, add_credentials_arguments, api_from_args

EXIT_OK, EXIT_REFUSED, EXIT_BAD_INPUT, EXIT_NOT_FOUND, EXIT_NOT_ALLOWED = 0, 1, 2, 3, 4

_EPILOG = (
    CREDENTIALS_HELP + " Exit code 0 when done, 1 when refused (does not apply now), 2 on bad input, "
    "3 when the case does not exist, 4 when not allowed or Airflow cannot be reached."
)


def add_case_parser(subparsers: Any) -> None:
    """Register ``case`` on the ``offboarding`` command."""
    parser = subparsers.add_parser(
        "case",
        help="list, show, rescind, reschedule, hold, release or correct cases",
        description="Operate offboarding cases through the plugin's REST API on the api-server.",
        epilog=_EPILOG,
    )
    actions = parser.add_subparsers(dest="case_command", metavar="ACTION", title="actions", required=True)

    def sub(name: str, help_text: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_text, description=help_text, epilog=_EPILOG)
        add_credentials_arguments(p)
        p.add_argument("--json", action="store_true", help="print Airflow's JSON answer")
        return p

    listing = sub("list", "list cases (newest first) with their run state and phase")
    listing.add_argument("--kind", choices=("person", "company"))
    listing.add_argument("--state", help="run state: queued, running, success, failed")
    listing.add_argument("--stalled", choices=("true", "false"))
    listing.add_argument("--limit", type=int, default=50)
    listing.set_defaults(handler=run_case_list)

    show = sub("show", "show one case: state, phase, hold, rescind, effective values, history")
    show.add_argument("case_id")
    show.set_defaults(handler=run_case_show)

    rescind = sub("rescind", "stop the case and undo what WeCom allows (the person stays)")
    rescind.add_argument("case_id")
    rescind.add_argument("--reason", required=True, help="why (recorded in the evidence ledger)")
    rescind.set_defaults(handler=run_case_action, action="rescind")

    reschedule = sub("reschedule", "move the last working day (before the handover starts)")
    reschedule.add_argument("case_id")
    reschedule.add_argument("--last-working-day", required=True, metavar="YYYY-MM-DD")
    reschedule.add_argument("--reason")
    reschedule.set_defaults(handler=run_case_action, action="reschedule")

    hold = sub("hold", "legal/compliance hold: nothing irreversible runs until released")
    hold.add_argument("case_id")
    hold.add_argument("--reason", required=True)
    hold.set_defaults(handler=run_case_action, action="hold")

    release = sub("release", "release the hold")
    release.add_argument("case_id")
    release.add_argument("--reason")
    release.set_defaults(handler=run_case_action, action="release")

    correct = sub("correct", "correct form fields before the step that uses them runs")
    correct.add_argument("case_id")
    correct.add_argument(
        "--set",
        dest="fields",
        action="append",
        required=True,
        metavar="FIELD=VALUE",
        help="successor_userid=lisi, hr_owner=hr_li, approvers=a,b (or a JSON list), notify='{...}' (JSON)",
    )
    correct.add_argument("--reason")
    correct.set_defaults(handler=run_case_action, action="correct")


def _field_value(name: str, text: str) -> Any:
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(f"--set {name}: not valid JSON: {text!r}") from None
    if name == "approvers":
        return [a.strip() for a in text.split(",") if a.strip()]
    return text


def action_body(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON body of the action the options describe; ValueError naming the option."""
    body: dict[str, Any] = {}
    if getattr(args, "reason", None):
        body["reason"] = args.reason
    if args.action == "reschedule":
        body["last_working_day"] = args.last_working_day
    if args.action == "correct":
        for item in args.fields:
            name, sep, text = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"--set: {item!r} must be FIELD=VALUE")
            body[name.strip()] = _field_value(name.strip(), text)
    return body


def _print_case(case: Mapping[str, Any], out: Any) -> None:
    out.write(f"case {case['case_id']}  ({case['kind']}, DAG {case['dag_id']}, run {case['run_id']})\n")
    out.write(f"  state: {case['state']}    phase: {case.get('phase') or '—'}\n")
    if case.get("hold"):
        h = case["hold"]
        out.write(f"  on hold since {h['since']} by {h['by']} because {h['reason']}\n")
    if case.get("rescind"):
        r = case["rescind"]
        out.write(f"  rescinded at {r['at']} by {r['by']} because {r['reason']}\n")
    if case.get("last_working_day"):
        out.write(f"  last working day: {case['last_working_day']}\n")
    for name, value in sorted((case.get("corrections") or {}).items()):
        out.write(f"  corrected {name}: {json.dumps(value, ensure_ascii=False)}\n")
    history = case.get("history") or []
    if history:
        out.write("  history:\n")
        for h in history:
            fields = f" {json.dumps(h['fields'], ensure_ascii=False)}" if h.get("fields") else ""
            why = f" — {h['reason']}" if h.get("reason") else ""
            out.write(f"    #{h['id']} {h['at']} {h['action']} by {h['by']}{fields}{why}\n")


def _refusal(exc: AirflowApiError) -> str:
    detail = exc.detail if isinstance(exc.detail, Mapping) else {}
    text = str(detail.get("reason") or exc)
    if detail.get("since"):
        text += f" (since {detail['since']})"
    if detail.get("can_still"):
        text += f"; what can still be done: {detail['can_still']}"
    return text


def _run(args: argparse.Namespace, work: Any) -> int:
    err = sys.stderr
    prog = f"offboarding case {args.case_command}"
    try:
        api = api_from_args(args)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=err)
        return EXIT_BAD_INPUT
    try:
        with api:
            return int(work(api))
    except ValueError as exc:
        print(f"{prog}: {exc}", file=err)
        return EXIT_BAD_INPUT
    except CaseActionRefused as exc:
        print(f"{prog}: refused: {_refusal(exc)}", file=err)
        return EXIT_REFUSED
    except CaseActionInvalid as exc:
        print(f"{prog}: bad request: {_refusal(exc)}", file=err)
        return EXIT_BAD_INPUT
    except NotFound as exc:
        print(f"{prog}: not found: {_refusal(exc)}", file=err)
        return EXIT_NOT_FOUND
    except AirflowAuthError as exc:
        print(f"{prog}: not allowed: {_refusal(exc)}", file=err)
        return EXIT_NOT_ALLOWED
    except AirflowApiError as exc:
        print(f"{prog}: {exc}", file=err)
        return EXIT_NOT_ALLOWED


def run_case_list(args: argparse.Namespace) -> int:
    def work(api: Any) -> int:
        page = api.list_cases(kind=args.kind, state=args.state, stalled=args.stalled, limit=args.limit)
        if args.json:
            print(json.dumps(page, ensure_ascii=False, indent=1))
            return EXIT_OK
        rows = [
            (c["case_id"], c["run_id"], c["state"], c.get("phase") or "—", c["who"]) for c in page["cases"]
        ]
        head = ("case", "run", "run state", "phase", "who")
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(4)]
        for r in [head, *rows]:
            print("  ".join(str(r[i]).ljust(widths[i]) for i in range(4)) + "  " + str(r[4]))
        print(f"{len(rows)} of {page['total'] or 0} cases")
        return EXIT_OK

    return _run(args, work)


def run_case_show(args: argparse.Namespace) -> int:
    def work(api: Any) -> int:
        case = api.get_case(args.case_id)
        if args.json:
            print(json.dumps(case, ensure_ascii=False, indent=1))
        else:
            _print_case(case, sys.stdout)
        return EXIT_OK

    return _run(args, work)


def run_case_action(args: argparse.Namespace) -> int:
    def work(api: Any) -> int:
        answer = api.case_action(args.case_id, args.action, action_body(args))
        if args.json:
            print(json.dumps(answer, ensure_ascii=False, indent=1))
            return EXIT_OK
        accepted = answer["accepted"]
        print(f"{args.action} of {args.case_id} accepted (action #{accepted['id']} by {accepted['by']})")
        if answer.get("rescind_run_id"):
            print(f"  undo run: offboarding_rescind / {answer['rescind_run_id']}")
            print(f"  stopped steps: {', '.join(answer.get('skipped') or []) or 'none'}")
        _print_case(answer["case"], sys.stdout)
        return EXIT_OK

    return _run(args, work)
