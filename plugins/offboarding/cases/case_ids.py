"""Case ids: the DAG run id of a case, so triggering the same case twice is refused (409), never doubled.

``offboard-<userid>`` for a person, ``dissolve-<credit code>`` for a company. A run id must match
Airflow's ``[scheduler] allowed_run_id_pattern`` (``^[A-Za-z0-9_.~:+-]+$``, no ``..``), so the two
userid characters it does not allow are spelled reversibly: ``@`` becomes ``~`` and ``+`` is put
between consecutive dots (neither ``~`` nor ``+`` can occur in a userid). WeCom ignores case when
it checks that userids are unique, so the id is lower-cased: ``ZhangSan`` and ``zhangsan`` are the
same member and the same case.

A dry run (``dry_run: true``) is a different case: ``dryrun-offboard-<userid>`` /
``dryrun-dissolve-<credit code>``. It has its own run id and case folder, so rehearsing a case never
uses up the real case's id (a dry run triggered first would otherwise make the real run a 409 and
claim its folder).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from offboarding.cases.credit_code import credit_code_problem
from offboarding.cases.fields import WECOM_USERID_PATTERN

PERSON_CASE_PREFIX = "offboard-"
COMPANY_CASE_PREFIX = "dissolve-"
DRY_RUN_CASE_PREFIX = "dryrun-"
"""Put before the case id of a dry run: ``dryrun-offboard-lisi``."""


def _dry_run_prefix(conf: Mapping[str, Any]) -> str:
    return DRY_RUN_CASE_PREFIX if conf.get("dry_run") is True else ""


def is_dry_run_case_id(case_id: str) -> bool:
    """True for the case id of a dry run (``dryrun-...``)."""
    return case_id.startswith(DRY_RUN_CASE_PREFIX)


def _run_id_safe_userid(userid: str) -> str:
    spelled = userid.lower().replace("@", "~")
    while ".." in spelled:
        spelled = spelled.replace("..", ".+.")
    return spelled


def person_case_id(conf: Mapping[str, Any]) -> str:
    """``offboard-<userid>`` (``dryrun-offboard-<userid>`` for a dry run): the run id of a person's case.

    Raises ValueError on a bad userid.
    """
    userid = conf.get("userid")
    if not isinstance(userid, str) or not re.match(WECOM_USERID_PATTERN, userid):
        raise ValueError(f"userid: {userid!r} is not a WeCom userid, cannot make a case id")
    return _dry_run_prefix(conf) + PERSON_CASE_PREFIX + _run_id_safe_userid(userid)


def company_case_id(conf: Mapping[str, Any]) -> str:
    """``dissolve-<credit_code>`` (``dryrun-dissolve-<credit_code>`` for a dry run): a company's run id.

    Raises ValueError on a bad code.
    """
    code = conf.get("credit_code")
    problem = credit_code_problem(code)
    if problem:
        raise ValueError(f"credit_code: {problem}, cannot make a case id")
    return _dry_run_prefix(conf) + COMPANY_CASE_PREFIX + str(code)
