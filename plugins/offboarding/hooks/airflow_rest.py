"""The deployment's read-only credential for Airflow's REST API, from one Airflow Connection.

Tasks have no database access in Airflow 3; what they must read from Airflow's own record (the approval's
human-in-the-loop answer, the case's controls served by the plugin) they read over REST with the
Connection ``offboarding_airflow_api`` (``OFFBOARDING_AIRFLOW_API_CONN_ID``): host = the api-server URL
(``http://airflow-apiserver:8080``, or host + port + schema), login/password of a read-only user (e.g.
SimpleAuthManager role ``viewer``). The password never appears in a message.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from offboarding.airflow_api import AirflowApi

REST_TIMEOUT_SECONDS = 60


def _missing(conn_id: str, needed_for: str) -> str:
    return (
        f"{needed_for}: configure the Airflow Connection {conn_id} (host = the api-server URL, e.g. "
        "http://airflow-apiserver:8080; login and password of a read-only Airflow user, e.g. "
        "SimpleAuthManager role viewer)"
    )


def api_from_connection(conn: Any, conn_id: str, *, needed_for: str) -> AirflowApi:
    """A REST client for the api-server named by ``conn`` (an Airflow Connection already fetched).

    ``needed_for`` says who needs it ("the deletion cannot read Airflow's record of the approval"); it
    starts the AirflowFailException raised when the connection lacks the host, the login or the password.
    """
    host = str(getattr(conn, "host", None) or "")
    if not host or not getattr(conn, "login", None) or not getattr(conn, "password", None):
        raise AirflowFailException(
            _missing(conn_id, needed_for) + " — it lacks the host, the login or the password"
        )
    port = getattr(conn, "port", None)
    url = (
        host
        if "://" in host
        else f"{getattr(conn, 'schema', None) or 'http'}://{host}{f':{port}' if port else ''}"
    )
    try:
        return AirflowApi(url, username=conn.login, password=conn.password, timeout=REST_TIMEOUT_SECONDS)
    except ValueError as err:
        raise AirflowFailException(f"connection {conn_id}: {err}") from None


def airflow_api(conn_id: str | None = None, *, needed_for: str) -> AirflowApi:
    """A REST client with the deployment's credential (Connection ``conn_id``, default the setting)."""
    from airflow.sdk import BaseHook

    from offboarding import settings

    conn_id = conn_id or settings.airflow_api_conn_id()
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:
        raise AirflowFailException(_missing(conn_id, needed_for)) from None
    return api_from_connection(conn, conn_id, needed_for=needed_for)
