"""Provider metadata for Airflow's ``apache_airflow_provider`` entry point.

Airflow 3.2+ builds the connection form from this declarative description (``conn-fields`` and
``ui-field-behaviour``); the legacy ``get_connection_form_widgets`` hooks are deprecated.
"""

from __future__ import annotations

from typing import Any

from offboarding import __version__

_SECRET = {"type": ["string", "null"], "format": "password"}
_TEXT = {"type": ["string", "null"]}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "wecom-offboarding",
        "name": "WeCom offboarding",
        "description": "WeCom (企业微信) offboarding and company wind-up workflows.",
        "versions": [__version__],
        "connection-types": [
            {
                "hook-class-name": "offboarding.hooks.wecom.WeComHook",
                "hook-name": "WeCom (企业微信)",
                "connection-type": "wecom",
                "conn-fields": {
                    "contact_secret": {
                        "label": "Contacts-sync secret (通讯录同步)",
                        "description": "The only secret WeCom accepts for member writes (disable, delete).",
                        "schema": _SECRET,
                    },
                    "customer_secret": {
                        "label": "Customer-contact secret (客户联系)",
                        "description": "For customer and customer-group handover. Empty: the app secret is used.",
                        "schema": _SECRET,
                    },
                    "agent_id": {
                        "label": "AgentId of the self-built app",
                        "description": "Used with the app secret (Password) to send app messages.",
                        "schema": {"type": ["integer", "null"]},
                    },
                    "rehearsal_sandbox": {
                        "label": "Points at the local WeCom sandbox",
                        "description": "Informational; rehearsal time is only allowed on a loopback host.",
                        "schema": {"type": ["boolean", "null"]},
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"login": "CorpID (企业ID)", "password": "App secret", "host": "Base URL"},
                    "placeholders": {
                        "host": "https://qyapi.weixin.qq.com",
                        "login": "ww0123456789abcdef",
                        "contact_secret": "contacts-sync secret",
                    },
                },
            },
            {
                "hook-class-name": "offboarding.hooks.webhook.WeComWebhookHook",
                "hook-name": "WeCom group robot (群机器人)",
                "connection-type": "wecom_webhook",
                "conn-fields": {},
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login", "extra"],
                    "relabeling": {"password": "Robot key", "host": "Base URL"},
                    "placeholders": {"host": "https://qyapi.weixin.qq.com"},
                },
            },
        ],
    }
