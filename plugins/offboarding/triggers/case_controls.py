"""The triggerer side of a legal hold: wait until the case is released (or rescinded), then wake the task.

Only waits: every ``poll_interval_seconds`` it reads the case's controls from the plugin's REST endpoint
(``GET /offboarding/api/cases/{case_id}``, with the Connection ``offboarding_airflow_api``, looked up
asynchronously) and fires once the hold is gone. No side effects; one log line per change, not per poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from offboarding.triggers.arguments import poll_seconds, require_names

CLASSPATH = "offboarding.triggers.case_controls.CaseReleasedTrigger"
RELEASED = "released"
RESCINDED = "rescinded"
ERROR = "error"


class CaseReleasedTrigger(BaseTrigger):
    """Fires ``{"status": "released"}`` when the case's hold is released, ``"rescinded"`` when it was rescinded.

    :param case_id: the case (``GET /offboarding/api/cases/{case_id}``).
    :param run_id: the case's run (the answer must be about it).
    :param conn_id: the Connection holding the read-only REST credential.
    :param poll_interval_seconds: seconds between two reads.
    :param what: the held step in the user's words ("deleting lisi"), for the log.

    ``{"status": "error", "message": ...}`` when the controls cannot be read in a way waiting cannot fix
    (connection missing, user refused, case unknown); a busy or unreachable api-server is read again.
    """

    def __init__(
        self, case_id: str, run_id: str, conn_id: str, poll_interval_seconds: float, what: str = ""
    ) -> None:
        super().__init__()
        require_names(case_id=case_id, run_id=run_id, conn_id=conn_id)
        interval = poll_seconds(poll_interval_seconds)
        self.case_id = case_id
        self.run_id = run_id
        self.conn_id = conn_id
        self.poll_interval_seconds = interval
        self.what = str(what)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            CLASSPATH,
            {
                "case_id": self.case_id,
                "run_id": self.run_id,
                "conn_id": self.conn_id,
                "poll_interval_seconds": self.poll_interval_seconds,
                "what": self.what,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk import BaseHook

        from offboarding.airflow_api import AirflowApiError, AirflowAuthError, NotFound
        from offboarding.cases.lifecycle import CaseControls
        from offboarding.hooks.airflow_rest import api_from_connection

        self.log.info(
            "%s waits while case %s is on hold; reading its controls every %.1f s",
            self.what or "The step",
            self.case_id,
            self.poll_interval_seconds,
        )
        try:
            conn = await BaseHook.aget_connection(self.conn_id)
            api = api_from_connection(
                conn, self.conn_id, needed_for=f"case {self.case_id}'s hold cannot be watched"
            )
        except Exception as err:  # missing or unusable connection: nothing a wait can fix
            yield TriggerEvent({"status": ERROR, "message": f"{type(err).__name__}: {err}"})
            return
        try:
            while True:
                try:
                    data = await asyncio.to_thread(api.get_case, self.case_id)
                    controls = CaseControls.from_json(data)
                except (AirflowAuthError, NotFound) as err:
                    yield TriggerEvent({"status": ERROR, "message": str(err)})
                    return
                except (AirflowApiError, ValueError) as err:
                    self.log.warning(
                        "Reading case %s failed for now (%s); trying again later", self.case_id, err
                    )
                else:
                    if controls.run_id != self.run_id:
                        yield TriggerEvent(
                            {
                                "status": ERROR,
                                "message": f"case {self.case_id} now answers for run {controls.run_id!r}",
                            }
                        )
                        return
                    if controls.rescinded:
                        yield TriggerEvent({"status": RESCINDED, "case_id": self.case_id})
                        return
                    if not controls.held:
                        yield TriggerEvent({"status": RELEASED, "case_id": self.case_id})
                        return
                await asyncio.sleep(self.poll_interval_seconds)
        finally:
            api.close()
