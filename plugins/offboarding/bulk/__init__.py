"""Bulk triggering: one case per row of an HR export (CSV or XLSX), validated before anything starts.

``read_sheet`` → ``plan_cases`` (column aliases, value conversion, validation, duplicates) →
``trigger_plan`` (one run per case, run id = case id, 409 = already triggered) → ``render_report``.
The ``offboarding bulk-trigger`` command (``offboarding.bulk.command``) wires them together.
With ``--one-case <list id>`` the whole sheet is one ``offboard_layoff`` case instead: ``plan_layoff`` →
``trigger_layoff`` → ``render_layoff_report``.
"""

from __future__ import annotations

from offboarding.bulk.layoff_plan import LayoffPlan, plan_layoff
from offboarding.bulk.layoff_trigger import LayoffResult, render_layoff_report, trigger_layoff
from offboarding.bulk.plan import BulkPlan, PlannedCase, case_kind_for, plan_cases
from offboarding.bulk.report import render_report
from offboarding.bulk.sheet import Sheet, SheetError, SheetRow, read_sheet
from offboarding.bulk.trigger import BulkReport, CaseResult, Outcome, trigger_plan

__all__ = [
    "BulkPlan",
    "BulkReport",
    "CaseResult",
    "LayoffPlan",
    "LayoffResult",
    "Outcome",
    "PlannedCase",
    "Sheet",
    "SheetError",
    "SheetRow",
    "case_kind_for",
    "plan_cases",
    "plan_layoff",
    "read_sheet",
    "render_layoff_report",
    "render_report",
    "trigger_layoff",
    "trigger_plan",
]
