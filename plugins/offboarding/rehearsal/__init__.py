"""Rehearsals: run real cases against the WeCom sandbox in compressed time, with simulated people.

* ``offboarding.rehearsal.answers`` — the answer policy: what each person answers to each human step;
* ``offboarding.rehearsal.responder`` — ``Responder``: answers pending human steps through Airflow's
  REST API as the assigned users (``offboarding rehearse-responder`` on the command line);
* ``offboarding.rehearsal.samples`` — the sample cases, users and connections of ``make demo``;
* ``offboarding.rehearsal.progress`` — one line per case: where it is, who it waits for.

Nothing here imports Airflow: it talks to the api-server and the sandbox over HTTP only.
"""

from __future__ import annotations

from offboarding.rehearsal.answers import (
    Answer,
    AnswerPolicy,
    CannotAnswer,
    HumanStep,
    Override,
    Wait,
    parse_overrides,
)
from offboarding.rehearsal.responder import DEFAULT_SETTLE_SECONDS, Responder, StepReport

__all__ = [
    "DEFAULT_SETTLE_SECONDS",
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
