"""Close a case: the evidence bundle an auditor reads without Airflow."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Context

from offboarding.operators.base import Case, CaseOperator


class CloseCaseOperator(CaseOperator):
    """Record how the case ended, verify the ledger chain and render the readable report."""

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.evidence.report import render_report

        self.record("case.closed", result={"run_id": case.run_id})
        chain = case.ledger.verify_chain()
        report = render_report(case.store, case.case_id)
        return {"case_id": case.case_id, "report": str(report), "ledger_ok": bool(chain.ok)}
