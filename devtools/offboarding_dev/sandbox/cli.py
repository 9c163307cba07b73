"""The sandbox's command line: ``python -m offboarding_dev.sandbox --port 8900 --seed default ...``."""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace

from offboarding_dev.sandbox import config as defaults
from offboarding_dev.sandbox.app import SandboxApp
from offboarding_dev.sandbox.config import SandboxConfig
from offboarding_dev.sandbox.durations import DOCUMENTED, ENV, WeComDurations
from offboarding_dev.sandbox.server import SandboxHTTPServer, serve_in_thread


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a rate between 0 and 1, got {text}")
    return value


def _time_scale(text: str) -> float:
    value = float(text)
    if not (value >= 1.0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number >= 1, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text}")
    return value


def _errcodes(text: str) -> tuple[int, ...]:
    try:
        codes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a comma list of errcodes such as -1,6000,45033, got {text}"
        ) from None
    if not codes or 0 in codes:
        raise argparse.ArgumentTypeError("must list at least one non-zero errcode")
    return codes


def _non_negative(text: str) -> float:
    value = float(text)
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


#: WeCom duration flags: (flag, field, type, what it is).
DURATION_FLAGS: tuple[tuple[str, str, object, str], ...] = (
    ("--takeover-hours", "customer_takeover_hours", _non_negative, "customer / group-chat takeover delay"),
    ("--cooling-off-days", "cooling_off_days", _non_negative, "deregistration cooling-off from submission"),
    ("--review-working-days", "review_working_days", _non_negative, "review time the app announces"),
    ("--transfer-window-days", "transfer_window_days", _non_negative, "on-job transfer quota window"),
    (
        "--transfers-per-window",
        "transfers_per_window",
        _positive_int,
        "on-job transfers of a customer per window",
    ),
    (
        "--group-transfers-per-day",
        "group_transfers_per_day",
        _positive_int,
        "group chats per owner pair per day",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by ``running_sandbox`` to learn agent id and webhook key)."""
    parser = argparse.ArgumentParser(
        prog="python -m offboarding_dev.sandbox",
        description="A stateful local WeCom (企业微信) server for tests, the demo and rehearsals. "
        "Control API under /sandbox/ (stats, reset, faults, accounts).",
        formatter_class=lambda prog: argparse.HelpFormatter(prog, width=110, max_help_position=34),
    )
    parser.add_argument(
        "--host", default=defaults.DEFAULT_HOST, help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=defaults.DEFAULT_PORT,
        help="port; 0 = pick a free one and print it (default: %(default)s)",
    )
    parser.add_argument(
        "--corpid",
        default=defaults.DEFAULT_CORPID,
        help="the corp id gettoken accepts (default: %(default)s)",
    )
    parser.add_argument(
        "--secret",
        default=defaults.DEFAULT_SECRET,
        help="default for the three secrets below (default: %(default)s)",
    )
    parser.add_argument(
        "--contact-secret", help="contact-sync (通讯录同步) secret: may write members (default: --secret)"
    )
    parser.add_argument("--customer-secret", help="customer-contact (客户联系) secret (default: --secret)")
    parser.add_argument(
        "--app-secret", help="self-built app secret; may not write members: 48002 (default: --secret)"
    )
    parser.add_argument(
        "--seed",
        default=defaults.DEFAULT_SEED,
        help="'default' or 'members:N' such as members:10000 (default: %(default)s)",
    )
    parser.add_argument(
        "--time-scale",
        type=_time_scale,
        default=1.0,
        help="compress WeCom-side durations (24 h takeover, review, cooling-off, daily limits) by this factor "
        "(default: %(default)g)",
    )
    parser.add_argument(
        "--agent-id",
        type=int,
        default=defaults.DEFAULT_AGENT_ID,
        help="the app's agentid for message/send (default: %(default)s)",
    )
    parser.add_argument(
        "--token-ttl",
        type=_positive_int,
        default=defaults.DEFAULT_TOKEN_TTL_SECONDS,
        help="access token lifetime in seconds, wall time, not scaled (default: %(default)s)",
    )
    parser.add_argument(
        "--webhook-key",
        action="append",
        dest="webhook_keys",
        metavar="KEY",
        help=f"a group-robot webhook key; repeatable (default: one key {defaults.DEFAULT_WEBHOOK_KEY!r})",
    )
    parser.add_argument(
        "--rate-limit-per-minute",
        type=_positive_int,
        default=defaults.DEFAULT_RATE_LIMIT_PER_MINUTE,
        help="calls per corp per API path per minute before 45009 (default: %(default)s)",
    )
    parser.add_argument(
        "--fault-rate",
        type=_rate,
        default=0.0,
        help="share of WeCom calls answered with an injected errcode (split evenly over --fault-errcodes) (default: %(default)s)",
    )
    parser.add_argument(
        "--fault-errcodes",
        type=_errcodes,
        default=",".join(map(str, defaults.DEFAULT_FAULT_ERRCODES)),
        help="errcodes to inject; write --fault-errcodes=-1,6000 (with '=') because of the minus sign (default: %(default)s)",
    )
    parser.add_argument(
        "--http-5xx-rate",
        type=_rate,
        default=0.0,
        help="share of WeCom calls answered with HTTP 5xx (default: %(default)s)",
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="milliseconds of latency added to every WeCom call (default: %(default)s)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request (credentials redacted)")
    env_of = {field: name for name, field in ENV.items()}
    durations = parser.add_argument_group(
        "WeCom's durations (WeCom-side time, compressed by --time-scale; default: WeCom's documented "
        "figure, or the environment variable named)"
    )
    for flag, field, kind, what in DURATION_FLAGS:
        durations.add_argument(
            flag,
            dest=field,
            type=kind,
            default=None,
            metavar="N" if kind is _positive_int else flag.rsplit("-", 1)[-1].upper(),
            help=f"{what} (default: {getattr(DOCUMENTED, field):g}; env {env_of[field]})",
        )
    return parser


def durations_from_args(args: argparse.Namespace) -> WeComDurations:
    """WeCom's documented figures, replaced by the ``WECOM_SANDBOX_*`` variables, then by the flags."""
    flags = {field: getattr(args, field, None) for _, field, _, _ in DURATION_FLAGS}
    return replace(WeComDurations.from_env(), **{k: v for k, v in flags.items() if v is not None})


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        host=args.host,
        port=args.port,
        corpid=args.corpid,
        contact_secret=args.contact_secret or args.secret,
        customer_secret=args.customer_secret or args.secret,
        app_secret=args.app_secret or args.secret,
        seed=args.seed,
        time_scale=args.time_scale,
        agent_id=args.agent_id,
        token_ttl_seconds=args.token_ttl,
        webhook_keys=tuple(args.webhook_keys or (defaults.DEFAULT_WEBHOOK_KEY,)),
        rate_limit_per_minute=args.rate_limit_per_minute,
        fault_rate=args.fault_rate,
        fault_errcodes=args.fault_errcodes,
        http_5xx_rate=args.http_5xx_rate,
        latency_ms=max(0, args.latency_ms),
        verbose=args.verbose,
        durations=durations_from_args(args),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Start the sandbox, print where it listens, serve until SIGTERM/SIGINT."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:  # a bad WECOM_SANDBOX_* variable
        parser.error(str(error))
    logging.basicConfig(
        level=logging.INFO if config.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        app = SandboxApp(config)
    except ValueError as error:
        parser.error(str(error))
    server = SandboxHTTPServer((config.host, config.port), app)
    host, port = server.server_address[:2]
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(
        f"WeCom sandbox listening on http://{host}:{port} "
        f"(corp {config.corpid}, seed {config.seed}, time-scale {config.time_scale:g})",
        flush=True,
    )
    serve_in_thread(server)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    print("WeCom sandbox stopped", file=sys.stderr, flush=True)
    return 0
