"""Close a case: the evidence bundle an auditor reads without Airflow."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Context

from offboarding.operators.base import Case, CaseOperator


class CloseCaseOperator(CaseOperator):
    """Record how the case ended, verify the ledger and render the readable report (Markdown, HTML, PDF).

    The ledger is verified with the deployment's evidence key and against every anchor recorded in
    Airflow's metadata by the upstream tasks; the report states the result and the anchor. Returns
    (as XCom) where the report is and its sha256 digests, never the report itself.
    """

    def run(self, case: Case, context: Context) -> dict[str, Any]:
        from offboarding.evidence.report import write_report

        self.record("case.closed", result={"run_id": case.run_id})
        case.ledger.recover(step=self.task_id)
        written = write_report(case.store, case.case_id, key=case.ledger_key, anchors=case.recorded_anchors())
        if not written.chain.ok:
            self.log.warning("the evidence ledger is %s", written.chain.summary_text())
        if written.pdf_problem:
            self.log.warning("the PDF evidence report was not written: %s", written.pdf_problem)
        return {"case_id": case.case_id, **written.to_dict()}
