"""Which connections a case may use, and how their secrets may travel.

* **Connection types are an allow-list.** The WeCom hook reads only connections of type ``wecom``, the
  group-robot hook only ``wecom_webhook``. A connection of another type (``http``, ``generic``, a
  robot connection named as the WeCom one, ...) is refused before any request: its password would
  otherwise be sent as ``corpsecret=`` or ``key=`` to whatever host it names.
* **Secrets travel over https.** A connection's base URL must be ``https://``; plain ``http://`` only to
  a loopback host (127.0.0.0/8, ::1, localhost: the WeCom sandbox of tests and ``make demo``) or to a
  host the deployment lists in ``OFFBOARDING_PLAIN_HTTP_HOSTS`` (comma separated, e.g. the Compose
  rehearsal's ``wecom-sandbox`` on its private network; never a WeCom host).

The hooks check both when they read their connection; ``check_case`` checks the connections a case
names (``wecom_conn_id``, ``notify.webhook_conn_id``) before anything else happens.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from airflow.sdk.exceptions import AirflowFailException

from offboarding.settings import PLAIN_HTTP_HOSTS_ENV, plain_http_hosts
from offboarding.timescale import is_loopback_url, redact_url

WECOM_CONN_TYPE = "wecom"
WEBHOOK_CONN_TYPE = "wecom_webhook"
WECOM_DOMAINS = ("qq.com",)
"""WeCom's domains (qyapi.weixin.qq.com): never reached over plain http, whatever the deployment lists."""


class ConnectionRefused(AirflowFailException, ValueError):
    """A connection of the wrong type or with an insecure URL. Fails a task without retries (a retry
    cannot fix a connection) and is a ValueError for callers outside a task."""


def require_conn_type(conn_id: str, conn_type: str | None, expected: str) -> None:
    """Refuse connection ``conn_id`` unless its type is exactly ``expected``."""
    if conn_type != expected:
        raise ConnectionRefused(
            f"connection {conn_id} has type {conn_type!r}; expected {expected!r}. Only {expected} "
            f"connections are used here (another type could send its password to another host): create "
            f"{conn_id} with conn type {expected}"
        )


def _is_wecom_host(host: str) -> bool:
    return any(host == domain or host.endswith("." + domain) for domain in WECOM_DOMAINS)


def require_secure_url(conn_id: str, base_url: str) -> str:
    """``base_url`` if its secrets may be sent there: https, or http to loopback / a listed host."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if not host:
        raise ConnectionRefused(f"connection {conn_id}: the host {redact_url(base_url)!r} is not a URL")
    if parts.scheme == "https":
        return base_url
    if parts.scheme == "http":
        if is_loopback_url(base_url):
            return base_url
        if host in plain_http_hosts() and not _is_wecom_host(host):
            return base_url
    raise ConnectionRefused(
        f"connection {conn_id} points at {redact_url(base_url)}: secrets are only sent over https "
        f"(plain http only to a loopback sandbox, or to a host listed in {PLAIN_HTTP_HOSTS_ENV}); "
        f"set the host to https://{parts.netloc or host}"
    )


def check_connection(conn_id: str, expected: str) -> str:
    """Read connection ``conn_id`` and check its type and base URL as its hook would; the base URL.

    Used where a case is checked (``check_case``) so a wrong connection stops the case before it starts.
    """
    if expected == WECOM_CONN_TYPE:
        from offboarding.hooks.wecom import WeComHook

        return WeComHook(conn_id).base_url
    if expected == WEBHOOK_CONN_TYPE:
        from offboarding.hooks.webhook import WeComWebhookHook

        return WeComWebhookHook(conn_id).base_url
    raise ValueError(f"expected must be {WECOM_CONN_TYPE!r} or {WEBHOOK_CONN_TYPE!r}, got {expected!r}")


def check_case_connections(wecom_conn_id: str, webhook_conn_id: str | None) -> dict[str, str]:
    """Check the connections a case names (its form's ``wecom_conn_id`` and ``notify.webhook_conn_id``).

    Returns their base URLs; fails the task (``AirflowFailException``) naming the form field, the
    connection, its type and the expected type, or the insecure URL. Makes no request.
    """
    wanted = {"wecom_conn_id": (wecom_conn_id, WECOM_CONN_TYPE)}
    if webhook_conn_id:
        wanted["notify.webhook_conn_id"] = (webhook_conn_id, WEBHOOK_CONN_TYPE)
    checked: dict[str, str] = {}
    for field, (conn_id, expected) in wanted.items():
        try:
            checked[field] = check_connection(conn_id, expected)
        except Exception as err:  # not found, wrong type, insecure URL, empty key: all stop the case
            raise AirflowFailException(f"the trigger form is invalid: {field}: {err}") from None
    return checked
