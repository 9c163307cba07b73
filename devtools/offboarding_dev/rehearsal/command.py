"""``offboarding-dev rehearse-responder``: play the people of a rehearsal against a running Airflow."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from offboarding.airflow_api import AirflowApiError
from offboarding_dev.rehearsal.guards import check_api_url
from offboarding_dev.rehearsal.responder import DEFAULT_SETTLE_SECONDS, PROBLEMS, Responder

EXIT_BAD_INPUT = 2
#: How long ``--once`` waits beyond the settle time for the pending steps to become answerable.
ONCE_GRACE_SECONDS = 60.0

_EPILOG = (
    "Example: offboarding-dev rehearse-responder --api-url http://127.0.0.1:8080 "
    "--sandbox-url http://127.0.0.1:8900 --sandbox-url wecom_company=http://127.0.0.1:8901 "
    "--users-file .airflow/simple_auth_manager_passwords.json --override offboard-lisi:approve_deletion=Reject. "
    "Only rehearsals are answered: runs with time_scale > 1 whose WeCom connection answers as the sandbox "
    "(GET /sandbox/identity), on an Airflow on this machine unless --allow-remote-airflow. "
    "Stops on Ctrl-C / SIGTERM."
)
#: The password of ``--user`` when ``--password`` is not given (and no prompt is wanted).
PASSWORD_ENV = "AIRFLOW_PASSWORD"
USERS_ENV = "OFFBOARDING_REHEARSAL_USERS"
CLI_PASSWORD_WARNING = (
    "warning: {option} puts passwords on the command line, where other users of this machine (ps) and "
    "the shell history can read them; prefer {alternatives}"
)


def add_rehearse_responder_parser(subparsers: Any) -> None:
    """Register ``rehearse-responder`` on the ``offboarding-dev`` command."""
    parser = subparsers.add_parser(
        "rehearse-responder",
        help="answer a rehearsal's human steps as the assigned people (through the REST API)",
        description=(
            "Answer the pending human steps of a rehearsal through Airflow's REST API, each as one of its "
            "assigned users: approvals are approved, statutory forms are filled in with rehearsal "
            "evidence, and the account deregistration follows the WeCom sandbox's simulated person and "
            "reviewer. Only for rehearsals against the sandbox."
        ),
        epilog=_EPILOG,
    )
    parser.add_argument(
        "--api-url",
        default=os.environ.get("AIRFLOW_API_URL"),
        help="Airflow api-server root URL (env AIRFLOW_API_URL)",
    )
    parser.add_argument(
        "--allow-remote-airflow",
        action="store_true",
        help="answer through an api-server that is not on this machine (refused by default)",
    )
    parser.add_argument(
        "--users",
        help=f"user:password,... the responder may log in as (warned: prefer env {USERS_ENV} or --users-file)",
    )
    parser.add_argument(
        "--user",
        help=f"one user to log in as; its password from env {PASSWORD_ENV}, else a prompt",
    )
    parser.add_argument(
        "--password",
        help=f"the password of --user (warned: prefer env {PASSWORD_ENV} or the prompt)",
    )
    parser.add_argument(
        "--users-file",
        help='a JSON file {"user": "password", ...}, e.g. the SimpleAuthManager passwords file',
    )
    parser.add_argument(
        "--sandbox-url",
        action="append",
        default=[],
        metavar="[CONN_ID=]URL",
        help="the WeCom sandbox behind a connection (no CONN_ID: every connection); repeatable",
    )
    parser.add_argument(
        "--reader", help="user that lists the pending steps (default: admin, else the first user)"
    )
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="RUN_ID:TASK_ID=OPTION",
        help="answer OPTION to this task of this run ('*' for every run); repeatable",
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=DEFAULT_SETTLE_SECONDS,
        help="answer a step only after it has awaited input this long and the scheduler has looped since "
        "(default: %(default)s)",
    )
    parser.add_argument("--poll-seconds", type=float, default=1.0, help="seconds between passes (default: 1)")
    parser.add_argument(
        "--dag", action="append", dest="dag_ids", metavar="DAG_ID", help="only this DAG; repeatable"
    )
    parser.add_argument(
        "--run", action="append", dest="run_ids", metavar="RUN_ID", help="only this run; repeatable"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="answer what is ready now (waiting for steps to settle), print every pending step, exit "
        "(exit code 1 if any needs a person)",
    )
    parser.set_defaults(handler=run_rehearse_responder)


def collect_users(
    args: argparse.Namespace,
    *,
    environ: Any = None,
    warn: Any = None,
    prompt: Any = None,
    interactive: bool | None = None,
) -> dict[str, str]:
    """The users and passwords of ``--users``/``--users-file``/``--user``, warning about any password that
    was given on the command line. ``environ``, ``warn``, ``prompt``, ``interactive`` are for tests."""
    environ = os.environ if environ is None else environ
    warn = warn or (lambda text: print(text, file=sys.stderr, flush=True))
    prompt = prompt or getpass.getpass
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if args.users:
        warn(CLI_PASSWORD_WARNING.format(option="--users", alternatives=f"env {USERS_ENV} or --users-file"))
    text = args.users or environ.get(USERS_ENV)
    single: dict[str, str] = {}
    if args.password and not args.user:
        raise ValueError("--password: give --user NAME as well")
    if args.user:
        if args.password:
            warn(
                CLI_PASSWORD_WARNING.format(
                    option="--password", alternatives=f"env {PASSWORD_ENV} or the prompt"
                )
            )
            password = args.password
        elif environ.get(PASSWORD_ENV):
            password = environ[PASSWORD_ENV]
        elif interactive:
            password = prompt(f"Airflow password of {args.user}: ")
        else:
            raise ValueError(
                f"--user: no password for {args.user}: set {PASSWORD_ENV} (no terminal to prompt)"
            )
        if not password:
            raise ValueError(f"--user: empty password for {args.user}")
        single[args.user] = password
    if single and not text and not args.users_file:
        return single
    return parse_users(text, args.users_file) | single


def parse_users(text: str | None, file: str | None) -> dict[str, str]:
    """Users and passwords from ``user:password,...`` and/or a JSON file; ValueError naming the option."""
    users: dict[str, str] = {}
    if file:
        try:
            loaded = json.loads(Path(file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"--users-file: cannot read {file} as JSON ({type(exc).__name__})") from None
        if not isinstance(loaded, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in loaded.items()
        ):
            raise ValueError(f'--users-file: {file} must be a JSON object {{"user": "password", ...}}')
        users.update(loaded)
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, password = item.strip().partition(":")
        if not sep or not name or not password:
            raise ValueError(f"--users: {name or item.strip()!r} must be written user:password")
        users[name] = password
    if not users:
        raise ValueError(
            "--users: give user:password,... (or env OFFBOARDING_REHEARSAL_USERS), --users-file or --user "
            "(the responder logs in as them)"
        )
    return users


def parse_sandbox_urls(values: list[str]) -> dict[str, str]:
    """``URL`` (every connection) or ``CONN_ID=URL`` items → ``{conn_id or "*": url}``."""
    urls: dict[str, str] = {}
    for value in values:
        if value.startswith(("http://", "https://")):
            urls["*"] = value
            continue
        conn_id, sep, url = value.partition("=")
        if not sep or not conn_id or not url.startswith(("http://", "https://")):
            raise ValueError(f"--sandbox-url: {value!r} must be URL or CONN_ID=URL with an http(s) URL")
        urls[conn_id] = url
    return urls


def parse_overrides(values: list[str]) -> dict[str, dict[str, str]]:
    """``RUN_ID:TASK_ID=OPTION`` items → ``{run_id: {task_id: option}}``."""
    overrides: dict[str, dict[str, str]] = {}
    for value in values:
        target, sep, option = value.partition("=")
        run_id, colon, task_id = target.rpartition(":")
        if not sep or not colon or not run_id or not task_id or not option:
            raise ValueError(f"--override: {value!r} must be RUN_ID:TASK_ID=OPTION (RUN_ID may be '*')")
        overrides.setdefault(run_id, {})[task_id] = option
    return overrides


def run_rehearse_responder(args: argparse.Namespace) -> int:
    """Build the responder from the arguments, then answer once or until stopped."""
    err = sys.stderr
    try:
        if not args.api_url:
            raise ValueError("--api-url: required (or set AIRFLOW_API_URL)")
        check_api_url(args.api_url, allow_remote_airflow=args.allow_remote_airflow)  # before any password
        if args.poll_seconds <= 0:
            raise ValueError(f"--poll-seconds: must be > 0, got {args.poll_seconds}")
        responder = Responder(
            args.api_url,
            collect_users(args),
            sandboxes=parse_sandbox_urls(args.sandbox_url),
            overrides=parse_overrides(args.override),
            settle_seconds=args.settle_seconds,
            reader=args.reader,
            dag_ids=args.dag_ids,
            run_ids=args.run_ids,
            allow_remote_airflow=args.allow_remote_airflow,
        )
    except ValueError as exc:
        print(f"offboarding-dev rehearse-responder: {exc}", file=err)
        return EXIT_BAD_INPUT
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=err)
    if args.once:
        return _once(responder, args.poll_seconds)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"answering human steps on {responder.api_url}; Ctrl-C to stop", file=err, flush=True)
    responder.run(stop, poll_seconds=args.poll_seconds)
    print(f"stopped after {len(responder.answered)} answer(s)", file=err)
    return 0


def _once(responder: Responder, poll_seconds: float) -> int:
    """Pass until no pending step is still settling (bounded), then print the last pass."""
    # Settling takes settle_seconds plus one scheduler heartbeat after them (see the responder).
    deadline = time.monotonic() + responder.settle_seconds + ONCE_GRACE_SECONDS
    try:
        while True:
            reports = responder.run_once()
            settling = any(r.status in ("settling", "not_parked") for r in reports)
            if not settling or time.monotonic() >= deadline:
                break
            time.sleep(poll_seconds)
    except AirflowApiError as exc:
        print(f"offboarding-dev rehearse-responder: {exc}", file=sys.stderr)
        return 1
    finally:
        responder.close()
    for report in reports:
        who = f" as {report.user}" if report.user else ""
        print(f"{report.status:<16} {report.label}{who}: {report.detail}")
    return 1 if any(r.status in PROBLEMS for r in reports) else 0


__all__ = [
    "add_rehearse_responder_parser",
    "collect_users",
    "parse_overrides",
    "parse_sandbox_urls",
    "parse_users",
]
