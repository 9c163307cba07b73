"""The case's controls, read by the task that needs them: hold, rescind, rescheduled day, corrected fields.

The record of case actions lives in Airflow's metadata database and is written only by the plugin's REST
handlers (see :mod:`offboarding.cases.lifecycle`). A task has no database access in Airflow 3, so it reads
``GET /offboarding/api/cases/{case_id}`` with the deployment's read-only REST credential (Connection
``offboarding_airflow_api``, :mod:`offboarding.hooks.airflow_rest` — the same the deletion uses for the
approval) and gets :class:`~offboarding.cases.lifecycle.CaseControls`.

It fails closed: a step that must honour a legal hold does not go on when the controls cannot be read
(connection missing, user refused, plugin not served); an api-server that is briefly unreachable costs a
retry. Tests and benchmarks replace :func:`controls_reader` (see ``offboarding_dev.testing.controls``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from airflow.sdk.exceptions import AirflowFailException

from offboarding.operators.base import Case

if TYPE_CHECKING:  # the controls' rules are imported when a task runs, not when dags/ is parsed
    from offboarding.cases.lifecycle import CaseControls

CORRECTED_FIELDS = ("successor_userid", "approvers", "hr_owner", "notify")
CONTROLS_STEP = "case_controls"
"""The ledger's ``step`` of a ``case.<action>`` entry when the reading task does not name itself."""


class ControlsReader(Protocol):
    """Reads one case's controls (what its accepted actions say now)."""

    def read(self, case_id: str, run_id: str) -> CaseControls: ...


def controls_from_json(data: Any, case_id: str, run_id: str) -> CaseControls:
    """The controls in the plugin's answer, checked to be this run's; AirflowFailException otherwise."""
    try:
        from offboarding.cases.lifecycle import CaseControls

        controls = CaseControls.from_json(data)
    except (ValueError, AttributeError) as err:
        raise AirflowFailException(
            f"the case endpoint answered something that is not case {case_id}'s controls: {err}"
        ) from None
    if controls.run_id != run_id:
        raise AirflowFailException(
            f"the case endpoint answered for case {case_id} with run {controls.run_id!r}, not this run "
            f"{run_id!r}: another case of the same id is open; this run cannot tell whether it is on hold"
        )
    return controls


class RestControlsReader:
    """:class:`ControlsReader` through the plugin's REST endpoint with the deployment credential."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def read(self, case_id: str, run_id: str) -> CaseControls:
        from offboarding.airflow_api import AirflowApiError, AirflowAuthError, NotFound
        from offboarding.hooks.airflow_rest import airflow_api

        with airflow_api(
            self.conn_id, needed_for=f"case {case_id} cannot read its controls (hold, rescind)"
        ) as api:
            try:
                data = api.get_case(case_id)
            except NotFound:
                raise AirflowFailException(
                    f"the api-server at {api.api_url} does not know case {case_id} "
                    "(GET /offboarding/api/cases/...): is the offboarding plugin installed on the api-server? "
                    "Without the case's controls a step cannot know whether a legal hold stops it"
                ) from None
            except AirflowAuthError as err:
                raise AirflowFailException(
                    f"Airflow refused to show case {case_id}'s controls to the user of connection {self.conn_id} "
                    f"({err}); give that user read access to the case DAGs"
                ) from None
            except AirflowApiError as err:  # unreachable or busy: a retry may help
                raise RuntimeError(f"cannot read the controls of case {case_id}: {err}") from None
        return controls_from_json(data, case_id, run_id)


def controls_reader() -> ControlsReader:
    """The deployment's reader of case controls (tests replace this function)."""
    from offboarding import settings

    return RestControlsReader(settings.airflow_api_conn_id())


def read_controls(case: Case, *, step: str = CONTROLS_STEP) -> CaseControls:
    """The controls of ``case`` now (one REST read); each accepted action not yet in the case's evidence
    ledger is appended to it as ``case.<action>`` (see :func:`record_case_actions`)."""
    controls = controls_reader().read(case.case_id, case.run_id)
    record_case_actions(case, controls, step=step)
    return controls


def record_case_actions(case: Case, controls: CaseControls, *, step: str = CONTROLS_STEP) -> int:
    """Append ``case.<action>`` (who, when, why, fields) for every accepted action of ``controls`` the
    ledger does not hold yet (key ``action:<id>``, so each is written once whoever reads first); returns
    how many were appended. The api-server has no access to the case folder's key: the tasks record."""
    appended = 0
    for action in controls.history:
        name, key = f"case.{action.action}", f"action:{action.id}"
        if case.ledger.has_action(name, key):
            continue
        case.ledger.append(
            name,
            actor=action.by_user or "unknown",
            step=step,
            key=key,
            request={"action_id": action.id, "reason": action.reason, "fields": dict(action.fields)},
            result={"at": action.at.isoformat(), "outcome": action.outcome, "run_id": controls.run_id},
        )
        appended += 1
    return appended


def with_corrections(case: Case, fields: Iterable[str] = CORRECTED_FIELDS, *, log: Any = None) -> Case:
    """``case`` with the form fields ``fields`` replaced by their accepted corrections, if any.

    ``controls.corrected(field, form_value)`` for each field: the latest accepted ``correct`` action wins
    over the trigger form. A step that uses the successor, the approvers, the HR owner or the people to
    notify calls this first, so a correction made before it ran is what it uses.
    """
    controls = read_controls(case)
    conf = dict(case.conf)
    changed = {}
    for name in fields:
        value = controls.corrected(name, conf.get(name))
        if value != conf.get(name):
            changed[name] = value
            conf[name] = value
    if not changed:
        return case
    if log is not None:
        log.info(
            "using corrected fields of case %s: %s",
            case.case_id,
            ", ".join(f"{k}={v!r}" for k, v in changed.items()),
        )
    return dataclasses.replace(case, conf=conf)


def corrected_owner(context: Any, assignees: Any) -> Any:
    """A human step's ``assignees``, with the HR owner corrected when they are the form's ``hr_owner``.

    The HR steps are assigned ``{{ params.hr_owner }}``; once rendered, an owner equal to the form's
    ``hr_owner`` is replaced by its accepted correction. Other owners are returned as they are (no read).
    """
    params = context.get("params") or {}
    form_owner = params.get("hr_owner")
    if not form_owner or not isinstance(assignees, str) or assignees.strip() != str(form_owner).strip():
        return assignees
    return corrected(Case.from_context(context), "hr_owner") or assignees


def effective_last_working_day(case: Case) -> Any:
    """The case's last working day: the last accepted reschedule, else the form's ``last_working_day``."""
    return read_controls(case).effective_last_working_day(case.conf.get("last_working_day"))


def corrected(case: Case, field_name: str) -> Any:
    """One form field of ``case`` as corrected (``controls.corrected(field, form_value)``)."""
    return read_controls(case).corrected(field_name, case.conf.get(field_name))
