"""The Airflow credentials options every REST-backed subcommand takes (``bulk-trigger``, ``case``).

``--api-url`` (env ``AIRFLOW_API_URL``), ``--username``/``--password`` (env ``AIRFLOW_USERNAME``/
``AIRFLOW_PASSWORD``) or a ready token in env ``AIRFLOW_API_TOKEN``. Secrets are never printed.
"""

from __future__ import annotations

import argparse
import os

from offboarding.airflow_api import AirflowApi

CREDENTIALS_HELP = (
    "Credentials: --username/--password, or env AIRFLOW_USERNAME/AIRFLOW_PASSWORD, or AIRFLOW_API_TOKEN."
)


def add_credentials_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--api-url``, ``--username`` and ``--password`` (defaults from the environment)."""
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


def api_from_args(args: argparse.Namespace) -> AirflowApi:
    """The REST client the options describe; ValueError naming the missing option."""
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
