"""``WeComHook``: one WeCom corp, configured from an Airflow Connection of type ``wecom``.

The connection holds the CorpID (login), the self-built app's secret (password), the contacts-sync and
customer-contact secrets and the app's AgentId (extras), and the base URL (host; default
``https://qyapi.weixin.qq.com``). Only connections of type ``wecom`` are read, and only over https
(plain http to a loopback sandbox only; see :mod:`offboarding.hooks.connection_rules`).
``AIRFLOW_CONN_WECOM_DEFAULT`` may be a URI or JSON, e.g.::

    AIRFLOW_CONN_WECOM_DEFAULT='{"conn_type": "wecom", "host": "http://127.0.0.1:8900",
      "login": "wwsandbox00000001", "password": "app-secret",
      "extra": {"contact_secret": "...", "customer_secret": "...", "agent_id": 1000002}}'

WeCom gives each secret its own token and its own rights: member writes need the contacts-sync secret,
customer handover the customer-contact secret, messages the app secret. The hook hands out one client
per secret, all sharing the deployment-wide token cache.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from offboarding.hooks.connection_rules import WECOM_CONN_TYPE, require_conn_type, require_secure_url
from offboarding.hooks.dry_run import PlanningClient
from offboarding.wecom import (
    AppChats,
    AppMessages,
    Contacts,
    CustomerContacts,
    Tags,
    WeComClient,
    WeDrive,
    default_token_cache,
)
from offboarding.wecom.errors import WeComError

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com"


def _mask(secret: str | None) -> None:
    """Register a secret with Airflow's log masker (best effort outside a task)."""
    if not secret:
        return
    try:
        from airflow.sdk.log import mask_secret

        mask_secret(secret)
    except Exception:  # pragma: no cover - masking must never break a call
        pass


class WeComHook(BaseHook):
    """Talk to one WeCom corp through the secrets of an Airflow Connection."""

    conn_name_attr = "wecom_conn_id"
    default_conn_name = "wecom_default"
    conn_type = "wecom"
    hook_name = "WeCom (企业微信)"

    def __init__(
        self, wecom_conn_id: str = default_conn_name, *, dry_run: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.wecom_conn_id = wecom_conn_id
        self.dry_run = dry_run

    # -- connection --------------------------------------------------------------------------
    @cached_property
    def connection(self) -> Any:
        conn = self.get_connection(self.wecom_conn_id)
        require_conn_type(self.wecom_conn_id, conn.conn_type, WECOM_CONN_TYPE)
        if not conn.login:
            raise ValueError(f"connection {self.wecom_conn_id}: CorpID (login) is empty")
        for secret in (conn.password, *(self.extras.get(k) for k in ("contact_secret", "customer_secret"))):
            _mask(secret)
        return conn

    @cached_property
    def extras(self) -> dict[str, Any]:
        return dict(self.get_connection(self.wecom_conn_id).extra_dejson or {})

    @property
    def corpid(self) -> str:
        return str(self.connection.login)

    @property
    def base_url(self) -> str:
        host = (self.connection.host or "").strip()
        if not host:
            return DEFAULT_BASE_URL
        if "://" not in host:
            scheme = self.connection.schema if self.connection.schema in ("http", "https") else "https"
            host = f"{scheme}://{host}"
        if self.connection.port:
            host = f"{host.rstrip('/')}:{self.connection.port}"
        return require_secure_url(self.wecom_conn_id, host.rstrip("/"))

    @property
    def agent_id(self) -> int | None:
        value = self.extras.get("agent_id")
        return int(value) if value not in (None, "") else None

    @property
    def app_chat_ids(self) -> list[str]:
        """Group chats this app created (WeCom has no API to list them)."""
        return list(self.extras.get("app_chat_ids") or [])

    @property
    def leavers_department_id(self) -> int | None:
        value = self.extras.get("leavers_department_id")
        return int(value) if value not in (None, "") else None

    def _secret(self, kind: str) -> str:
        app_secret = self.connection.password or ""
        secret = {
            "contacts": self.extras.get("contact_secret"),
            "customers": self.extras.get("customer_secret"),
        }
        chosen = secret.get(kind) or app_secret
        if not chosen:
            raise ValueError(
                f"connection {self.wecom_conn_id} has no secret for {kind}: "
                "set the app secret (Password) and/or the contacts-sync secret"
            )
        return chosen

    def client(self, kind: str = "app") -> WeComClient:
        """The client for one secret: ``contacts``, ``customers`` or ``app``."""
        return self._clients.setdefault(kind, self._make_client(kind))

    @cached_property
    def _clients(self) -> dict[str, WeComClient]:
        return {}

    def _make_client(self, kind: str) -> WeComClient:
        client_class = PlanningClient if self.dry_run else WeComClient
        return client_class(
            self.corpid,
            self._secret(kind),
            base_url=self.base_url,
            token_cache=default_token_cache(),
            label=f"connection {self.wecom_conn_id} ({kind} secret)",
            on_token=_mask,
        )

    def planned_calls(self) -> list[dict[str, Any]]:
        """The write calls a dry run planned instead of sending (empty when not a dry run)."""
        return [call for client in self._clients.values() for call in getattr(client, "planned", [])]

    # -- API groups --------------------------------------------------------------------------
    @cached_property
    def contacts(self) -> Contacts:
        return Contacts(self.client("contacts"))

    @cached_property
    def tags(self) -> Tags:
        return Tags(self.client("app"))

    @cached_property
    def app_chats(self) -> AppChats:
        return AppChats(self.client("app"))

    @cached_property
    def customer_contacts(self) -> CustomerContacts:
        return CustomerContacts(self.client("customers"))

    @cached_property
    def wedrive(self) -> WeDrive:
        return WeDrive(self.client("app"))

    @cached_property
    def app_messages(self) -> AppMessages:
        if self.agent_id is None:
            raise ValueError(
                f"connection {self.wecom_conn_id}: agent_id is not set; it is needed to send app messages"
            )
        return AppMessages(self.client("app"), self.agent_id)

    # -- Airflow UI --------------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Fetch a token with every configured secret; say which one fails and why."""
        checked: list[str] = []
        try:
            kinds = ["app"] + [
                k
                for k, key in (("contacts", "contact_secret"), ("customers", "customer_secret"))
                if self.extras.get(key)
            ]
            for kind in kinds:
                self.client(kind).access_token()
                checked.append(kind)
        except (WeComError, ValueError) as err:
            return False, str(err)
        return True, f"Connected to corp {self.corpid} at {self.base_url}: secrets OK ({', '.join(checked)})"
