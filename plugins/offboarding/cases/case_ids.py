"""Case ids: the DAG run id of a case, so triggering the same case twice is refused (409), never doubled.

``offboard-<userid>`` for a person, ``dissolve-<credit code>`` for a company, ``layoff-<list id>`` for a
list of persons leaving together. A run id must match
Airflow's ``[scheduler] allowed_run_id_pattern`` (``^[A-Za-z0-9_.~:+-]+$``, no ``..``), so the two
userid characters it does not allow are spelled reversibly: ``@`` becomes ``~`` and ``+`` is put
between consecutive dots (neither ``~`` nor ``+`` can occur in a userid). WeCom ignores case when
it checks that userids are unique, so the id is lower-cased: ``ZhangSan`` and ``zhangsan`` are the
same member and the same case.

A dry run (``dry_run: true``) is a different case: ``dryrun-offboard-<userid>`` /
``dryrun-dissolve-<credit code>``. It has its own run id and case folder, so rehearsing a case never
uses up the real case's id (a dry run triggered first would otherwise make the real run a 409 and
claim its folder).

**Re-offboarding** (a person rehired and leaving again, a company wound up again): the n-th case of
the same member gets ``<first case id>+<n>`` (``offboard-lisi+2``, ``offboard-lisi+3``); the first
case keeps ``offboard-lisi``. A userid is spelled with ``+`` only between two dots (``.+.``), so a
``+`` followed by digits at the end never comes from a userid and the scheme is unambiguous and
reversible (:func:`split_case_id`); ``+`` is allowed by Airflow's run-id pattern and in case folder
names. A new case is allowed only when every earlier case of the member is final (closed or
rescinded; see :mod:`offboarding.cases.lifecycle`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from offboarding.cases.credit_code import credit_code_problem
from offboarding.cases.fields import LIST_ID_PATTERN, WECOM_USERID_PATTERN

PERSON_CASE_PREFIX = "offboard-"
COMPANY_CASE_PREFIX = "dissolve-"
LAYOFF_CASE_PREFIX = "layoff-"
DRY_RUN_CASE_PREFIX = "dryrun-"
"""Put before the case id of a dry run: ``dryrun-offboard-lisi``."""


def _dry_run_prefix(conf: Mapping[str, Any]) -> str:
    return DRY_RUN_CASE_PREFIX if conf.get("dry_run") is True else ""


def is_dry_run_case_id(case_id: str) -> bool:
    """True for the case id of a dry run (``dryrun-...``)."""
    return case_id.startswith(DRY_RUN_CASE_PREFIX)


CASE_NUMBER_SEPARATOR = "+"
_NUMBERED = re.compile(r"^(?P<first>.+)\+(?P<n>[2-9]|[1-9][0-9]{1,5})$")


def numbered_case_id(first_case_id: str, number: int) -> str:
    """The id of the ``number``-th case of a member: the first case's id, then ``+2``, ``+3``..."""
    if number < 1:
        raise ValueError(f"number: a case number starts at 1, got {number}")
    return first_case_id if number == 1 else f"{first_case_id}{CASE_NUMBER_SEPARATOR}{number}"


def split_case_id(case_id: str) -> tuple[str, int]:
    """``(first case id, number)``: ``offboard-lisi+2`` → ``("offboard-lisi", 2)``; no suffix → 1."""
    match = _NUMBERED.match(case_id)
    if match is None:
        return case_id, 1
    return match["first"], int(match["n"])


def is_case_of(run_id: str, first_case_id: str) -> bool:
    """True when ``run_id`` is one of the numbered cases of the member whose first case is ``first_case_id``."""
    return split_case_id(run_id)[0] == first_case_id


def case_id_for_run(conf: Mapping[str, Any], run_id: str) -> str:
    """The case id of a run: its run id when that is one of the member's case ids (``offboard-lisi``,
    ``offboard-lisi+2``), else (a run started from the UI form, ``manual__...``) the first case id.

    Raises ValueError on a bad userid / credit code.
    """
    first = first_case_id(conf)
    return run_id if is_case_of(run_id, first) else first


def case_kind(conf: Mapping[str, Any]) -> str:
    """Which form ``conf`` is: ``company`` (it has ``credit_code``), ``layoff`` (``persons``), else ``person``."""
    if "credit_code" in conf:
        return "company"
    return "layoff" if "persons" in conf else "person"


def first_case_id(conf: Mapping[str, Any]) -> str:
    """The first case id of the form's subject: a company (``credit_code``), a layoff list (``persons``),
    else a person. Raises ValueError on a bad userid / credit code / list id."""
    kind = case_kind(conf)
    if kind == "company":
        return company_case_id(conf)
    return layoff_case_id(conf) if kind == "layoff" else person_case_id(conf)


def case_id_shown_for_run(conf: Mapping[str, Any], run_id: str) -> str:
    """:func:`case_id_for_run`, or the run id when the form's userid / credit code is not valid (for
    display and alerts only: what the pages show and the watchdog names, never an access decision).

    A run whose id is already one of the member's case ids is named by it without checking the form
    again (Airflow checked it at trigger; a bad value would give the run id anyway).
    """
    if "credit_code" in conf:
        value, prefix = conf.get("credit_code"), COMPANY_CASE_PREFIX
    elif "persons" in conf:
        value, prefix = conf.get("list_id"), LAYOFF_CASE_PREFIX
    else:
        value, prefix = conf.get("userid"), PERSON_CASE_PREFIX
    if isinstance(value, str) and value:
        spelled = _run_id_safe_userid(value) if prefix == PERSON_CASE_PREFIX else value
        if is_case_of(run_id, _dry_run_prefix(conf) + prefix + spelled):
            return run_id
    try:
        return case_id_for_run(conf, run_id)
    except ValueError:
        return run_id


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


def layoff_case_id(conf: Mapping[str, Any]) -> str:
    """``layoff-<list id>`` (``dryrun-layoff-<list id>`` for a dry run): the run id of a layoff list's case.

    Raises ValueError on a bad list id.
    """
    list_id = conf.get("list_id")
    if not isinstance(list_id, str) or not re.match(LIST_ID_PATTERN, list_id):
        raise ValueError(f"list_id: {list_id!r} is not a list id, cannot make a case id")
    return _dry_run_prefix(conf) + LAYOFF_CASE_PREFIX + list_id
