"""Sheet columns → trigger-form fields, and cell text → the values the case schema expects.

A column may be named by its form field (``userid``, ``last_working_day``...) or by one of the
Chinese headers HR exports use (see ``HEADER_ALIASES``). A ``note`` / ``备注`` column becomes the
DAG run's note instead of a form field. Empty cells are left out so the form's default applies.

Values are converted by the field's JSON-schema type:
* dates — ``2026-12-01``, ``2026/12/1``, ``2026.12.01``, ``2026年12月1日``, Excel date cells and
  Excel serial numbers → ``2026-12-01``;
* booleans — 是/否, true/false, yes/no, 1/0 (any case);
* lists (``approvers``, ``wedrive_space_ids``) — separated by ``;`` ``,`` ``、`` (or full-width ``；`` ``，``) or new lines;
* ``role`` — 员工 / 法定代表人 / 财务负责人; ``procedure`` — 一般注销 / 简易注销;
* ``notify`` — a JSON object, or tokens: ``webhook:<connection id>`` (or ``群机器人:<id>``) and WeCom userids.
A value that cannot be converted is passed on unchanged, so validation names the field and the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

NOTE_COLUMN = "note"

#: Header (lower-cased, spaces removed) → trigger-form field. Field names themselves always work.
HEADER_ALIASES: dict[str, str] = {
    "工号": "userid",
    "企业微信账号": "userid",
    "企业微信id": "userid",
    "账号": "userid",
    "成员userid": "userid",
    "姓名": "display_name",
    "名字": "display_name",
    "交接人": "successor_userid",
    "交接人账号": "successor_userid",
    "接替人": "successor_userid",
    "最后工作日": "last_working_day",
    "离职日期": "last_working_day",
    "角色": "role",
    "审批人": "approvers",
    "hr负责人": "hr_owner",
    "hr": "hr_owner",
    "备份位置": "backup_target",
    "注销账号": "deregister_account",
    "演练": "dry_run",
    "试运行": "dry_run",
    "通知": "notify",
    "告警接收": "notify",
    "企业微信连接": "wecom_conn_id",
    "时间压缩": "time_scale",
    "微盘空间": "wedrive_space_ids",
    "微盘空间id": "wedrive_space_ids",
    "公司名称": "company_name",
    "统一社会信用代码": "credit_code",
    "信用代码": "credit_code",
    "注销方式": "procedure",
    "法定代表人": "legal_representative",
    "财务负责人": "finance_owner",
    "备注": NOTE_COLUMN,
}

#: Chinese (and loose English) spellings of enum values, per field.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "role": {
        "员工": "employee",
        "普通员工": "employee",
        "法定代表人": "legal_representative",
        "法人": "legal_representative",
        "财务负责人": "finance_owner",
    },
    "procedure": {
        "一般注销": "general",
        "一般": "general",
        "简易注销": "simplified",
        "简易": "simplified",
    },
}

_TRUE = {"是", "true", "yes", "y", "1", "对"}
_FALSE = {"否", "false", "no", "n", "0", "不"}
_LIST_SPLIT = re.compile(r"[;,、；，\n]+")
_DATE = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*$")
_EXCEL_EPOCH = date(1899, 12, 30)
_WEBHOOK_TOKEN = re.compile(r"^(?:webhook|robot|群机器人)\s*[:：]\s*(.+)$", re.IGNORECASE)


def header_key(header: str) -> str:
    return re.sub(r"\s+", "", header).lower()


def field_for_header(header: str, fields: Mapping[str, Any]) -> str | None:
    """The form field a column header stands for (``NOTE_COLUMN`` for the run note); None if unknown."""
    key = header_key(header)
    for name in fields:
        if key == name.lower():
            return name
    alias = HEADER_ALIASES.get(key)
    if alias == NOTE_COLUMN or (alias is not None and alias in fields):
        return alias
    return None


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def to_date(value: Any) -> Any:
    """An ISO date string for a date cell, a ``2026/12/1``-like text or an Excel serial number."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return (_EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
    text = _text(value)
    if re.fullmatch(r"\d{5}", text):
        return (_EXCEL_EPOCH + timedelta(days=int(text))).isoformat()
    match = _DATE.match(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3])).isoformat()
        except ValueError:
            return text
    return text


def to_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return _text(value)


def to_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else value
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def to_list(value: Any) -> list[str]:
    return [part.strip() for part in _LIST_SPLIT.split(_text(value)) if part.strip()]


def to_notify(value: Any) -> Any:
    text = _text(value)
    if text.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    webhook: str | None = None
    userids: list[str] = []
    for token in to_list(text):
        match = _WEBHOOK_TOKEN.match(token)
        if match:
            webhook = match[1].strip()
        else:
            userids.append(token)
    return {"webhook_conn_id": webhook, "userids": userids}


def convert_cell(field: str, value: Any, schema: Mapping[str, Any]) -> Any:
    """One cell's value as the field's schema expects it (unchanged when it cannot be converted)."""
    kind = schema.get("type")
    if field in VALUE_ALIASES:
        text = _text(value)
        return VALUE_ALIASES[field].get(text, text.lower() if text.isascii() else text)
    if field == "credit_code":
        return re.sub(r"\s+", "", _text(value)).upper()
    if schema.get("format") == "date":
        return to_date(value)
    if kind == "boolean":
        return to_bool(value)
    if kind in ("number", "integer"):
        return to_number(value)
    if kind == "array":
        return to_list(value)
    if kind == "object":
        return to_notify(value)
    return _text(value)


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
