"""One sheet → one layoff case (``--one-case``): a person per row, the case-wide fields once.

The rows are read and converted as for one case per row (:func:`~offboarding.bulk.plan.map_columns`,
:func:`~offboarding.bulk.plan.row_conf`: the person form's columns and Chinese headers). Then:

* each row gives one ``persons`` entry (``userid``, ``successor_userid``, ``display_name``);
* the case-wide fields (``CASE_WIDE_FIELDS``) must say the same in every row. An empty cell means the
  form's default (the schema's, or for ``hr_owner`` / ``approvers`` the deployment's, which the command
  cannot know): a row that leaves it empty differs from one that names a value, unless the schema's
  default is that value;
* a row whose person has steps of their own (legal representative, finance owner, an account to
  deregister) or fields the list has no place for (WeDrive spaces, their own Airflow user) is refused:
  they get an ``offboard_employee`` case;
* the conf is validated with :func:`~offboarding.cases.validate_layoff_case`; a ``persons[i]`` problem
  is shown on the sheet row of person ``i``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offboarding.bulk.plan import map_columns, row_conf
from offboarding.bulk.sheet import Sheet
from offboarding.cases import (
    LAYOFF_CASE_SCHEMA,
    PERSON_CASE_SCHEMA,
    FieldProblem,
    layoff_case_id,
    validate_layoff_case,
)
from offboarding.cases.approvers import separation_problems

#: Fields of the layoff form taken once for the whole list; every row must agree on them.
CASE_WIDE_FIELDS = (
    "last_working_day",
    "hr_owner",
    "approvers",
    "wecom_conn_id",
    "time_scale",
    "backup_target",
    "dry_run",
    "notify",
)
#: Fields of one ``persons`` entry.
PERSON_FIELDS = ("userid", "successor_userid", "display_name")
#: Person-form fields the list has no place for: a row may only leave them empty.
NO_PLACE_FIELDS = ("wedrive_space_ids", "airflow_user")
OWN_STEPS_ROLES = ("legal_representative", "finance_owner")
#: Columns the sheet needs (hr_owner / approvers may come from the deployment's defaults).
REQUIRED_COLUMNS = ("userid", "successor_userid", "last_working_day")
OWN_CASE = "they have steps of their own: give them an offboard_employee case"
ROWS_SHOWN = 8
"""Row ranges named in one message; the rest are counted."""


class _Empty:
    """An empty cell of a field without a schema default: the deployment's default applies."""

    def __str__(self) -> str:
        return "(empty: the deployment's default)"


_EMPTY = _Empty()
_PERSON_INDEX = re.compile(r"persons\[(\d+)\]")


@dataclass(frozen=True)
class ListProblem:
    """One reason the list cannot be triggered: on one sheet row, or (``row`` None) the whole list."""

    row: int | None
    text: str
    #: The case-wide field the rows disagree on (for ``differs`` problems).
    field: str | None = None


@dataclass
class LayoffPlan:
    """The sheet as one ``offboard_layoff`` conf, and everything that stops it."""

    conf: dict[str, Any]
    case_id: str | None
    #: Sheet row of each ``persons`` entry, in order.
    rows: list[int] = field(default_factory=list)
    problems: list[ListProblem] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems and not self.file_problems

    @property
    def persons(self) -> list[dict[str, Any]]:
        return list(self.conf.get("persons") or [])


def rows_text(rows: Sequence[int]) -> str:
    """``2-5, 8, 10-12`` (ranges of consecutive rows; at most ``ROWS_SHOWN`` of them, then a count)."""
    ranges: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if ranges and row == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], row)
        else:
            ranges.append((row, row))
    shown = [str(a) if a == b else f"{a}-{b}" for a, b in ranges[:ROWS_SHOWN]]
    more = sum(b - a + 1 for a, b in ranges[ROWS_SHOWN:])
    return ", ".join(shown) + (f" and {more} more" if more else "")


def _shown(value: Any) -> str:
    if value is _EMPTY:
        return str(_EMPTY)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | bool) else str(value)


def _key(value: Any) -> str:
    """A comparable spelling of a cell's value (the order of a list of names does not matter)."""
    if value is _EMPTY:
        return ""  # no cell value spells to an empty string: JSON always quotes a string
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = sorted(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def row_problems(conf: Mapping[str, Any], headers: Mapping[str, str]) -> list[str]:
    """Why this row's person cannot be one of the list (their own case, or a field the list has not)."""
    problems = []
    role = conf.get("role", "employee")
    if role in OWN_STEPS_ROLES:
        problems.append(f"{_column('role', headers)}: {role}: {OWN_CASE}")
    elif role != "employee":
        problems.append(f"{_column('role', headers)}: {role!r} is not a role a layoff list takes (employee)")
    if conf.get("deregister_account") is True:
        problems.append(f"{_column('deregister_account', headers)}: an account to deregister: {OWN_CASE}")
    elif conf.get("deregister_account", False) is not False:
        problems.append(f"{_column('deregister_account', headers)}: must be true or false")
    for name in NO_PLACE_FIELDS:
        if conf.get(name) not in (None, "", []):
            problems.append(
                f"{_column(name, headers)}: a layoff list has no per-person {name}: leave it empty, "
                "--ignore-column it, or give them an offboard_employee case"
            )
    return problems


def _column(name: str, headers: Mapping[str, str]) -> str:
    header = headers.get(name)
    return name if header is None or header == name else f"{name} (column {header})"


def _case_wide(
    confs: Sequence[tuple[int, Mapping[str, Any]]], headers: Mapping[str, str]
) -> tuple[dict[str, Any], list[ListProblem]]:
    """The case-wide fields every row agrees on (left out when every row leaves them empty)."""
    properties = LAYOFF_CASE_SCHEMA["properties"]
    agreed: dict[str, Any] = {}
    problems: list[ListProblem] = []
    for name in CASE_WIDE_FIELDS:
        default = properties[name].get("default", _EMPTY)
        by_value: dict[str, tuple[Any, list[int]]] = {}
        for row, conf in confs:
            value = conf.get(name, default)
            by_value.setdefault(_key(value), (value, []))[1].append(row)
        if len(by_value) > 1:
            spread = "; ".join(
                f"{_shown(value)} in row{'s' if len(rows) > 1 else ''} {rows_text(rows)}"
                for value, rows in by_value.values()
            )
            problems.append(
                ListProblem(
                    None,
                    f"{_column(name, headers)}: differs between rows ({spread}); one case takes one value "
                    "for the whole list: make the rows agree, or split the sheet into lists",
                    field=name,
                )
            )
            continue
        given = [conf[name] for _, conf in confs if name in conf]
        if given:
            agreed[name] = given[0]
    return agreed, problems


def _on_rows(problem: FieldProblem, rows: Sequence[int], headers: Mapping[str, str]) -> ListProblem:
    """A layoff-form problem said in the sheet's terms: ``persons[i].x`` on person ``i``'s row."""

    def row_of(index: int) -> int | None:
        return rows[index] if 0 <= index < len(rows) else None

    message = _PERSON_INDEX.sub(
        lambda m: f"row {row_of(int(m[1]))}" if row_of(int(m[1])) else m[0], problem.message
    )
    match = re.fullmatch(r"persons\[(\d+)\]\.?(.*)", problem.field)
    if match and row_of(int(match[1])) is not None:
        name = match[2] or "person"
        return ListProblem(row_of(int(match[1])), f"{_column(name, headers)}: {message}")
    top = _top_field(problem)
    if top == "list_id":
        return ListProblem(None, f"--one-case: {message}")
    if top == "list_name":
        return ListProblem(None, f"--list-name: {message}")
    if top == "persons":
        return ListProblem(None, f"{problem.field} (the sheet's rows): {message}")
    where = _column(top, headers) + problem.field[len(top) :]
    return ListProblem(None, f"{where}: {message} (the value of every row)")


def plan_layoff(
    sheet: Sheet,
    list_id: str,
    list_name: str | None = None,
    ignore_columns: tuple[str, ...] = (),
    triggered_by: str | None = None,
) -> LayoffPlan:
    """The whole sheet as one layoff case (``list_name`` defaults to the list id), validated."""
    base: dict[str, Any] = {"list_id": list_id, "list_name": list_name or list_id}
    properties = PERSON_CASE_SCHEMA["properties"]
    columns, file_problems = map_columns(sheet, "person", properties, REQUIRED_COLUMNS, ignore_columns)
    if file_problems:
        return LayoffPlan(base, None, file_problems=file_problems)
    headers = {target: header for header, target in columns.items()}
    confs: list[tuple[int, dict[str, Any]]] = []
    problems: list[ListProblem] = []
    for row in sheet.rows:
        conf, _note = row_conf(row, columns, properties)
        confs.append((row.number, conf))
        problems.extend(ListProblem(row.number, text) for text in row_problems(conf, headers))
        if "(no header)" in row.cells:
            problems.append(
                ListProblem(row.number, "(no header): cells to the right of the last column header")
            )
    agreed, differing = _case_wide(confs, headers)
    persons = [{k: conf[k] for k in PERSON_FIELDS if k in conf} for _, conf in confs]
    conf = {**base, **agreed, "persons": persons}
    rows = [number for number, _ in confs]
    found = validate_layoff_case(conf, deployment_defaults=True)
    found.extend(p for p in separation_problems(conf, "layoff", triggered_by=triggered_by) if p not in found)
    problems.extend(differing)
    unsaid = [p for p in found if _top_field(p) not in {d.field for d in differing}]
    problems.extend(_on_rows(p, rows, headers) for p in unsaid)
    problems.sort(key=lambda p: (p.row is not None, p.row or 0))
    try:
        case_id: str | None = layoff_case_id(conf)
    except ValueError:
        case_id = None
    return LayoffPlan(conf, case_id, rows, problems)


def _top_field(problem: FieldProblem) -> str:
    """``persons[3].userid`` → ``persons``; ``notify.userids[0]`` → ``notify``."""
    return problem.field.split(".")[0].split("[")[0]
