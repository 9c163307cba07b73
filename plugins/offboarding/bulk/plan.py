"""Turn a sheet into a plan: one case per row with its case id, conf, run note and problems.

Every row is validated before anything is triggered, with the same case schema the trigger form
uses; problems carry the row number the user sees in the sheet (header = row 1) and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from offboarding.bulk.columns import NOTE_COLUMN, convert_cell, field_for_header, is_blank
from offboarding.bulk.sheet import Sheet, SheetRow
from offboarding.cases import (
    COMPANY_CASE_SCHEMA,
    COMPANY_DAG_ID,
    PERSON_CASE_SCHEMA,
    PERSON_DAG_ID,
    FieldProblem,
    company_case_id,
    person_case_id,
    validate_company_case,
    validate_person_case,
)
from offboarding.cases.approvers import separation_problems
from offboarding.cases.person import DEPLOYMENT_DEFAULT_FIELDS


@dataclass(frozen=True)
class CaseKind:
    """What kind of case a DAG takes: its schema, validator and case-id rule."""

    name: str
    schema: Mapping[str, Any]
    validate: Callable[..., list[FieldProblem]]
    case_id: Callable[[Mapping[str, Any]], str]
    label_field: str


PERSON = CaseKind("person", PERSON_CASE_SCHEMA, validate_person_case, person_case_id, "display_name")
COMPANY = CaseKind("company", COMPANY_CASE_SCHEMA, validate_company_case, company_case_id, "company_name")
CASE_KINDS = {"person": PERSON, "company": COMPANY}
DAG_CASE_KINDS = {PERSON_DAG_ID: PERSON, COMPANY_DAG_ID: COMPANY}


@dataclass
class PlannedCase:
    """One sheet row as a case to trigger (or the reasons it cannot be)."""

    row: int
    conf: dict[str, Any]
    case_id: str | None = None
    note: str | None = None
    problems: list[FieldProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class BulkPlan:
    """All rows of one sheet, validated; ``file_problems`` block the whole sheet."""

    dag_id: str
    kind: CaseKind
    cases: list[PlannedCase]
    file_problems: list[str] = field(default_factory=list)
    #: Form field → the sheet's header for it (e.g. ``userid`` → ``工号``), for messages.
    headers: dict[str, str] = field(default_factory=dict)

    def where(self, problem: FieldProblem) -> str:
        """``userid (column 工号): ...``: the problem named by field and, if different, by column."""
        top = problem.field.split(".")[0].split("[")[0]
        header = self.headers.get(top)
        if header is None or header == problem.field:
            return str(problem)
        return f"{problem.field} (column {header}): {problem.message}"

    @property
    def valid_cases(self) -> list[PlannedCase]:
        return [c for c in self.cases if c.valid]

    @property
    def invalid_cases(self) -> list[PlannedCase]:
        return [c for c in self.cases if not c.valid]


def case_kind_for(dag_id: str, case_type: str | None = None) -> CaseKind:
    """The case kind of a DAG: from ``case_type`` if given, else from the DAG id."""
    if case_type is not None:
        if case_type not in CASE_KINDS:
            raise ValueError(f"--case-type: must be one of {', '.join(CASE_KINDS)}, got {case_type!r}")
        return CASE_KINDS[case_type]
    if dag_id not in DAG_CASE_KINDS:
        raise ValueError(f"--case-type: DAG {dag_id!r} is not a known case DAG; say 'person' or 'company'")
    return DAG_CASE_KINDS[dag_id]


def map_columns(
    sheet: Sheet,
    form: str,
    properties: Mapping[str, Any],
    required: Iterable[str],
    ignore_columns: tuple[str, ...] = (),
) -> tuple[dict[str, str], list[str]]:
    """Each used header → its form field (or ``NOTE_COLUMN``), and the problems that block the sheet.

    ``form`` names the form in messages; ``required`` are the fields that need a column (fields the
    deployment may default excepted).
    """
    ignored = {c.strip() for c in ignore_columns}
    columns: dict[str, str] = {}
    unknown: list[str] = []
    for header in sheet.headers:
        if header in ignored:
            continue
        target = field_for_header(header, properties)
        if target is None:
            unknown.append(header)
        elif target in columns.values():
            other = next(h for h, t in columns.items() if t == target)
            return {}, [f"columns {other!r} and {header!r} both fill {target}"]
        else:
            columns[header] = target
    problems = []
    if unknown:
        problems.append(
            f"unknown column(s) {', '.join(repr(u) for u in unknown)}: not a field of the {form} form "
            f"({', '.join(properties)}); rename them or pass --ignore-column"
        )
    # hr_owner / approvers may come from the deployment's defaults (the trigger form's, applied by
    # Airflow when the run is created; without one Airflow refuses the run naming the field).
    missing = [
        name for name in required if name not in columns.values() and name not in DEPLOYMENT_DEFAULT_FIELDS
    ]
    if missing:
        problems.append(f"missing column(s) for required field(s): {', '.join(missing)}")
    return columns, problems


def row_conf(
    row: SheetRow, columns: Mapping[str, str], properties: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """One row's form fields (empty cells left out, so the form's defaults apply) and its run note."""
    conf: dict[str, Any] = {}
    note: str | None = None
    for header, target in columns.items():
        value = row.cells.get(header)
        if is_blank(value):
            continue
        if target == NOTE_COLUMN:
            note = str(value).strip()
        else:
            conf[target] = convert_cell(target, value, properties[target])
    return conf, note


def plan_cases(
    sheet: Sheet,
    dag_id: str,
    kind: CaseKind,
    ignore_columns: tuple[str, ...] = (),
    triggered_by: str | None = None,
) -> BulkPlan:
    """Map the columns, convert and validate every row, and find duplicate cases.

    ``triggered_by``: the Airflow user the cases will be triggered as; a row naming them approver is
    refused (separation of duties), as the case's first task would refuse it.
    """
    properties = kind.schema["properties"]
    columns, file_problems = map_columns(
        sheet, kind.name, properties, kind.schema.get("required", []), ignore_columns
    )
    if file_problems:
        return BulkPlan(dag_id, kind, [], file_problems)

    cases: list[PlannedCase] = []
    first_row_of: dict[str, int] = {}
    for row in sheet.rows:
        conf, note = row_conf(row, columns, properties)
        planned = PlannedCase(
            row=row.number, conf=conf, note=note, problems=kind.validate(conf, deployment_defaults=True)
        )
        if triggered_by:
            planned.problems.extend(
                p
                for p in separation_problems(conf, kind.name, triggered_by=triggered_by)
                if p not in planned.problems
            )
        if "(no header)" in row.cells:
            planned.problems.append(
                FieldProblem("(no header)", "cells to the right of the last column header")
            )
        if planned.valid:
            planned.case_id = kind.case_id(conf)
            if planned.case_id in first_row_of:
                key = "userid" if kind is PERSON else "credit_code"
                planned.problems.append(
                    FieldProblem(key, f"same case as row {first_row_of[planned.case_id]} ({planned.case_id})")
                )
            else:
                first_row_of[planned.case_id] = row.number
        cases.append(planned)
    return BulkPlan(dag_id, kind, cases, headers={target: header for header, target in columns.items()})
