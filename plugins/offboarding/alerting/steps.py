"""What the watchdog looks at: the steps of open cases that are waiting or failed, as plain data.

A :class:`WatchedStep` is one task instance of an offboarding DAG in a waiting state (running,
deferred, up_for_reschedule — a parked legal wait —, awaiting_input, up_for_retry) or failed, with what the alert needs: the case, the owner,
when it started waiting, when it was expected to be done (wall clock, rehearsal time scale
applied) and a deep link into the Airflow UI. Building them needs Airflow's REST API
(:mod:`offboarding.alerting.airflow_source`); judging them does not (:mod:`offboarding.alerting.decide`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from offboarding.cases import KIND_OF_CASE_DAG
from offboarding.cases.case_ids import case_id_shown_for_run, case_kind
from offboarding.timescale import REAL_TIME, TimeScale

WAITING_STATES = ("running", "deferred", "up_for_reschedule", "awaiting_input", "up_for_retry")
FAILED_STATE = "failed"
WATCHED_STATES = (*WAITING_STATES, FAILED_STATE)

HUMAN_STEP = "human step"
LEGAL_WAIT = "legal wait"
TASK = "task"


@dataclass(frozen=True, slots=True)
class CaseInfo:
    """The case a step belongs to, read from its DAG run's conf."""

    case_id: str
    kind: str  # "person" | "company" | "layoff"
    subject: str  # "李四 (lisi)" or "某某有限公司 (91350100M000100Y43)"
    webhook_conn_id: str | None = None
    userids: tuple[str, ...] = ()
    wecom_conn_id: str = "wecom_default"
    time_scale: TimeScale = REAL_TIME

    @classmethod
    def from_conf(cls, dag_id: str, run_id: str, conf: Mapping[str, Any] | None) -> CaseInfo:
        """What the trigger form said; tolerant of partial confs (the run id stands in for the case id).

        Only for display and alerting (the cases page builds one for every open case): nothing here
        decides who may do what.
        """
        conf = conf or {}
        form_kind = case_kind(conf)
        kind = KIND_OF_CASE_DAG.get(dag_id, form_kind)
        case_id = case_id_shown_for_run(conf, run_id) if kind == form_kind else run_id
        if kind == "company":
            name, code = conf.get("company_name"), conf.get("credit_code")
        elif kind == "layoff":
            persons = conf.get("persons")
            name = conf.get("list_name")
            code = f"{len(persons)} persons" if isinstance(persons, list) else None
        else:
            name, code = conf.get("display_name"), conf.get("userid")
        subject = f"{name} ({code})" if name and code else str(name or code or run_id)
        webhook_conn_id, userids = _recipients(conf.get("notify"))
        return cls(
            case_id=case_id,
            kind=kind,
            subject=subject,
            webhook_conn_id=webhook_conn_id,
            userids=userids,
            wecom_conn_id=str(conf.get("wecom_conn_id") or "wecom_default"),
            time_scale=TimeScale.or_real_time(conf.get("time_scale")),
        )

    def notifying(self, notify: Any) -> CaseInfo:
        """This case with its alert recipients from a ``notify`` value (the form's, or its correction)."""
        webhook_conn_id, userids = _recipients(notify)
        return replace(self, webhook_conn_id=webhook_conn_id, userids=userids)


def _recipients(notify: Any) -> tuple[str | None, tuple[str, ...]]:
    """(webhook connection id, WeCom userids) of a ``notify`` value; nothing for anything else."""
    if not isinstance(notify, Mapping):
        return None, ()
    userids = notify.get("userids") or []
    return notify.get("webhook_conn_id") or None, tuple(str(u) for u in userids if isinstance(u, str) and u)


@dataclass(frozen=True)
class WatchedStep:
    """One task instance the watchdog judges."""

    dag_id: str
    run_id: str
    task_id: str
    try_number: int
    state: str
    case: CaseInfo
    kind: str = TASK  # HUMAN_STEP | LEGAL_WAIT | TASK
    map_index: int = -1
    started_at: dt.datetime | None = None
    expected_by: dt.datetime | None = None  # wall clock; None: cannot tell, never judged stalled
    owners: tuple[str, ...] = ()
    link: str = ""
    case_link: str = ""  # the case on the cases page (its timeline), from Airflow's [api] base_url
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The alert-state key: one per (dag_id, run_id, task_id, map_index, try)."""
        return "|".join((self.dag_id, self.run_id, self.task_id, str(self.map_index), str(self.try_number)))

    @property
    def phase(self) -> str:
        """The task group the step is in (``statutory_steps``), or ``""`` at the top level."""
        return self.task_id.rpartition(".")[0]

    @property
    def step_id(self) -> str:
        """The step's own id without its groups (``stop_social_insurance``)."""
        return self.task_id.rpartition(".")[2]

    @property
    def failed(self) -> bool:
        return self.state == FAILED_STATE
