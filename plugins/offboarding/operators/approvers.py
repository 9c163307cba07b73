"""Who may approve, and the approval that counts: Airflow's own record of the approval task.

**Deployment lists.** :func:`deployment_roster` reads the Airflow Variables ``offboarding_approvers``
and ``offboarding_hr_owners`` (JSON lists of Airflow user names), each falling back to ``approvals``
in the policy (``include/policy.yaml`` / ``OFFBOARDING_POLICY_FILE``). A list declared nowhere
refuses every case (:func:`check_separation_of_duties`, called by ``check_case``, the approval task
and the deletion tasks). The rules themselves are in :mod:`offboarding.cases.approvers`.

**The approval that counts** (:func:`check_airflow_approval`, called inside ``delete_member`` and
each ``offboard_member_batch`` before any WeCom write): Airflow's human-in-the-loop record of the
approval task *of the same DAG run*, read through Airflow's public REST API
(``GET /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/{task}/-1/hitlDetails``) with the deployment
credential in the Connection ``offboarding_airflow_api`` (``OFFBOARDING_AIRFLOW_API_CONN_ID``; host =
the api-server URL, login/password of a read-only user, e.g. SimpleAuthManager role ``viewer``), must
say: a response was received, the option chosen is *Approve*, the responder is one of the task's
assigned users and may approve this case (on the deployment list, not the trigger user, the person, the
successor, nor a company's legal representative). The ledger's ``approval.approved`` entry must carry
this run's id, the id of that same task instance (so a ledger entry written by hand, or copied from
another run, does not match) and the sha256 of the backup manifest verified when the approver answered
(a re-backup after the approval voids it); Airflow's ``responded_at`` must be after the backup was
verified.

Why the REST API and not the task SDK: in Airflow 3.3.2 a task cannot read another task's
human-in-the-loop record. ``airflow.sdk.execution_time.hitl.get_hitl_detail_content_detail(ti_id)`` is
answered ``400 Unhandled request`` by the supervisor (it forwards no ``GetHITLDetailResponse``), and the
Execution API route ``GET /execution/hitlDetails/{ti_id}`` is guarded by the ``ti:self`` scope (a task's
token only opens its own task instance); tasks have no ORM access (blocked in the worker). XCom is no
proof: a user with DAG edit rights can write it over REST. The ledger alone is no proof either: anyone
with file access can rewrite it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow.sdk import Context
from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case

if TYPE_CHECKING:
    from offboarding.cases.approvers import Roster

APPROVE = "Approve"
APPROVED_ACTION = "approval.approved"
REJECTED_ACTION = "approval.rejected"
NOT_COUNTED_ACTION = "approval.not_counted"
APPROVAL_TASK_IDS = {
    "person": "approve_deletion",
    "company": "approve_member_deletion",
    "layoff": "approve_member_deletion",
}
"""The approval task of each kind of case (top-level task ids of the case DAGs)."""


# -- the deployment's lists ---------------------------------------------------------------------------


def _variable_list(key: str) -> list[str] | None:
    """A JSON list of user names from an Airflow Variable; None when the Variable is not set."""
    from airflow.sdk import Variable

    try:
        raw = Variable.get(key, default=None)
    except Exception:  # no Variable backend reachable: treat as not declared (the case is refused)
        return None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise AirflowFailException(
            f"Airflow Variable {key} must be a JSON list of Airflow user names, e.g. "
            f'["approver_li", "approver_wang"]; got {str(raw)[:80]!r}'
        ) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AirflowFailException(
            f"Airflow Variable {key} must be a JSON list of Airflow user names, got {value!r}"
        )
    return value


def deployment_roster() -> Roster:
    """The approver and HR-owner lists: Airflow Variables first, then ``approvals`` in the policy."""
    from offboarding.cases.approvers import APPROVERS_VARIABLE, HR_OWNERS_VARIABLE, Roster
    from offboarding.policy import PolicyError, get_policy

    try:
        fallback = get_policy().approvals
    except PolicyError as err:
        raise AirflowFailException(str(err)) from None
    approvers = _variable_list(APPROVERS_VARIABLE)
    hr_owners = _variable_list(HR_OWNERS_VARIABLE)
    sources = [
        f"Variable {APPROVERS_VARIABLE}" if approvers is not None else "policy approvals.approvers",
        f"Variable {HR_OWNERS_VARIABLE}" if hr_owners is not None else "policy approvals.hr_owners",
    ]
    return Roster.of(
        approvers if approvers is not None else fallback.approvers,
        hr_owners if hr_owners is not None else fallback.hr_owners,
        source=", ".join(sources),
    )


def check_separation_of_duties(case: Case, what: str = "the case") -> Roster:
    """The roster, once the case breaks no separation-of-duties rule; AirflowFailException otherwise."""
    from offboarding.cases.approvers import separation_problems

    roster = deployment_roster()
    problems = separation_problems(case.conf, case.kind, triggered_by=case.triggered_by, roster=roster)
    if problems:
        raise AirflowFailException(
            f"{what} is refused (separation of duties): "
            + "; ".join(str(p) for p in problems)
            + ". Trigger the case again with other approvers/HR owner, or have an administrator fix the list"
        )
    return roster


# -- Airflow's record of the approval ------------------------------------------------------------------


@dataclass(frozen=True)
class HumanStepRecord:
    """What Airflow recorded for one human-in-the-loop task instance."""

    ti_id: str
    run_id: str
    assigned: tuple[str, ...]
    response_received: bool
    responded_by: str | None
    responded_at: dt.datetime | None
    chosen_options: tuple[str, ...]

    @classmethod
    def from_rest(cls, detail: Mapping[str, Any]) -> HumanStepRecord:
        """From ``GET .../hitlDetails`` of Airflow's public REST API."""
        ti = detail.get("task_instance") or {}
        responder = detail.get("responded_by_user") or {}
        at = detail.get("responded_at")
        return cls(
            ti_id=str(ti.get("id") or ""),
            run_id=str(ti.get("dag_run_id") or ""),
            assigned=tuple(str(u.get("id")) for u in detail.get("assigned_users") or [] if u.get("id")),
            response_received=bool(detail.get("response_received")),
            responded_by=str(responder["id"]) if responder.get("id") else None,
            responded_at=_instant(at),
            chosen_options=tuple(str(o) for o in detail.get("chosen_options") or []),
        )


def _instant(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


class ApprovalRecords(Protocol):
    """Reads Airflow's human-in-the-loop record of one task of one DAG run (None: there is none)."""

    def read(self, dag_id: str, run_id: str, task_id: str) -> HumanStepRecord | None: ...


class RestApprovalRecords:
    """:class:`ApprovalRecords` through Airflow's public REST API with the deployment credential."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def _client(self) -> Any:
        from offboarding.hooks.airflow_rest import airflow_api

        return airflow_api(
            self.conn_id, needed_for="the deletion cannot read Airflow's record of the approval"
        )

    def read(self, dag_id: str, run_id: str, task_id: str) -> HumanStepRecord | None:
        from offboarding.airflow_api import AirflowApiError, AirflowAuthError, NotFound

        with self._client() as api:
            try:
                return HumanStepRecord.from_rest(api.get_human_step(dag_id, run_id, task_id))
            except NotFound:
                return None
            except AirflowAuthError as err:
                raise AirflowFailException(
                    f"Airflow refused to show the approval record to the user of connection {self.conn_id} "
                    f"({err}); give that user read access to the DAG's human-in-the-loop details"
                ) from None
            except AirflowApiError as err:  # unreachable or busy: a retry may help
                raise RuntimeError(
                    f"cannot read Airflow's record of {task_id} in run {run_id}: {err}"
                ) from None


def approval_records() -> ApprovalRecords:
    """The deployment's reader of approval records (tests replace this function)."""
    from offboarding import settings

    return RestApprovalRecords(settings.airflow_api_conn_id())


def dag_id_of(case: Case, context: Context) -> str:
    from offboarding.cases import CASE_DAG_OF_KIND

    dag_run = context.get("dag_run")
    dag_id = getattr(dag_run, "dag_id", None)
    return str(dag_id) if dag_id else CASE_DAG_OF_KIND[case.kind]


# -- the check inside the deletion operators -----------------------------------------------------------


def latest_answer(case: Case) -> Any:
    """The ledger's last ``approval.approved`` / ``approval.rejected`` entry, or None."""
    answers = [e for e in case.ledger.entries() if e.action in (APPROVED_ACTION, REJECTED_ACTION)]
    return answers[-1] if answers else None


def check_airflow_approval(
    case: Case,
    context: Context,
    *,
    refused: str,
    manifest_sha256: str | None = None,
    backup_verified_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The proof of approval (who, when, which task instance), or AirflowFailException saying why not.

    ``manifest_sha256``: the backup manifest on disk now (a person case); the approval must have been
    given for it. ``backup_verified_at``: Airflow's answer must come after it.
    """
    from offboarding.cases.approvers import may_approve
    from offboarding.operators.controls import with_corrections

    case = with_corrections(case, ("approvers",))  # a correction accepted before the approval counts
    task_id = APPROVAL_TASK_IDS[case.kind]
    roster = check_separation_of_duties(case, refused.removesuffix(" is refused: "))
    answer = latest_answer(case)
    if answer is None or answer.action != APPROVED_ACTION:
        state = "rejected" if answer is not None else "not approved"
        raise AirflowFailException(
            refused + f"the deletion is {state} in the ledger ({APPROVED_ACTION} missing); the approvers "
            f"answer {task_id} first"
        )
    given = answer.result if isinstance(answer.result, Mapping) else {}
    if given.get("run_id") != case.run_id:
        raise AirflowFailException(
            refused
            + f"the ledger's approval (seq {answer.seq}) was given in run {given.get('run_id')!r}, not "
            f"in this run {case.run_id}: an approval counts only in the run it was given in"
        )
    if manifest_sha256 is not None and given.get("manifest_sha256") != manifest_sha256:
        raise AirflowFailException(
            refused + f"the approval (seq {answer.seq}) was given for the backup manifest "
            f"{given.get('manifest_sha256')!r}, but the verified manifest now is {manifest_sha256}: the "
            f"backup changed after the approval; clear {task_id} so the approvers approve the new backup"
        )
    dag_id = dag_id_of(case, context)
    record = approval_records().read(dag_id, case.run_id, task_id)
    if record is None:
        raise AirflowFailException(
            refused + f"Airflow has no human-in-the-loop record of {task_id} in run {case.run_id}: the "
            "approval in the ledger was not given in Airflow and does not count"
        )
    if not record.response_received or list(record.chosen_options) != [APPROVE]:
        raise AirflowFailException(
            refused + f"Airflow's record of {task_id} in run {case.run_id} is not an approval (response "
            f"received: {record.response_received}, chosen: {list(record.chosen_options)})"
        )
    if not given.get("ti_id") or record.ti_id != given.get("ti_id"):
        raise AirflowFailException(
            refused + f"the ledger's approval (seq {answer.seq}) names task instance {given.get('ti_id')!r} "
            f"but Airflow's approval of {task_id} in this run is task instance {record.ti_id}: the ledger "
            "entry was not written by that approval"
        )
    if record.responded_by is None or record.responded_by not in record.assigned:
        raise AirflowFailException(
            refused + f"{record.responded_by or 'nobody'} answered {task_id} but was not assigned to it"
        )
    why_not = may_approve(
        record.responded_by, case.conf, case.kind, triggered_by=case.triggered_by, roster=roster
    )
    if why_not is not None:
        raise AirflowFailException(refused + f"the approval does not count: {why_not}")
    if backup_verified_at is not None and (
        record.responded_at is None or record.responded_at < backup_verified_at
    ):
        raise AirflowFailException(
            refused + f"the approval was given at {record.responded_at}, before the backup was verified at "
            f"{backup_verified_at}; clear {task_id} so the approvers approve the verified backup"
        )
    return {
        "approval_seq": answer.seq,
        "approved_by": record.responded_by,
        "approved_at": record.responded_at.isoformat() if record.responded_at else None,
        "approval_ti_id": record.ti_id,
    }
