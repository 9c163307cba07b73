"""What keeps the rehearsal responder away from production.

The responder answers human steps (approvals of deletions included) as real people. It may only do so for
a rehearsal, so before it answers any step of a run it checks, once per run:

* the run is in **rehearsal time**: its conf ``time_scale`` is a number > 1 (a real case runs at 1);
* the run's **WeCom connection is verifiably the sandbox**: the sandbox URL declared for the connection
  (``--sandbox-url CONN_ID=URL``) answers ``GET /sandbox/identity`` with the sandbox's marker (real WeCom,
  or a proxy to it on a loopback address, does not); and when Airflow shows the stored connection through
  its REST API, the connection itself answers the marker (or points at the declared URL) and names the
  sandbox's corp id. A connection Airflow does not show (``AIRFLOW_CONN_*`` variables, a secrets backend)
  is checked through the declared URL only.

And once, when it is built: the Airflow API URL is on this machine (loopback) unless the caller says
``allow_remote_airflow`` (``--allow-remote-airflow``). Each refusal names the run, connection or URL and why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from offboarding.timescale import is_loopback_url

DEFAULT_CONN_ID = "wecom_default"


def check_api_url(api_url: str, *, allow_remote_airflow: bool) -> None:
    """Refuse an Airflow API URL that is not on this machine unless explicitly allowed (ValueError)."""
    if allow_remote_airflow or is_loopback_url(api_url):
        return
    raise ValueError(
        f"api_url: {api_url} is not on this machine (loopback); the responder answers human steps, "
        "deletion approvals included, as the assigned people, so it only talks to a local rehearsal "
        "Airflow. If this remote Airflow really is a rehearsal, pass --allow-remote-airflow "
        "(allow_remote_airflow=True)"
    )


def rehearsal_time_problem(run_label: str, conf: Mapping[str, Any]) -> str | None:
    """Why the run is not in rehearsal time (``time_scale`` > 1), or None when it is."""
    scale = conf.get("time_scale", 1)
    valid = not isinstance(scale, bool) and isinstance(scale, int | float) and math.isfinite(scale)
    if valid and scale > 1:
        return None
    shown = repr(scale) if "time_scale" in conf else "not set (1, real time)"
    return (
        f"run {run_label} is not in rehearsal time (time_scale {shown}): the responder answers only "
        "rehearsals (time_scale > 1) and leaves this run's steps to its people"
    )


def connection_base_url(connection: Mapping[str, Any]) -> str | None:
    """The WeCom base URL of a connection as Airflow's REST API shows it (as the WeCom hook builds it)."""
    host = str(connection.get("host") or "").strip()
    if not host:
        return None  # the hook's default: the real qyapi.weixin.qq.com
    if "://" not in host:
        schema = connection.get("schema")
        host = f"{schema if schema in ('http', 'https') else 'https'}://{host}"
    port = connection.get("port")
    if port:
        host = f"{host.rstrip('/')}:{port}"
    return host.rstrip("/")


def sandbox_connection_problem(
    run_label: str,
    conn_id: str,
    declared_url: str | None,
    *,
    identity: Callable[[str], Mapping[str, Any] | None],
    stored_connection: Mapping[str, Any] | None,
) -> str | None:
    """Why the run's connection is not verifiably the sandbox, or None when it is.

    ``identity(url)`` returns the body of ``GET url/sandbox/identity`` when it carries the sandbox's
    marker, else None. ``stored_connection`` is the connection as Airflow's REST API shows it (None when
    Airflow does not show it).
    """
    if declared_url is None:
        return (
            f"run {run_label}: no sandbox URL declared for its WeCom connection {conn_id}; give "
            f"--sandbox-url {conn_id}=http://127.0.0.1:PORT (the responder answers only runs against the "
            "sandbox)"
        )
    declared = identity(declared_url)
    if declared is None:
        return (
            f"run {run_label}: connection {conn_id}: {declared_url} is not the WeCom sandbox "
            "(GET /sandbox/identity did not answer the sandbox's marker); the responder answers only "
            "runs against the sandbox"
        )
    if stored_connection is None:
        return None
    url = connection_base_url(stored_connection)
    if url is None:
        return (
            f"run {run_label}: connection {conn_id} has no host, so it points at the real WeCom "
            "(qyapi.weixin.qq.com); the responder answers only runs against the sandbox"
        )
    if url.rstrip("/") != declared_url.rstrip("/") and identity(url) is None:
        return (
            f"run {run_label}: connection {conn_id} points at {url}, which does not answer as the WeCom "
            "sandbox (GET /sandbox/identity); the responder answers only runs against the sandbox"
        )
    corpid = stored_connection.get("login")
    if corpid and declared.get("corpid") and str(corpid) != str(declared["corpid"]):
        return (
            f"run {run_label}: connection {conn_id} is corp {corpid}, but the sandbox at {declared_url} "
            f"plays corp {declared['corpid']}; the responder answers only runs against the sandbox"
        )
    return None


__all__ = [
    "check_api_url",
    "connection_base_url",
    "is_loopback_url",
    "rehearsal_time_problem",
    "sandbox_connection_problem",
]
