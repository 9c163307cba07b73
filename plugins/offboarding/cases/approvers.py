"""Separation of duties: who may approve a case's irreversible step and who may own it (pure rules).

The rules, for every entry point (bulk CLI, ``check_case``, the approval task, the deletion tasks):

* an approver is on the deployment's approver list, and an ``hr_owner`` on its HR-owner list
  (:class:`Roster`: the Airflow Variables ``offboarding_approvers`` / ``offboarding_hr_owners``, else
  ``approvals`` in the policy; read by :mod:`offboarding.operators.approvers`) — free text in the
  trigger form alone never makes someone an approver;
* an approver is not the user who triggered the case, not the departing person (``userid`` or
  ``airflow_user``; any person of a layoff list) and not a successor; the HR owner is not a departing
  person;
* company case: the legal representative may not approve the member deletion alone. They are never
  assigned ``approve_member_deletion`` and their answer never counts, so the form must name at least
  one other eligible approver (four eyes: the legal representative already answers the legal steps).

Names are compared without regard to case (``Approver`` and ``approver`` are one person): WeCom
ignores case in userids, and an Airflow user name differing only in case is not a second person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from offboarding.cases.problems import FieldProblem

PERSONS_LEAVING = ("person", "layoff")
"""The kinds of case whose form names the departing persons (who may neither approve nor own it)."""
APPROVERS_VARIABLE = "offboarding_approvers"
"""Airflow Variable: JSON list of the Airflow user names allowed to approve deletions."""
HR_OWNERS_VARIABLE = "offboarding_hr_owners"
"""Airflow Variable: JSON list of the Airflow user names allowed to be a person or layoff case's ``hr_owner``."""

NOT_CONFIGURED = (
    "the deployment declares no {what} list, so no case may run (secure default). Configure it: set "
    "the Airflow Variable {variable} to a JSON list of Airflow user names, e.g. "
    '`airflow variables set {variable} \'["approver_li", "approver_wang"]\'` (or AIRFLOW_VAR_{env}), '
    "or list them under approvals.{key} in the policy file (OFFBOARDING_POLICY_FILE)"
)


@dataclass(frozen=True)
class Roster:
    """The deployment's lists (lower-cased user names); ``None``: the list is not declared anywhere."""

    approvers: frozenset[str] | None
    hr_owners: frozenset[str] | None
    source: str = ""

    @classmethod
    def of(cls, approvers: Iterable[str] | None, hr_owners: Iterable[str] | None, source: str = "") -> Roster:
        def norm(names: Iterable[str] | None) -> frozenset[str] | None:
            if names is None:
                return None
            found = frozenset(_norm(n) for n in names if isinstance(n, str) and n.strip())
            return found or None

        return cls(norm(approvers), norm(hr_owners), source)


def _norm(name: Any) -> str:
    return str(name).strip().lower()


def not_configured_message(what: str) -> str:
    """What to do when the deployment has no ``approver`` / ``HR owner`` list."""
    variable, key = (
        (APPROVERS_VARIABLE, "approvers") if what == "approver" else (HR_OWNERS_VARIABLE, "hr_owners")
    )
    return NOT_CONFIGURED.format(what=what, variable=variable, env=variable.upper(), key=key)


def listed_approvers(conf: Mapping[str, Any]) -> list[str]:
    """The form's ``approvers`` as given (a list of names; a comma-separated string is split)."""
    value = conf.get("approvers")
    if isinstance(value, str):
        value = value.replace(";", ",").split(",")
    if not isinstance(value, Sequence):
        return []
    return [str(v).strip() for v in value if isinstance(v, str) and v.strip()]


def person_identities(conf: Mapping[str, Any]) -> dict[str, str]:
    """The departing persons' names (a person's WeCom userid and Airflow user; every userid of a layoff
    list) → what each one is."""
    names: dict[str, str] = {}
    for field in ("userid", "airflow_user"):
        value = conf.get(field)
        if isinstance(value, str) and value.strip():
            names.setdefault(_norm(value), f"the departing person ({field})")
    persons = conf.get("persons")
    for index, person in enumerate(persons if isinstance(persons, list) else []):
        value = person.get("userid") if isinstance(person, Mapping) else None
        if isinstance(value, str) and value.strip():
            names.setdefault(_norm(value), f"a departing person (persons[{index}])")
    return names


def successor_identities(conf: Mapping[str, Any]) -> dict[str, str]:
    """The successors' names (the form's ``successor_userid``; each layoff person's) → what each one is."""
    names: dict[str, str] = {}
    successor = conf.get("successor_userid")
    if isinstance(successor, str) and successor.strip():
        names[_norm(successor)] = "the successor (successor_userid)"
    persons = conf.get("persons")
    for index, person in enumerate(persons if isinstance(persons, list) else []):
        value = person.get("successor_userid") if isinstance(person, Mapping) else None
        if isinstance(value, str) and value.strip():
            names.setdefault(_norm(value), f"a successor (persons[{index}].successor_userid)")
    return names


def excluded_approvers(conf: Mapping[str, Any], kind: str, triggered_by: str | None) -> dict[str, str]:
    """Who may never approve this case → why (the departing person, the successor, who triggered)."""
    excluded: dict[str, str] = {}
    if kind in PERSONS_LEAVING:
        excluded.update(person_identities(conf))
    for name, why in successor_identities(conf).items():
        excluded.setdefault(name, why)
    if triggered_by:
        excluded.setdefault(_norm(triggered_by), "the user who triggered this case")
    return excluded


def separation_problems(
    conf: Mapping[str, Any],
    kind: str,
    *,
    triggered_by: str | None = None,
    roster: Roster | None = None,
) -> list[FieldProblem]:
    """Every separation-of-duties rule the case breaks (empty: none), each naming the field.

    Without ``roster`` the deployment lists are not checked (the bulk CLI, which cannot read them);
    with one, a list that is not declared is itself a problem (secure default).
    """
    problems: list[FieldProblem] = []
    approvers = listed_approvers(conf)
    excluded = excluded_approvers(conf, kind, triggered_by)
    for name in approvers:
        why = excluded.get(_norm(name))
        if why is not None:
            problems.append(
                FieldProblem(
                    "approvers", f"{name} is {why} and may not approve this case (separation of duties)"
                )
            )
    if kind == "company":
        legal_rep = conf.get("legal_representative")
        eligible = [a for a in approvers if _norm(a) not in excluded]
        if isinstance(legal_rep, str) and eligible and all(_norm(a) == _norm(legal_rep) for a in eligible):
            problems.append(
                FieldProblem(
                    "approvers",
                    f"{legal_rep} is the legal representative and may not approve the member deletion "
                    "alone: name at least one other approver",
                )
            )
    hr_owner = conf.get("hr_owner") if kind in PERSONS_LEAVING else None
    if isinstance(hr_owner, str) and (why := person_identities(conf).get(_norm(hr_owner))):
        problems.append(FieldProblem("hr_owner", f"{hr_owner} is {why} and may not own the case"))
    if roster is None:
        return problems
    if roster.approvers is None:
        problems.append(FieldProblem("approvers", not_configured_message("approver")))
    else:
        for name in approvers:
            if _norm(name) not in roster.approvers:
                problems.append(
                    FieldProblem(
                        "approvers",
                        f"{name} is not on the deployment's approver list ({roster.source or APPROVERS_VARIABLE})",
                    )
                )
    if isinstance(hr_owner, str):
        if roster.hr_owners is None:
            problems.append(FieldProblem("hr_owner", not_configured_message("HR owner")))
        elif _norm(hr_owner) not in roster.hr_owners:
            problems.append(
                FieldProblem(
                    "hr_owner",
                    f"{hr_owner} is not on the deployment's HR-owner list "
                    f"({roster.source or HR_OWNERS_VARIABLE})",
                )
            )
    return problems


def assigned_approvers(conf: Mapping[str, Any], kind: str) -> list[str]:
    """Who the approval task is assigned to: the form's approvers, for a company without its legal
    representative (whose answer never counts, see the module doc)."""
    approvers = listed_approvers(conf)
    if kind == "company":
        legal_rep = conf.get("legal_representative")
        if isinstance(legal_rep, str):
            approvers = [a for a in approvers if _norm(a) != _norm(legal_rep)]
    return approvers


def may_approve(
    name: str | None, conf: Mapping[str, Any], kind: str, *, triggered_by: str | None, roster: Roster
) -> str | None:
    """None when ``name`` may give the approval that counts for this case, else why not."""
    if not name:
        return "nobody answered (a timeout default is not an approval)"
    key = _norm(name)
    if key not in {_norm(a) for a in assigned_approvers(conf, kind)}:
        return f"{name} is not one of the case's assigned approvers"
    why = excluded_approvers(conf, kind, triggered_by).get(key)
    if why is not None:
        return f"{name} is {why}"
    if roster.approvers is None or key not in roster.approvers:
        return f"{name} is not on the deployment's approver list ({roster.source or APPROVERS_VARIABLE})"
    return None
