"""The sample cases, Airflow users and WeCom connections of ``make demo`` (pure data, no I/O).

Two persons from the sandbox's ``default`` seed — 李四 (``lisi``, sales manager with customers, groups,
tags, chats and a WeDrive space, who also deregisters their WeCom account) and 孙七 (``sunqi``, the
legal representative, who gets the tax-role and legal-representative steps) — and, when the company
DAG exists, one company wound up in its own sandbox corp (seed ``members:200``): a dissolving company
deletes everyone, so it never shares the persons' corp.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from offboarding.cases import (
    COMPANY_CASE_SCHEMA,
    COMPANY_DAG_ID,
    PERSON_DAG_ID,
    company_case_id,
    person_case_id,
    validate_company_case,
    validate_person_case,
)

#: A day per second: a 15-day cooling-off takes 15 s, a 20-day public notice 20 s.
REHEARSAL_TIME_SCALE = 86400.0
PERSONS_SEED = "default"
COMPANY_SEED = "members:200"
PERSONS_CONN_ID = "wecom_default"
COMPANY_CONN_ID = "wecom_company"
#: The company sandbox gets its own corp id: WeCom tokens are cached per corp id and secret.
COMPANY_CORPID = "wwsandbox00000002"
#: The default seed's app-created chat and one created by another app (86008: left to a person).
PERSONS_APP_CHAT_IDS = ("chat_sales_weekly", "chat_other_app")
#: Both seeds have department 99 离职人员 for leavers.
LEAVERS_DEPARTMENT_ID = 99

#: The people of the demo (Airflow user → SimpleAuthManager role); the sample persons are added.
DEMO_ROLES: dict[str, str] = {
    "admin": "admin",
    "hr": "user",
    "approver": "user",
    "legal_rep": "user",
    "finance": "user",
}
DEMO_APPROVERS: tuple[str, ...] = ("approver",)
"""The demo deployment's approver list (Airflow Variable ``offboarding_approvers``)."""
DEMO_HR_OWNERS: tuple[str, ...] = ("hr",)
"""The demo deployment's HR-owner list (Airflow Variable ``offboarding_hr_owners``)."""
DEMO_ROBOT_CONN_ID = "wecom_robot_demo"
"""The ops group's robot in the persons' sandbox: where the watchdog's alerts go (every case)."""
DEMO_ALERT_USERIDS: tuple[str, ...] = ("zhangsan",)
"""WeCom members who also get 孙七's case alerts as app messages (the stalled sample step's case)."""


@dataclass(frozen=True)
class SamplePerson:
    """A departing person of the default seed and how their case is filled in."""

    userid: str
    display_name: str
    role: str = "employee"
    successor_userid: str = "wangwu"
    wedrive_space_ids: tuple[str, ...] = ()
    deregister_account: bool = False
    alert_userids: tuple[str, ...] = ()  # the case's notify.userids: alerts as app messages too


SAMPLE_PERSONS: tuple[SamplePerson, ...] = (
    SamplePerson("lisi", "李四", wedrive_space_ids=("space_lisi",), deregister_account=True),
    SamplePerson("sunqi", "孙七", role="legal_representative", alert_userids=DEMO_ALERT_USERIDS),
)


@dataclass(frozen=True)
class SampleCase:
    """One case the demo triggers: which DAG, its run id (= case id), its form, and who starts it."""

    dag_id: str
    run_id: str
    conf: Mapping[str, Any]
    triggered_by: str
    title: str


class SandboxLike(Protocol):
    """What a connection needs to know about a running sandbox (``RunningSandbox`` fits)."""

    base_url: str
    corpid: str
    secret: str
    agent_id: int


def today_in_shanghai(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Asia/Shanghai (the last working day of the sample persons)."""
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).date()


def person_case(
    person: SamplePerson, *, last_working_day: dt.date, time_scale: float = REHEARSAL_TIME_SCALE
) -> SampleCase:
    """The trigger form of one sample person; ValueError naming the fields if it is not valid."""
    conf: dict[str, Any] = {
        "userid": person.userid,
        "display_name": person.display_name,
        "last_working_day": last_working_day.isoformat(),
        "role": person.role,
        "successor_userid": person.successor_userid,
        "wedrive_space_ids": list(person.wedrive_space_ids),
        "hr_owner": DEMO_HR_OWNERS[0],
        "approvers": list(DEMO_APPROVERS),
        "deregister_account": person.deregister_account,
        "wecom_conn_id": PERSONS_CONN_ID,
        "time_scale": time_scale,
    }
    if person.alert_userids:
        conf["notify"] = {"webhook_conn_id": DEMO_ROBOT_CONN_ID, "userids": list(person.alert_userids)}
    _check(conf, validate_person_case(conf), f"sample person {person.userid}")
    return SampleCase(
        dag_id=PERSON_DAG_ID,
        run_id=person_case_id(conf),
        conf=conf,
        triggered_by="hr",
        title=f"{person.display_name} ({person.userid}) leaves",
    )


def company_case(*, time_scale: float = REHEARSAL_TIME_SCALE) -> SampleCase:
    """The trigger form of the sample company (simplified deregistration, 20-day notice)."""
    conf: dict[str, Any] = {
        "company_name": "示例科技有限公司（演练）",
        "credit_code": "91350100M000100Y43",
        "procedure": "simplified",
        "legal_representative": "legal_rep",
        "finance_owner": "finance",
        "approvers": list(DEMO_APPROVERS),
        "successor_userid": "zhangsan",
        "wecom_conn_id": COMPANY_CONN_ID,
        "time_scale": time_scale,
    }
    if "admin_userid" in COMPANY_CASE_SCHEMA["properties"]:
        conf["admin_userid"] = "zhangsan"
    _check(conf, validate_company_case(conf), "sample company")
    return SampleCase(
        dag_id=COMPANY_DAG_ID,
        run_id=company_case_id(conf),
        conf=conf,
        triggered_by="legal_rep",
        title=f"{conf['company_name']} is wound up",
    )


def _check(conf: Mapping[str, Any], problems: Sequence[Any], what: str) -> None:
    if problems:
        details = "; ".join(f"{p.field}: {p.message}" for p in problems)
        raise ValueError(
            f"{what}: the demo's form no longer matches the case schema ({details}); "
            "update offboarding_dev/rehearsal/samples.py"
        )


def demo_roles(persons: Sequence[SamplePerson] = SAMPLE_PERSONS) -> dict[str, str]:
    """Every Airflow user of the demo: the roles above plus each sample person (they answer their steps)."""
    return DEMO_ROLES | {person.userid: "user" for person in persons}


class RobotLike(Protocol):
    """What a robot connection needs to know about a running sandbox (``RunningSandbox`` fits)."""

    base_url: str
    webhook_key: str


def robot_connection(sandbox: RobotLike) -> dict[str, Any]:
    """The ``wecom_webhook`` connection of the sandbox's group robot (as an ``AIRFLOW_CONN_*`` JSON)."""
    return {"conn_type": "wecom_webhook", "host": sandbox.base_url, "password": sandbox.webhook_key}


def wecom_connection(
    sandbox: SandboxLike,
    *,
    app_chat_ids: Sequence[str] = (),
    leavers_department_id: int | None = None,
    admin_userids: Sequence[str] = (),
) -> dict[str, Any]:
    """The Airflow connection (as the JSON of an ``AIRFLOW_CONN_*`` variable) for one sandbox corp."""
    extra: dict[str, Any] = {
        "contact_secret": sandbox.secret,
        "customer_secret": sandbox.secret,
        "agent_id": sandbox.agent_id,
        "rehearsal_sandbox": True,
    }
    if app_chat_ids:
        extra["app_chat_ids"] = list(app_chat_ids)
    if leavers_department_id is not None:
        extra["leavers_department_id"] = leavers_department_id
    if admin_userids:
        extra["admin_userids"] = list(admin_userids)
    return {
        "conn_type": "wecom",
        "host": sandbox.base_url,
        "login": sandbox.corpid,
        "password": sandbox.secret,
        "extra": extra,
    }


__all__ = [
    "COMPANY_CONN_ID",
    "COMPANY_CORPID",
    "COMPANY_SEED",
    "DEMO_ALERT_USERIDS",
    "DEMO_ROBOT_CONN_ID",
    "DEMO_ROLES",
    "PERSONS_CONN_ID",
    "PERSONS_SEED",
    "REHEARSAL_TIME_SCALE",
    "SAMPLE_PERSONS",
    "SampleCase",
    "SamplePerson",
    "company_case",
    "demo_roles",
    "person_case",
    "robot_connection",
    "today_in_shanghai",
    "wecom_connection",
]
