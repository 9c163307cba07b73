"""Trigger-form fields shared by the person and the company case (plain JSON-schema dicts).

Each field is a JSON schema for one value plus the Airflow trigger-form extras ``title``,
``description`` and ``section`` (ignored by plain JSON-schema validation). A ``default`` makes the
field optional; a field without one must be filled in.
"""

from __future__ import annotations

import copy
from typing import Any

WECOM_USERID_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
AIRFLOW_USERNAME_PATTERN = r"^\S{1,256}$"
CONN_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,250}$"
#: Empty (the deployment's default root) or the name of a storage root the deployment declares in
#: ``OFFBOARDING_BACKUP_ROOTS`` (see :mod:`offboarding.backup.roots`); never a path or a URL.
BACKUP_TARGET_PATTERN = r"^(|[a-z][a-z0-9_-]{0,31})$"
#: A layoff list's id (its case id is ``layoff-<list id>``, a DAG run id).
LIST_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"

#: What a pattern means, for error messages an ops engineer can act on.
PATTERN_HINTS: dict[str, str] = {
    WECOM_USERID_PATTERN: "a WeCom userid: 1-64 letters, digits, '_', '.', '@' or '-'",
    AIRFLOW_USERNAME_PATTERN: "an Airflow user name without spaces",
    CONN_ID_PATTERN: "an Airflow connection id: letters, digits, '_', '.' or '-'",
    LIST_ID_PATTERN: "a list id: 1-63 lower-case letters, digits, '_', '.' or '-', starting with a letter or digit",
    BACKUP_TARGET_PATTERN: (
        "empty (the default root) or the name of a storage root the deployment declares "
        "(OFFBOARDING_BACKUP_ROOTS), e.g. archive; never a path or a URL"
    ),
}

SECTION_PERSON = "Who is leaving (离职人员)"
SECTION_COMPANY = "Company (公司)"
SECTION_HANDOVER = "Handover (交接)"
SECTION_APPROVAL = "Owners and approval (负责人与审批)"
SECTION_BACKUP = "Backup (备份)"
SECTION_ALERTS = "Alerts (告警)"
SECTION_RUN = "Run options (运行选项)"


def wecom_userid(title: str, description: str, section: str) -> dict[str, Any]:
    """A required WeCom userid (成员UserID)."""
    return {
        "type": "string",
        "pattern": WECOM_USERID_PATTERN,
        "title": title,
        "description": description,
        "section": section,
    }


def airflow_user(title: str, description: str, section: str) -> dict[str, Any]:
    """A required Airflow user name (the login shown in the Airflow UI)."""
    return {
        "type": "string",
        "minLength": 1,
        "pattern": AIRFLOW_USERNAME_PATTERN,
        "title": title,
        "description": description,
        "section": section,
    }


def approvers(description: str) -> dict[str, Any]:
    """The Airflow users who must approve the irreversible steps (at least one, no duplicates)."""
    return {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "pattern": AIRFLOW_USERNAME_PATTERN},
        "minItems": 1,
        "uniqueItems": True,
        "title": "Approvers (审批人)",
        "description": description,
        "section": SECTION_APPROVAL,
    }


BACKUP_TARGET: dict[str, Any] = {
    "type": "string",
    "default": "",
    "maxLength": 32,
    "pattern": BACKUP_TARGET_PATTERN,
    "title": "Backup location (备份位置)",
    "description": (
        "Which of the deployment's storage roots the backup and evidence files go to: the name of a "
        "root the operator declared (OFFBOARDING_BACKUP_ROOTS), e.g. archive. Leave empty for the "
        "deployment's default root (its data folder). Paths and URLs are not accepted."
    ),
    "section": SECTION_BACKUP,
}

#: Where alerts of this case go besides the Airflow UI (see ``NOTIFY_NONE`` for the default).
NOTIFY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "webhook_conn_id": {
            "type": ["string", "null"],
            "pattern": CONN_ID_PATTERN,
            "description": "Airflow connection of a WeCom group robot (群机器人), conn type wecom_webhook",
        },
        "userids": {
            "type": "array",
            "items": {"type": "string", "pattern": WECOM_USERID_PATTERN},
            "uniqueItems": True,
            "description": "WeCom userids who get an app message (应用消息) for each alert",
        },
    },
    "additionalProperties": False,
    "default": {"webhook_conn_id": None, "userids": []},
    "title": "Alert recipients (告警接收)",
    "description": (
        'Who hears about stalled or failed steps besides the Airflow UI: {"webhook_conn_id": '
        '"wecom_robot_ops", "userids": ["zhangsan"]}. A group-robot connection id and/or WeCom '
        "userids; both empty means alerts show in Airflow only."
    ),
    "section": SECTION_ALERTS,
}

WECOM_CONN_ID: dict[str, Any] = {
    "type": "string",
    "default": "wecom_default",
    "pattern": CONN_ID_PATTERN,
    "title": "WeCom connection (企业微信连接)",
    "description": "Airflow connection (conn type wecom) holding the CorpID and secrets.",
    "section": SECTION_RUN,
}

DRY_RUN: dict[str, Any] = {
    "type": "boolean",
    "default": False,
    "title": "Dry run (演练, 不做修改)",
    "description": "Read and back up only: every step that would change WeCom logs what it would do instead.",
    "section": SECTION_RUN,
}

TIME_SCALE: dict[str, Any] = {
    "type": "number",
    "minimum": 1,
    "default": 1,
    "title": "Time compression (时间压缩)",
    "description": (
        "1 for real cases. For rehearsals against the WeCom sandbox only: every legal and business "
        "wait is divided by this factor (e.g. 86400 turns a day into a second)."
    ),
    "section": SECTION_RUN,
}


def field(schema: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of a shared field with some keys replaced (so the cases never share dicts)."""
    copied = copy.deepcopy(schema)
    copied.update(changes)
    return copied
