"""Rehearsals: run real cases against the WeCom sandbox in compressed time, with simulated people.

* ``offboarding_dev.rehearsal.answers`` — the answer policy: what each person answers to each human step;
* ``offboarding_dev.rehearsal.responder`` — ``Responder``: answers pending human steps through Airflow's
  REST API as the assigned users (``offboarding-dev rehearse-responder`` on the command line);
* ``offboarding_dev.rehearsal.samples`` — the sample cases, users and connections of ``make demo``;
* ``offboarding_dev.rehearsal.progress`` — one line per case: where it is, who it waits for;
* ``offboarding_dev.rehearsal.guards`` — what keeps the responder off production: rehearsal time, the
  sandbox's identity, a loopback Airflow.

Nothing here imports Airflow: it talks to the api-server and the sandbox over HTTP only.
"""

from __future__ import annotations

from offboarding_dev.rehearsal.answers import (
    Answer,
    AnswerPolicy,
    CannotAnswer,
    HumanStep,
    Override,
    Wait,
    parse_overrides,
)
from offboarding_dev.rehearsal.responder import DEFAULT_SETTLE_SECONDS, PERSON_STAYS, Responder, StepReport

__all__ = [
    "DEFAULT_SETTLE_SECONDS",
    "PERSON_STAYS",
    "Answer",
    "AnswerPolicy",
    "CannotAnswer",
    "HumanStep",
    "Override",
    "Responder",
    "StepReport",
    "Wait",
    "parse_overrides",
]
