"""Case ids: the DAG run id of a case, so triggering the same case twice is refused (409), never doubled.

``offboard-<userid>`` for a person, ``dissolve-<credit code>`` for a company. A run id must match
Airflow's ``[scheduler] allowed_run_id_pattern`` (``^[A-Za-z0-9_.~:+-]+$``, no ``..``), so the two
userid characters it does not allow are spelled reversibly: ``@`` becomes ``~`` and ``+`` is put
between consecutive dots (neither ``~`` nor ``+`` can occur in a userid). WeCom ignores case when
it checks that userids are unique, so the id is lower-cased: ``ZhangSan`` and ``zhangsan`` are the
same member and the same case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from offboarding.cases.credit_code import credit_code_problem
from offboarding.cases.fields import WECOM_USERID_PATTERN

PERSON_CASE_PREFIX = "offboard-"
COMPANY_CASE_PREFIX = "dissolve-"


def _run_id_safe_userid(userid: str) -> str:
    spelled = userid.lower().replace("@", "~")
    while ".." in spelled:
        spelled = spelled.replace("..", ".+.")
    return spelled


def person_case_id(conf: Mapping[str, Any]) -> str:
    """``offboard-<userid>``: the run id of a person's case (raises ValueError on a bad userid)."""
    userid = conf.get("userid")
    if not isinstance(userid, str) or not re.match(WECOM_USERID_PATTERN, userid):
        raise ValueError(f"userid: {userid!r} is not a WeCom userid, cannot make a case id")
    return PERSON_CASE_PREFIX + _run_id_safe_userid(userid)


def company_case_id(conf: Mapping[str, Any]) -> str:
    """``dissolve-<credit_code>``: the run id of a company's case (raises ValueError on a bad code)."""
    code = conf.get("credit_code")
    problem = credit_code_problem(code)
    if problem:
        raise ValueError(f"credit_code: {problem}, cannot make a case id")
    return COMPANY_CASE_PREFIX + str(code)
