"""The trigger form, parsed once: ``PersonCase`` / ``CompanyCase`` / ``LayoffCase``.

A run's conf is untrusted text. :func:`parse_person_case` / :func:`parse_company_case` check it with
the one validation of the form (``validate_person_case`` / ``validate_company_case``: the JSON schema
of each field plus the cross-field rules) and turn it into a frozen value: dates as
``datetime.date``, lists as tuples, ``time_scale`` as a :class:`~offboarding.timescale.TimeScale`,
defaults filled in from the schema. The names are the form's (``userid``, ``successor_userid``, ...),
kept as they are down to the WeCom call. A bad conf raises :class:`InvalidCase`, naming every field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from offboarding.cases.case_ids import case_kind, company_case_id, layoff_case_id, person_case_id
from offboarding.cases.company import COMPANY_CASE_SCHEMA, validate_company_case
from offboarding.cases.layoff import LAYOFF_CASE_SCHEMA, validate_layoff_case
from offboarding.cases.person import PERSON_CASE_SCHEMA, validate_person_case
from offboarding.cases.problems import FieldProblem
from offboarding.timescale import REAL_TIME, TimeScale


class InvalidCase(ValueError):
    """The trigger form is invalid; ``problems`` names each field and what to fix."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("the trigger form is invalid: " + "; ".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Notify:
    """Where the case's alerts go besides the Airflow UI (the form's ``notify``)."""

    webhook_conn_id: str | None = None
    userids: tuple[str, ...] = ()

    @classmethod
    def from_form(cls, value: Mapping[str, Any]) -> Notify:
        return cls(value.get("webhook_conn_id") or None, tuple(value.get("userids") or ()))


@dataclass(frozen=True)
class PersonCase:
    """One departing employee, as typed into the ``offboard_employee`` form (field docs: the schema)."""

    userid: str
    display_name: str
    last_working_day: dt.date
    successor_userid: str
    hr_owner: str
    approvers: tuple[str, ...]
    role: str = "employee"
    wedrive_space_ids: tuple[str, ...] = ()
    backup_target: str = ""
    airflow_user: str = ""
    deregister_account: bool = False
    notify: Notify = Notify()
    wecom_conn_id: str = "wecom_default"
    dry_run: bool = False
    time_scale: TimeScale = REAL_TIME

    kind = "person"

    @property
    def case_id(self) -> str:
        """``offboard-<userid>`` (``dryrun-`` before it for a dry run): the run id of this case."""
        return person_case_id({"userid": self.userid, "dry_run": self.dry_run})

    @property
    def subject(self) -> str:
        """Who the case is about, for the ledger: the userid."""
        return self.userid


@dataclass(frozen=True)
class CompanyCase:
    """One dissolving company, as typed into the ``dissolve_company`` form (field docs: the schema)."""

    company_name: str
    credit_code: str
    procedure: str
    legal_representative: str
    finance_owner: str
    approvers: tuple[str, ...]
    successor_userid: str
    admin_userid: str = ""
    deregister_admin_account: bool = False
    backup_target: str = ""
    notify: Notify = Notify()
    wecom_conn_id: str = "wecom_default"
    dry_run: bool = False
    time_scale: TimeScale = REAL_TIME

    kind = "company"

    @property
    def case_id(self) -> str:
        """``dissolve-<credit code>`` (``dryrun-`` before it for a dry run): the run id of this case."""
        return company_case_id({"credit_code": self.credit_code, "dry_run": self.dry_run})

    @property
    def subject(self) -> str:
        """Which company the case is about, for the ledger: its registered name."""
        return self.company_name


@dataclass(frozen=True)
class LayoffPerson:
    """One person of a layoff list and who inherits their customers and groups."""

    userid: str
    successor_userid: str
    display_name: str = ""


@dataclass(frozen=True)
class LayoffCase:
    """A list of persons leaving together, as given to the ``offboard_layoff`` form (field docs: the schema)."""

    list_id: str
    list_name: str
    last_working_day: dt.date
    persons: tuple[LayoffPerson, ...]
    hr_owner: str
    approvers: tuple[str, ...]
    backup_target: str = ""
    notify: Notify = Notify()
    wecom_conn_id: str = "wecom_default"
    dry_run: bool = False
    time_scale: TimeScale = REAL_TIME

    kind = "layoff"

    @property
    def case_id(self) -> str:
        """``layoff-<list id>`` (``dryrun-`` before it for a dry run): the run id of this case."""
        return layoff_case_id({"list_id": self.list_id, "dry_run": self.dry_run})

    @property
    def subject(self) -> str:
        """Which list the case is about, for the ledger: its name."""
        return self.list_name

    @property
    def successors(self) -> dict[str, str]:
        """Each listed userid → their successor."""
        return {p.userid: p.successor_userid for p in self.persons}


def _with_defaults(schema: Mapping[str, Any], conf: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields (only those the schema knows), missing ones set to the schema's default."""
    values: dict[str, Any] = {}
    for name, spec in schema["properties"].items():
        if name in conf:
            values[name] = conf[name]
        elif "default" in spec:
            values[name] = spec["default"]
    return values


def parse_person_case(conf: Any, *, allow_unknown: bool = False) -> PersonCase:
    """The person form as a :class:`PersonCase`; :class:`InvalidCase` naming every bad field."""
    problems = validate_person_case(conf, allow_unknown=allow_unknown)
    if problems:
        raise InvalidCase(problems)
    v = _with_defaults(PERSON_CASE_SCHEMA, conf)
    return PersonCase(
        userid=v["userid"],
        display_name=v["display_name"],
        last_working_day=dt.date.fromisoformat(v["last_working_day"]),
        successor_userid=v["successor_userid"],
        hr_owner=v["hr_owner"],
        approvers=tuple(v["approvers"]),
        role=v["role"],
        wedrive_space_ids=tuple(v["wedrive_space_ids"]),
        backup_target=v["backup_target"],
        airflow_user=v["airflow_user"],
        deregister_account=v["deregister_account"],
        notify=Notify.from_form(v["notify"]),
        wecom_conn_id=v["wecom_conn_id"],
        dry_run=v["dry_run"],
        time_scale=TimeScale.parse(v["time_scale"]),
    )


def parse_company_case(conf: Any, *, allow_unknown: bool = False) -> CompanyCase:
    """The company form as a :class:`CompanyCase`; :class:`InvalidCase` naming every bad field."""
    problems = validate_company_case(conf, allow_unknown=allow_unknown)
    if problems:
        raise InvalidCase(problems)
    v = _with_defaults(COMPANY_CASE_SCHEMA, conf)
    return CompanyCase(
        company_name=v["company_name"],
        credit_code=v["credit_code"],
        procedure=v["procedure"],
        legal_representative=v["legal_representative"],
        finance_owner=v["finance_owner"],
        approvers=tuple(v["approvers"]),
        successor_userid=v["successor_userid"],
        admin_userid=v["admin_userid"].strip(),
        deregister_admin_account=v["deregister_admin_account"],
        backup_target=v["backup_target"],
        notify=Notify.from_form(v["notify"]),
        wecom_conn_id=v["wecom_conn_id"],
        dry_run=v["dry_run"],
        time_scale=TimeScale.parse(v["time_scale"]),
    )


def parse_layoff_case(conf: Any, *, allow_unknown: bool = False) -> LayoffCase:
    """The layoff form as a :class:`LayoffCase`; :class:`InvalidCase` naming every bad field."""
    problems = validate_layoff_case(conf, allow_unknown=allow_unknown)
    if problems:
        raise InvalidCase(problems)
    v = _with_defaults(LAYOFF_CASE_SCHEMA, conf)
    return LayoffCase(
        list_id=v["list_id"],
        list_name=v["list_name"],
        last_working_day=dt.date.fromisoformat(v["last_working_day"]),
        persons=tuple(
            LayoffPerson(p["userid"], p["successor_userid"], p.get("display_name", "")) for p in v["persons"]
        ),
        hr_owner=v["hr_owner"],
        approvers=tuple(v["approvers"]),
        backup_target=v["backup_target"],
        notify=Notify.from_form(v["notify"]),
        wecom_conn_id=v["wecom_conn_id"],
        dry_run=v["dry_run"],
        time_scale=TimeScale.parse(v["time_scale"]),
    )


Form = PersonCase | CompanyCase | LayoffCase
PARSERS = {"person": parse_person_case, "company": parse_company_case, "layoff": parse_layoff_case}
"""The form's parser of each kind of case."""


def parse_case(conf: Mapping[str, Any], *, allow_unknown: bool = False) -> Form:
    """The form of any kind (:func:`~offboarding.cases.case_ids.case_kind`: ``credit_code`` is a company,
    ``persons`` a layoff list)."""
    return PARSERS[case_kind(conf)](conf, allow_unknown=allow_unknown)
